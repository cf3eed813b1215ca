#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

#include "caflow/type_ids.hpp"
#include "test_documents.hpp"

using namespace caflow;

namespace {

template <class T>
T round_trip(const T& in) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = in;
  REQUIRE_FALSE(sink(copy));
  T out;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(out));
  return out;
}

}  // namespace

TEST_CASE("CAF round trip of a document with every field set") {
  auto doc = testing::full_document();
  auto back = round_trip(doc);
  CHECK(back == doc);
  CHECK(back.matches.at(0).scores.at("cosine") == doc.matches.at(0).scores.at("cosine"));
}

TEST_CASE("CAF round trip of sparse embeddings and arrays") {
  DocumentArray docs;
  for (int i = 0; i < 10; ++i) {
    auto& d = docs.emplace_back();
    d.embedding = Embedding::sparse_vector(1000, {1, 10, 999}, {0.1f, 0.2f, float(i)});
  }
  CHECK(round_trip(docs) == docs);
  CHECK(round_trip(Embedding{}) == Embedding{});
}

TEST_CASE("documents travel in messages of a configured actor system") {
  caf::actor_system_config cfg;
  add_types(cfg);
  caf::actor_system sys{cfg};
  auto msg = caf::make_message(testing::full_document());
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(msg.save(sink));
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(back.load(source));
  REQUIRE(back.match_elements<Document>());
  CHECK(back.get_as<Document>(0) == testing::full_document());
  CHECK(caf::deep_to_string(testing::full_document()).find("caflow::Document")
        != std::string::npos);
}

TEST_CASE("CAF round trip of an executor context and a request") {
  ExecutorContext ctx{.name = "indexer",
                      .uses = "Indexer",
                      .uses_with = Value{{"metric", "cosine"}, {"M", 16}},
                      .workspace = "/tmp/ws",
                      .shard_id = 1,
                      .shards = 2,
                      .replica_id = 1,
                      .replicas = 3,
                      .config_dir = "/etc/flows"};
  auto back = round_trip(ctx);
  CHECK(back.config_dir == "/etc/flows");
  CHECK(back.resolve_path("data/corpus.jsonl") == "/etc/flows/data/corpus.jsonl");
  CHECK(back.resolve_path("/abs/c.jsonl") == "/abs/c.jsonl");
  CHECK(back.name == ctx.name);
  CHECK(back.uses == ctx.uses);
  CHECK(back.uses_with == ctx.uses_with);
  CHECK(back.workspace == ctx.workspace);
  CHECK(back.shard_id == 1);
  CHECK(back.shards == 2);
  CHECK(back.replica_id == 1);
  CHECK(back.replicas == 3);
  Request req;
  req.id = "r1";
  req.endpoint = "/search";
  req.docs.push_back(testing::full_document());
  req.parameters = Value{{"top_k", 5}};
  auto req_back = round_trip(req);
  CHECK(req_back.endpoint == "/search");
  CHECK(req_back.docs == req.docs);
  CHECK(req_back.parameters == req.parameters);
}

namespace {

// new_document_id() is a per-process prefix and a counter (16 + 16 hex
// digits): the counter tells how many ids were generated in between.
uint64_t id_counter(const std::string& id) {
  REQUIRE(id.size() == 32);
  return std::stoull(id.substr(16), nullptr, 16);
}

}  // namespace

TEST_CASE("deserialising documents keeps their ids and generates none") {
  DocumentArray docs;
  docs.emplace_back().id = "a";
  docs.emplace_back().id = "";  // an empty id stays empty on the far side
  docs.emplace_back().matches.emplace_back().id = "m";
  for (int i = 0; i < 100; ++i)
    docs.emplace_back().chunks.emplace_back();
  // Generating an id per deserialised document (and overwriting it) would
  // keep every id right, so count the ids generated meanwhile: none.
  auto before = id_counter(new_document_id());
  auto back = round_trip(docs);
  auto after = id_counter(new_document_id());
  CHECK(after - before == 1);
  REQUIRE(back.size() == 103);
  CHECK(back[0].id == "a");
  CHECK(back[1].id.empty());
  CHECK(back[2].matches.at(0).id == "m");
  CHECK(back == docs);
  // Outside deserialisation, documents get fresh ids again.
  CHECK_FALSE(detail::deserializing_documents);
  CHECK_FALSE(Document{}.id.empty());
}
