#include "storage/db_open.hpp"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/wal_filter.h>
#include <rocksdb/write_batch.h>

#include "caflow/errors.hpp"

namespace caflow::detail {

namespace {

namespace fs = std::filesystem;

// RocksDB's info LOG, written by caflow rather than by RocksDB's own
// logger: that one asserts (and aborts the process, in Debian's build) on
// the first line after a failed write, i.e. as soon as the disk is full.
// This one drops lines it cannot write. It also keeps the lines that report
// dropped WAL bytes ("...000004.log: dropping 37 bytes; Corruption: checksum
// mismatch"), which are where RocksDB says what it could not read.
class CaflowLogger : public rocksdb::Logger {
 public:
  explicit CaflowLogger(const std::string& dir)
    : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {
    auto path = fs::path{dir} / "LOG";
    std::error_code ec;
    if (fs::exists(path, ec))
      fs::rename(path, fs::path{dir} / "LOG.old", ec);  // one previous run kept
    file_ = std::fopen(path.c_str(), "ae");
  }
  ~CaflowLogger() override {
    if (file_ != nullptr)
      std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel())
      return;
    char line[2048];
    auto n = std::vsnprintf(line, sizeof line, format, ap);
    if (n < 0)
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    if (std::strstr(line, "dropping") != nullptr)
      dropped_.emplace_back(line);
    if (file_ != nullptr) {
      std::fputs(line, file_);
      if (n == 0 || line[std::min<size_t>(static_cast<size_t>(n), sizeof line - 1) - 1] != '\n')
        std::fputc('\n', file_);
      std::fflush(file_);  // errors ignored: a full disk loses log lines only
    }
  }

  std::vector<std::string> dropped() {
    std::lock_guard<std::mutex> guard{mtx_};
    return dropped_;
  }

 private:
  std::mutex mtx_;
  std::FILE* file_ = nullptr;
  std::vector<std::string> dropped_;
};

// Counts the write batches and keys replayed from each log.
class CountingFilter : public rocksdb::WalFilter {
 public:
  struct Count {
    uint64_t batches = 0;
    uint64_t keys = 0;
  };

  WalProcessingOption LogRecordFound(unsigned long long, const std::string& log_file_name,
                                     const rocksdb::WriteBatch& batch, rocksdb::WriteBatch*,
                                     bool*) override {
    auto& c = counts[fs::path{log_file_name}.filename().string()];
    ++c.batches;
    c.keys += batch.Count();
    return WalProcessingOption::kContinueProcessing;
  }
  const char* Name() const override { return "caflow-counting-filter"; }

  [[nodiscard]] Count total() const {
    Count out;
    for (const auto& [name, c] : counts) {
      out.batches += c.batches;
      out.keys += c.keys;
    }
    return out;
  }

  std::map<std::string, Count> counts;
};

class SilentLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel, const char*, va_list) override {}
};

std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(const std::string& path,
                                                         const rocksdb::Options& options) {
  std::vector<std::string> names;
  auto listed = rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (!listed.ok() || names.empty())
    names = {rocksdb::kDefaultColumnFamilyName};  // a new database
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (const auto& name : names)
    out.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  return out;
}

rocksdb::Status open_with(const std::string& path, rocksdb::Options options, bool read_only,
                          OpenedDb& out) {
  auto cfs = descriptors(path, options);
  if (read_only)
    return rocksdb::DB::OpenForReadOnly(options, path, cfs, &out.handles, &out.db);
  return rocksdb::DB::Open(options, path, cfs, &out.handles, &out.db);
}

void close(OpenedDb& opened) {
  for (auto* h : opened.handles)
    opened.db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  opened.handles.clear();
  opened.db->Close().PermitUncheckedError();  // read-only: nothing to lose
  delete opened.db;
  opened.db = nullptr;
}

// Replays the WAL read-only in `mode`, counting what it replays.
CountingFilter survey(const std::string& path, rocksdb::Options options,
                      rocksdb::WALRecoveryMode mode) {
  CountingFilter filter;
  options.wal_recovery_mode = mode;
  options.wal_filter = &filter;
  options.info_log = std::make_shared<SilentLogger>();
  OpenedDb opened;
  if (open_with(path, options, true, opened).ok())
    close(opened);
  return filter;
}

std::string plural(uint64_t n, const char* word) {
  std::string w = word;
  if (n != 1)
    w += w.back() == 'h' ? "es" : "s";
  return std::to_string(n) + " " + w;
}

