#include "storage/log_retention.hpp"

#include <algorithm>

namespace caflow {

LogRetention::LogRetention(uint64_t max_writes, uint64_t max_bytes)
  : max_writes_(std::max<uint64_t>(max_writes, 1)), max_bytes_(std::max<uint64_t>(max_bytes, 1)) {
  // nop
}

void LogRetention::add_existing(uint64_t seq, uint64_t bytes) {
  records_.emplace_back(seq, bytes);
  bytes_ += bytes;
}

uint64_t LogRetention::cut_for(uint64_t seq, uint64_t bytes) const {
  auto writes = records_.size() + 1;
  auto total = bytes_ + bytes;
  if (writes <= max_writes_ + min_cut_writes && total <= max_bytes_ + max_bytes_ / 8)
    return 0;
  // Drop the oldest until both bounds hold, never the new record.
  size_t dropped = 0;
  while (dropped < records_.size() && (writes > max_writes_ || total > max_bytes_)) {
    total -= records_[dropped].second;
    --writes;
    ++dropped;
  }
  if (dropped == 0)
    return 0;
  return dropped < records_.size() ? records_[dropped].first : seq;
}

void LogRetention::appended(uint64_t seq, uint64_t bytes, uint64_t cut) {
  records_.emplace_back(seq, bytes);
  bytes_ += bytes;
  while (cut != 0 && !records_.empty() && records_.front().first < cut) {
    bytes_ -= records_.front().second;
    records_.pop_front();
  }
}

void LogRetention::clear() noexcept {
  records_.clear();
  bytes_ = 0;
}

}  // namespace caflow
