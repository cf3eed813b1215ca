#include <doctest/doctest.h>

#include "caflow/executor.hpp"

using namespace caflow;

namespace {

class Tagger : public Executor {
 public:
  explicit Tagger(ExecutorContext ctx)
    : Executor(std::move(ctx)), label_(context().get("label", "tagged")) {
    on("/index", &Tagger::tag);
    on("/count", &Tagger::count);
  }

  void tag(DocumentArray& docs, const Params& params) {
    for (auto& d : docs)
      d.tags["label"] = params.get_string("label", label_);
  }

  Params count(DocumentArray& docs, const Params&) {
    return Params{{"count", static_cast<int64_t>(docs.size())}};
  }

 private:
  std::string label_;
};
CAFLOW_REGISTER_EXECUTOR(Tagger);

class WithDefault : public Executor {
 public:
  explicit WithDefault(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [](DocumentArray& docs, const Params&) {
      docs = DocumentArray{};  // replace the documents
      docs.emplace_back().text = "replaced";
      return Params::object();
    });
    on("/boom", [](DocumentArray&, const Params&) -> Params { throw std::runtime_error("boom"); });
  }
};
CAFLOW_REGISTER_EXECUTOR_AS(WithDefault, "DefaultExec");

class FailsToStart : public Executor {
 public:
  explicit FailsToStart(ExecutorContext ctx) : Executor(std::move(ctx)) {
    (void)context().get("size", int64_t{1});
  }
};
CAFLOW_REGISTER_EXECUTOR(FailsToStart);

DocumentArray two_docs() {
  DocumentArray docs;
  docs.emplace_back().text = "a";
  docs.emplace_back().text = "b";
  return docs;
}

}  // namespace

TEST_CASE("registry constructs executors by name") {
  auto& reg = ExecutorRegistry::instance();
  CHECK(reg.contains("Tagger"));
  CHECK(reg.contains("DefaultExec"));
  auto ex = reg.create(
    {.name = "tagger", .uses = "Tagger", .uses_with = Params{{"label", "from-config"}}});
  REQUIRE(ex);
  CHECK((*ex)->context().name == "tagger");
  auto docs = two_docs();
  (*ex)->handle("/index", docs, Params::object());
  CHECK(docs[0].tags.get_string("label", "") == "from-config");
  (*ex)->handle("/index", docs, Params{{"label", "per-request"}});
  CHECK(docs[1].tags.get_string("label", "") == "per-request");
}

TEST_CASE("handlers may return response parameters") {
  auto ex = ExecutorRegistry::instance().create({.name = "t", .uses = "Tagger"});
  REQUIRE(ex);
  auto docs = two_docs();
  auto out = (*ex)->handle("/count", docs, Params::object());
  CHECK(out.get_int("count", -1) == 2);
}

TEST_CASE("an unbound endpoint without a default passes through") {
  auto ex = ExecutorRegistry::instance().create({.name = "t", .uses = "Tagger"});
  REQUIRE(ex);
  auto docs = two_docs();
  auto before = docs;
  auto out = (*ex)->handle("/search", docs, Params::object());
  CHECK(docs == before);
  CHECK(out.size() == 0);
  CHECK((*ex)->binds("/index"));
  CHECK_FALSE((*ex)->binds("/search"));
  CHECK((*ex)->endpoints() == std::vector<std::string>{"/count", "/index"});
}

TEST_CASE("the default endpoint catches the rest and may replace documents") {
  auto ex = ExecutorRegistry::instance().create({.name = "d", .uses = "DefaultExec"});
  REQUIRE(ex);
  auto docs = two_docs();
  (*ex)->handle("/anything", docs, Params::object());
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].text == "replaced");
  CHECK_THROWS_WITH((*ex)->handle("/boom", docs, Params::object()), "boom");
}

TEST_CASE("unknown executor names list the known ones") {
  auto ex = ExecutorRegistry::instance().create({.name = "x", .uses = "Nope"});
  REQUIRE_FALSE(ex);
  CHECK(is(ex.error(), errc::unknown_executor));
  auto msg = error_message(ex.error());
  CHECK(msg.find("'Nope'") != std::string::npos);
  CHECK(msg.find("Tagger") != std::string::npos);
}

TEST_CASE("a constructor that throws is a start failure naming the executor") {
  auto ex = ExecutorRegistry::instance().create(
    {.name = "bad", .uses = "FailsToStart", .uses_with = Params{{"size", "big"}}});
  REQUIRE_FALSE(ex);
  CHECK(is(ex.error(), errc::executor_start_failed));
  CHECK(error_message(ex.error())
        == "bad (FailsToStart): bad: uses_with.size: expected an integer, got string");
}

TEST_CASE("context: workspace and typed lookups") {
  ExecutorContext ctx{.name = "indexer",
                      .uses = "Indexer",
                      .uses_with = Params{{"metric", "cosine"}, {"dim", 3.0}, {"exact", true}},
                      .workspace = "/tmp/ws",
                      .shard_id = 1,
                      .shards = 2};
  CHECK(ctx.executor_workspace() == "/tmp/ws/indexer");
  CHECK(ctx.get("metric", "x") == "cosine");
  CHECK(ctx.get("dim", 0) == 3);
  CHECK(ctx.get("exact", false));
  CHECK(ctx.get("ef", 1.5) == 1.5);
  CHECK_THROWS_AS((void)ctx.get("metric", 0), Error);
  CHECK(ExecutorContext{}.executor_workspace().empty());
}
