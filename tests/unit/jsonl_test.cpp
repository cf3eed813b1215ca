// JSON Lines: streaming documents in batches to and from streams and files.
#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/jsonl.hpp"
#include "tests/unit/test_documents.hpp"

using namespace caflow;

namespace {

namespace fs = std::filesystem;

// A file path under the temp directory, removed when the test ends.
struct temp_file {
  fs::path path;
  explicit temp_file(const std::string& name)
    : path(fs::temp_directory_path()
           / ("caflow-jsonl-" + std::to_string(::getpid()) + "-" + name)) {}
  ~temp_file() {
    std::error_code ignored;
    fs::remove(path, ignored);
  }
};

DocumentArray make_docs(size_t n) {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i) {
    auto& d = docs.emplace_back();
    d.id = "d" + std::to_string(i);
    d.text = "text " + std::to_string(i);
    d.embedding = Embedding::dense_vector({static_cast<float>(i), 0.5f});
  }
  return docs;
}

// Reads everything in batches of `batch`, recording the batch sizes.
DocumentArray read_all(JsonlReader& reader, size_t batch, std::vector<size_t>& sizes) {
  DocumentArray all;
  while (true) {
    auto docs = reader.next(batch);
    REQUIRE(docs);
    sizes.push_back(docs->size());
    if (docs->empty())
      return all;
    all.append(std::move(*docs));
  }
}

}  // namespace

TEST_SUITE("jsonl") {
  TEST_CASE("jsonl: write to a stream, read back in batches") {
    auto docs = make_docs(7);
    docs[3] = testing::full_document();
    std::stringstream buf;
    JsonlWriter writer(buf);
    CHECK_FALSE(writer.write(docs));
    CHECK_FALSE(writer.flush());
    auto text = buf.str();
    CHECK(std::count(text.begin(), text.end(), '\n') == 7);
    CHECK(text.find("\n") == to_json(docs[0]).size());
    for (size_t batch : {1, 3, 7, 100}) {
      std::istringstream in(text);
      JsonlReader reader(in, "mem");
      std::vector<size_t> sizes;
      CHECK(read_all(reader, batch, sizes) == docs);
      if (batch == 3)
        CHECK(sizes == std::vector<size_t>{3, 3, 1, 0});
      CHECK(reader.line() == 7);
      auto again = reader.next(batch);  // stays at the end
      REQUIRE(again);
      CHECK(again->empty());
    }
  }

  TEST_CASE("jsonl: a file round trip") {
    temp_file tmp("roundtrip.jsonl");
    auto docs = make_docs(7);
    {
      auto writer = JsonlWriter::create(tmp.path.string());
      REQUIRE(writer);
      CHECK_FALSE(writer->write(docs));
    }  // the file closes here
    auto reader = JsonlReader::open(tmp.path.string());
    REQUIRE(reader);
    std::vector<size_t> sizes;
    CHECK(read_all(*reader, 3, sizes) == docs);
    CHECK(sizes == std::vector<size_t>{3, 3, 1, 0});
  }

  TEST_CASE("jsonl: blank lines are skipped but counted") {
    std::istringstream in("\n{\"id\": \"a\"}\n   \n\t\r\n{\"id\": \"b\"}\r\n\n");
    JsonlReader reader(in, "mem");
    auto docs = reader.next(10);
    REQUIRE(docs);
    CHECK(docs->ids() == std::vector<std::string>{"a", "b"});
    CHECK(reader.line() == 6);
    CHECK(reader.next(10)->empty());
  }

  TEST_CASE("jsonl: a bad line names the source and line number") {
    std::istringstream in(
      "{\"id\": \"1\"}\n{\"id\": \"2\"}\n\n{\"id\": \"4\"}\n"
      "{\"id\": \"5\", \n{\"id\": \"6\"}\n{\"text\": 7}\n");
    JsonlReader reader(in, "docs.jsonl");
    auto first = reader.next(2);
    REQUIRE(first);
    CHECK(first->size() == 2);
    auto bad = reader.next(10);
    REQUIRE_FALSE(bad);
    CHECK(is(bad.error(), errc::invalid_json));
    auto msg = error_message(bad.error());
    CHECK(msg.rfind("docs.jsonl:5: line 1, column", 0) == 0);
    // Reading goes on after the bad line.
    auto next = reader.next(1);
    REQUIRE(next);
    CHECK(next->ids() == std::vector<std::string>{"6"});
    auto typed = reader.next(1);
    REQUIRE_FALSE(typed);
    CHECK(error_message(typed.error()) == "docs.jsonl:7: text: expected a string, got integer");
  }

  TEST_CASE("jsonl: missing files and unwritable paths are io errors") {
    auto reader = JsonlReader::open("/nonexistent-caflow-dir/docs.jsonl");
    REQUIRE_FALSE(reader);
    CHECK(is(reader.error(), errc::io_error));
    CHECK(error_message(reader.error())
          == "cannot open /nonexistent-caflow-dir/docs.jsonl: No such file or directory");
    auto writer = JsonlWriter::create("/nonexistent-caflow-dir/out.jsonl");
    REQUIRE_FALSE(writer);
    CHECK(is(writer.error(), errc::io_error));
  }

  TEST_CASE("jsonl: a failing stream is an io error") {
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    JsonlWriter writer(out);
    auto err = writer.write(make_docs(1)[0]);
    CHECK(is(err, errc::io_error));
    CHECK(is(writer.flush(), errc::io_error));
  }

  TEST_CASE("jsonl: readers and writers move") {
    temp_file tmp("moved.jsonl");
    auto created = JsonlWriter::create(tmp.path.string());
    REQUIRE(created);
    JsonlWriter writer = std::move(*created);
    CHECK_FALSE(writer.write(make_docs(2)));
    CHECK_FALSE(writer.flush());
    auto opened = JsonlReader::open(tmp.path.string());
    REQUIRE(opened);
    JsonlReader reader = std::move(*opened);
    CHECK(reader.next(5)->size() == 2);
  }

  TEST_CASE("jsonl: streams 20000 documents from a file in batches") {
    temp_file tmp("stream.jsonl");
    constexpr size_t n = 20000;
    {
      auto writer = JsonlWriter::create(tmp.path.string());
      REQUIRE(writer);
      for (size_t i = 0; i < n; ++i) {
        Document d;
        d.id = "doc-" + std::to_string(i);
        d.text = "small";
        REQUIRE_FALSE(writer->write(d));
      }
      REQUIRE_FALSE(writer->flush());
    }
    auto reader = JsonlReader::open(tmp.path.string());
    REQUIRE(reader);
    size_t seen = 0;
    size_t batches = 0;
    while (true) {
      auto docs = reader->next(1000);
      REQUIRE(docs);
      if (docs->empty())
        break;
      ++batches;
      CHECK(docs->size() == 1000);
      for (const auto& d : *docs)
        REQUIRE(d.id == "doc-" + std::to_string(seen++));
    }
    CHECK(seen == n);
    CHECK(batches == n / 1000);
    CHECK(reader->line() == n);
  }

}  // TEST_SUITE
