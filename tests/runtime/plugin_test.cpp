// Executor plugins: loaded from a flow's config, served by name; failures
// name the file.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/plugin.hpp"

using namespace caflow;

TEST_CASE("a flow loads the plugins its config names and serves their executors") {
  const std::string yaml = std::string{"jtype: Flow\nwith:\n  plugins: ["}
                           + CAFLOW_TEXT_STATS_PLUGIN
                           + "]\nexecutors:\n  - name: stats\n    uses: TextStats\n"
                             "    replicas: 2\n    uses_with: {min_words: 2}\n";
  auto flow = Flow::parse(yaml, "plugin-flow.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  auto running = flow->start();
  REQUIRE_MESSAGE(running, describe(running));
  CHECK(ExecutorRegistry::instance().contains("TextStats"));

  DocumentArray docs;
  docs.emplace_back().text = "two words";
  docs.emplace_back().text = "one";
  docs.emplace_back().text = "three words here\nand a second line";
  auto tagged = running->post("/index", docs);
  REQUIRE_MESSAGE(tagged, describe(tagged));
  REQUIRE(tagged->docs.size() == 2);  // "one" is under min_words
  CHECK(tagged->docs[0].tags.get_int("words", -1) == 2);
  CHECK(tagged->docs[1].tags.get_int("words", -1) == 7);
  CHECK(tagged->docs[1].tags.get_int("lines", -1) == 2);

  auto stats = running->post("/stats", docs, {.request_size = 10});
  REQUIRE_MESSAGE(stats, describe(stats));
  CHECK(stats->parameters.get_int("words", -1) == 10);
}

TEST_CASE("loading the same plugin twice is harmless") {
  CHECK_FALSE(load_plugin(CAFLOW_TEXT_STATS_PLUGIN));
  CHECK_FALSE(load_plugin(CAFLOW_TEXT_STATS_PLUGIN));
}

TEST_CASE("a plugin that cannot load is an error naming the file and why") {
  auto err = load_plugin("/nonexistent/libnothing.so");
  REQUIRE(err);
  CHECK(is(err, errc::plugin_error));
  CHECK(error_message(err).find("/nonexistent/libnothing.so") != std::string::npos);
  CHECK(error_message(err).find("No such file") != std::string::npos);

  Flow flow;
  flow.options().plugins = {"/nonexistent/libnothing.so"};
  flow.add({.name = "x", .uses = "NoOp"});
  auto running = flow.start();
  REQUIRE_FALSE(running);
  CHECK(is(running.error(), errc::plugin_error));
}

TEST_CASE("a library without executors is refused") {
  // A library glibc always ships and caflow never maps.
  auto err = load_plugin("libutil.so.1");
  REQUIRE(err);
  CHECK(error_message(err).find("registered no executor") != std::string::npos);
}

TEST_CASE("a plugin's declared uses_with keys catch typos before anything starts") {
  const std::string yaml = std::string{"jtype: Flow\nwith:\n  plugins: ["}
                           + CAFLOW_TEXT_STATS_PLUGIN
                           + "]\nexecutors:\n  - name: stats\n    uses: TextStats\n"
                             "    uses_with: {min_word: 2}\n";
  auto flow = Flow::parse(yaml, "plugin-flow.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  auto running = flow->start();
  REQUIRE_FALSE(running);
  CHECK(is(running.error(), errc::invalid_config));
  CHECK(error_message(running.error())
        == "plugin-flow.yml:7: executors[0].uses_with.min_word: unknown key for TextStats (did "
           "you mean 'min_words'?)");
}

TEST_CASE("an executor that cannot start names its place in the config") {
  // No workspace anywhere: the Indexer refuses, and the error says where.
  auto flow = Flow::parse("executors:\n  - name: idx\n    uses: Indexer\n", "needs-ws.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  auto running = flow->start();
  REQUIRE_FALSE(running);
  auto message = error_message(running.error());
  CHECK_MESSAGE(message.rfind("needs-ws.yml:2: executors[0] (idx): ", 0) == 0, message);
  CHECK_MESSAGE(message.find("needs a workspace") != std::string::npos, message);
  CHECK_MESSAGE(message.find("uses_metas.workspace") != std::string::npos, message);
}
