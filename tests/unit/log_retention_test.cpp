// The operation log's retention rule (storage/log_retention.hpp), as plain
// logic: the count and byte bounds, the slack before a cut, the newest
// record always kept, and records found at open.
#include <doctest/doctest.h>

#include "storage/log_retention.hpp"

using caflow::LogRetention;

namespace {

// Appends records seq = first.. of `bytes` each until a cut happens; its seq.
uint64_t append_until_cut(LogRetention& keep, uint64_t& seq, uint64_t bytes) {
  for (int i = 0; i < 100000; ++i) {
    ++seq;
    auto cut = keep.cut_for(seq, bytes);
    keep.appended(seq, bytes, cut);
    if (cut != 0)
      return cut;
  }
  return 0;
}

}  // namespace

TEST_CASE("log retention: by count, cut in ranges back to the bound") {
  LogRetention keep{100, uint64_t{1} << 40};
  uint64_t seq = 0;
  auto cut = append_until_cut(keep, seq, 10);
  // Not before the count is over by the slack, then back to exactly 100.
  CHECK(seq == 100 + LogRetention::min_cut_writes + 1);
  CHECK(cut == seq - 99);
  CHECK(keep.writes() == 100);
  CHECK(keep.bytes() == 1000);
  // The next cut again after the slack.
  auto next = append_until_cut(keep, seq, 10);
  CHECK(next == seq - 99);
  CHECK(keep.writes() == 100);
}

TEST_CASE("log retention: by bytes when the records are large") {
  const uint64_t mib = uint64_t{1} << 20;
  LogRetention keep{10000, 8 * mib};
  uint64_t seq = 0;
  auto cut = append_until_cut(keep, seq, mib / 2);
  // Over 8 MiB + 1/8: at the 19th record (9.5 MiB); back to 16 records.
  CHECK(seq == 19);
  CHECK(cut == 4);
  CHECK(keep.writes() == 16);
  CHECK(keep.bytes() == 8 * mib);
  for (int i = 0; i < 1000; ++i) {
    ++seq;
    keep.appended(seq, mib / 2, keep.cut_for(seq, mib / 2));
    CHECK(keep.bytes() <= 8 * mib + mib);
  }
}

TEST_CASE("log retention: a record over the byte bound alone is kept, the rest cut") {
  LogRetention keep{10000, 1000};
  uint64_t seq = 0;
  for (; seq < 5;) {
    ++seq;
    keep.appended(seq, 100, keep.cut_for(seq, 100));
  }
  CHECK(keep.writes() == 5);
  auto cut = keep.cut_for(6, 5000);
  CHECK(cut == 6);  // everything before it
  keep.appended(6, 5000, cut);
  CHECK(keep.writes() == 1);
  CHECK(keep.bytes() == 5000);
  // The next small record cuts the big one.
  CHECK(keep.cut_for(7, 10) == 7);
  // An empty log and a record over the bound: nothing to cut.
  LogRetention empty{10, 1000};
  CHECK(empty.cut_for(1, 5000) == 0);
}

TEST_CASE("log retention: records found at open count, and clear() forgets them") {
  LogRetention keep{10, 1 << 20};
  for (uint64_t seq = 1; seq <= 200; ++seq)
    keep.add_existing(seq, 1);  // a log kept under a larger bound
  CHECK(keep.writes() == 200);
  auto cut = keep.cut_for(201, 1);
  CHECK(cut == 192);  // back to 10 at once
  keep.appended(201, 1, cut);
  CHECK(keep.writes() == 10);
  keep.clear();
  CHECK(keep.writes() == 0);
  CHECK(keep.bytes() == 0);
  CHECK(keep.cut_for(300, 1) == 0);
}
