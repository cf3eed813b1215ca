// caflow-bench reshard: `caflow reshard` 2 -> 3 on the corpus (documents
// with their text and a 64-dimensional embedding), against a plain RocksDB
// read-and-write of the same records (every key of both shards read with an
// iterator and written to a fresh database in batches of 1000), both in this
// run on copies of one database.
//
//   caflow-bench reshard [--corpus=data/spamassassin.jsonl] [--docs=N]
//
// Without the corpus file it uses N synthetic documents of the corpus's mean
// size (5.4 KB of text). Prints {"bench": "reshard", "docs", "docs_per_s",
// "rocksdb_copy_docs_per_s", "ratio", "moved", "corpus"}.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/jsonl.hpp"
#include "runtime/partition.hpp"
#include "storage/reshard.hpp"
#include "storage/shard_store.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

DocumentArray load(const std::string& path, size_t synthetic, std::string& source) {
  DocumentArray docs;
  if (fs::exists(path)) {
    auto reader = JsonlReader::open(path);
    if (!reader)
      throw Error(reader.error());
    for (;;) {
      auto batch = reader->next(1000);
      if (!batch)
        throw Error(batch.error());
      if (batch->empty())
        break;
      for (auto& d : *batch)
        docs.push_back(std::move(d));
    }
    source = path;
  } else {
    std::mt19937 rng{1};
    std::uniform_int_distribution<int> letter{'a', 'z'};
    for (size_t i = 0; i < synthetic; ++i) {
      auto& d = docs.emplace_back();
      d.id = "mail-" + std::to_string(i);
      d.text.resize(5400);
      for (auto& c : d.text)
        c = static_cast<char>(letter(rng));
    }
    source = "synthetic";
  }
  std::mt19937 rng{2};
  std::normal_distribution<float> g;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].id.empty())
      docs[i].id = "doc-" + std::to_string(i);
    std::vector<float> v(64);
    for (auto& x : v)
      x = g(rng);
    docs[i].embedding = Embedding::dense_vector(std::move(v));
  }
  return docs;
}

void build(const std::string& dir, const DocumentArray& docs) {
  std::vector<std::unique_ptr<ShardStore>> stores;
  std::vector<ShardBatch> batches(2);
  std::vector<uint64_t> labels(2, 0);
  for (uint32_t k = 0; k < 2; ++k) {
    auto s = ShardStore::open(dir, k, {});
    if (!s)
      throw Error(s.error());
    stores.push_back(std::move(*s));
  }
  for (const auto& d : docs) {
    auto k = detail::shard_of(d.id, 2);
    batches[k].put(d, labels[k]++);
  }
  for (uint32_t k = 0; k < 2; ++k)
    if (auto err = stores[k]->commit(batches[k], "building"))
      throw Error(err);
}

// Reads every record of every column family of `from` and writes it to a new
// database `to`: the floor of any reshard that reads and rewrites the data.
uint64_t plain_copy(const std::string& from, const std::string& to) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<std::string> names;
  if (auto st = rocksdb::DB::ListColumnFamilies(options, from, &names); !st.ok())
    throw Error(errc::storage_error, st.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names)
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions(options));
  std::vector<rocksdb::ColumnFamilyHandle*> in_handles;
  std::vector<rocksdb::ColumnFamilyHandle*> out_handles;
  rocksdb::DB* in = nullptr;
  rocksdb::DB* out = nullptr;
  if (auto st = rocksdb::DB::Open(options, from, cfs, &in_handles, &in); !st.ok())
    throw Error(errc::storage_error, st.ToString());
  if (auto st = rocksdb::DB::Open(options, to, cfs, &out_handles, &out); !st.ok())
    throw Error(errc::storage_error, st.ToString());
  uint64_t bodies = 0;
  for (size_t c = 0; c < in_handles.size(); ++c) {
    std::unique_ptr<rocksdb::Iterator> it{in->NewIterator(rocksdb::ReadOptions{}, in_handles[c])};
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().starts_with("d/"))
        ++bodies;
      if (!batch.Put(out_handles[c], it->key(), it->value()).ok())
        throw Error(errc::storage_error, "batching");
      if (batch.Count() >= 2000) {  // 1000 documents: body and vector
        if (!out->Write(rocksdb::WriteOptions{}, &batch).ok())
          throw Error(errc::storage_error, "writing");
        batch.Clear();
      }
    }
    if (batch.Count() > 0 && !out->Write(rocksdb::WriteOptions{}, &batch).ok())
      throw Error(errc::storage_error, "writing");
  }
  if (!out->FlushWAL(true).ok())
    throw Error(errc::storage_error, "syncing");
  for (auto* h : in_handles)
    in->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  for (auto* h : out_handles)
    out->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete in;
  delete out;
  return bodies;
}

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

}  // namespace

int run_reshard_bench(int argc, char** argv) {
  auto corpus = arg_string(argc, argv, "corpus", source_path("data/spamassassin.jsonl"));
  auto synthetic = static_cast<size_t>(arg(argc, argv, "docs", 6046));
  std::string source;
  auto docs = load(corpus, synthetic, source);
  auto root = fs::temp_directory_path() / ("caflow-bench-reshard-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  auto original = (root / "original").string();
  build(original, docs);  // closed again: the registry lets go of it
  copy_dir(original, root / "reshard");
  copy_dir(original, root / "copy-in");
  auto t0 = clock::now();
  auto report = reshard((root / "reshard").string(), 3);
  double reshard_s = seconds_since(t0);
  if (!report)
    throw Error(report.error());
  auto t1 = clock::now();
  auto copied = plain_copy((root / "copy-in").string(), (root / "copy-out").string());
  double copy_s = seconds_since(t1);
  if (copied != docs.size() || report->documents != docs.size())
    throw Error(errc::storage_error, "reshard bench: document counts differ");
  double docs_per_s = static_cast<double>(docs.size()) / reshard_s;
  double copy_per_s = static_cast<double>(docs.size()) / copy_s;
  Value out = Value::object();
  out["bench"] = "reshard";
  out["docs"] = static_cast<int64_t>(docs.size());
  out["docs_per_s"] = docs_per_s;
  out["rocksdb_copy_docs_per_s"] = copy_per_s;
  out["ratio"] = docs_per_s / copy_per_s;
  out["moved"] = static_cast<int64_t>(report->moved);
  out["corpus"] = source;
  emit(out);
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}

}  // namespace caflow::bench