// Copies the logs aside before a recovery that drops records for good.
std::string keep_logs(const std::string& path) {
  auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto dir = fs::path{path} / "lost+found" / ("wal-" + std::to_string(stamp));
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& entry : fs::directory_iterator{path, ec})
    if (entry.path().extension() == ".log")
      fs::copy_file(entry.path(), dir / entry.path().filename(),
                    fs::copy_options::overwrite_existing, ec);
  return ec ? std::string{} : dir.string();
}

bool is_no_space(const rocksdb::Status& st) {
  return st.IsNoSpace()
         || (st.IsIOError() && st.ToString().find("No space left") != std::string::npos);
}

}  // namespace

caf::expected<OpenedDb> open_db(const std::string& path, const rocksdb::Options& base,
                                const StoreOptions& store_options,
                                const std::function<void(const std::string&)>& warn) {
  auto options = base;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  std::error_code ec;
  fs::create_directories(path, ec);
  auto logger = std::make_shared<CaflowLogger>(path);
  options.info_log = logger;
  OpenedDb out;
  auto st = open_with(path, options, false, out);
  if (st.ok())
    return out;
  if (st.IsCorruption()) {
    auto all = survey(path, base, rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords).total();
    auto kept = survey(path, base, rocksdb::WALRecoveryMode::kPointInTimeRecovery).total();
    auto later_batches = all.batches > kept.batches ? all.batches - kept.batches : 0;
    auto later_keys = all.keys > kept.keys ? all.keys - kept.keys : 0;
    std::string where;
    uint64_t unreadable = 0;
    for (const auto& line : logger->dropped()) {
      where += (where.empty() ? "" : "; ") + line;
      if (auto at = line.find("dropping "); at != std::string::npos)
        unreadable += std::strtoull(line.c_str() + at + 9, nullptr, 10);
    }
    uint64_t log_bytes = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator{path, ec})
      if (entry.path().extension() == ".log")
        log_bytes += entry.file_size(ec);
    // The unreadable bytes held write batches too: estimate how many from
    // the average size of the readable ones.
    uint64_t per_batch = all.batches > 0 && log_bytes > unreadable
                           ? (log_bytes - unreadable) / all.batches
                           : 0;
    auto estimate = per_batch > 0 ? (unreadable + per_batch - 1) / per_batch : 0;
    auto damage = "the write-ahead log of " + path + " is damaged (" + st.ToString()
                  + (where.empty() ? "" : "; " + where) + "): recovery would keep the "
                  + plural(kept.batches, "write batch") + " (" + plural(kept.keys, "key")
                  + ") before the damage; " + std::to_string(unreadable) + " of the log's "
                  + std::to_string(log_bytes) + " bytes cannot be read (about "
                  + plural(estimate, "write batch") + ") and "
                  + plural(later_batches, "readable write batch") + " (" + plural(later_keys, "key")
                  + ") follow them: all of that would be lost";
    if (store_options.wal_recovery != WalRecovery::point_in_time)
      return make_error(
        errc::storage_error,
        damage
          + ". Refusing to start so that nothing is dropped silently; nothing on disk was changed. "
            "To start with what precedes the damage, set `wal_recovery: point_in_time` in the "
            "executor's uses_with (the logs are copied to lost+found/ first), or restore the "
            "directory from a backup.");
    auto kept_at = keep_logs(path);
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    st = open_with(path, options, false, out);
    if (!st.ok())
      return storage_error(st, "opening " + path + " (point-in-time recovery)");
    warn("WARNING: " + damage + ". Started with the records before the damage (wal_recovery: "
         "point_in_time); the dropped records are gone from the database"
         + (kept_at.empty() ? std::string{} : "; the original logs are in " + kept_at));
    return out;
  }
  if (is_no_space(st)) {
    auto reason = "the disk is full (" + st.ToString() + ")";
    auto ro = open_with(path, options, true, out);
    if (!ro.ok())
      return storage_error(st, "opening " + path + ": " + reason + ", and opening it read-only "
                                 "failed too (" + ro.ToString() + ")");
    out.read_only = true;
    out.read_only_reason = reason;
    warn("WARNING: " + path + ": " + reason + ": opened read-only; searches and fetches are "
         "served, writes are refused until space is freed and the flow restarted");
    return out;
  }
  return storage_error(st, "opening " + path);
}

}  // namespace caflow::detail
