/// When SparseIndex folds its tiers together (sparse_index.hpp).
///
/// Three tiers of postings: the base (immutable, in the search-friendly
/// layout), the mid (a second segment in that layout, holding what was
/// written since the base was built) and the delta (per-term lists of the
/// latest writes, cheap to append to, slower to search). Two merges:
///
///   minor  delta into a new mid (mid + delta rebuilt): due when the delta
///          reaches (base + mid) / minor_share postings, and at least
///          min_postings. Costs O(mid + delta): the base is not rewritten.
///   major  everything into a new base (dropping tombstones, renumbering
///          slots densely): due when mid + delta reach base / major_share
///          (and min_postings), or when tombstoned postings are half of all.
///
/// The delta stays small beside the index (searches read little of the slow
/// layout) and the base is rewritten only every major_share-th of growth, as
/// before; the minors in between rewrite only the mid. Tombstones count
/// only for the major rule: dropping them from the mid alone would leave
/// the base's.
///
///   MergePolicy policy;                                 // the defaults
///   policy.due(base, mid, delta, dead) == MergeKind::minor
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace caflow {

/// What a merge folds (see the file comment).
enum class MergeKind : uint8_t { none, minor, major };

/// Merges installed so far, of each kind (tests and benchmarks).
struct MergeCounts {
  size_t minor = 0;
  size_t major = 0;
};

/// The numbers of the merge rule (see the file comment); tests use small
/// ones so that both merges happen often on little data.
struct MergePolicy {
  /// No merge before the delta (minor) or mid + delta (major) hold this
  /// many postings, nor a major for tombstones before that many are dead.
  /// Default: 2^16
  size_t min_postings = size_t{1} << 16;
  /// Minor when delta >= (base + mid) / minor_share; 0: never (two tiers,
  /// the rule before the mid: see flat()). Default: 32
  size_t minor_share = 32;
  /// Major when mid + delta >= base / major_share. Default: 4
  size_t major_share = 4;

  /// The merge due for tiers of `base`, `mid` and `delta` postings (live
  /// and tombstoned) of which `dead` are tombstoned; a major when both are.
  [[nodiscard]] constexpr MergeKind due(size_t base, size_t mid, size_t delta,
                                        size_t dead) const noexcept {
    const size_t all = base + mid + delta;
    if (mid + delta >= std::max(min_postings, base / std::max<size_t>(1, major_share)))
      return MergeKind::major;
    if (dead >= min_postings && 2 * dead >= all)
      return MergeKind::major;
    if (minor_share != 0 && delta >= std::max(min_postings, (base + mid) / minor_share))
      return MergeKind::minor;
    return MergeKind::none;
  }

  /// No minor merges: the delta goes into the base when it reaches a
  /// quarter of it (the rule before the mid tier; benchmarks' baseline).
  [[nodiscard]] static constexpr MergePolicy flat() noexcept {
    return MergePolicy{.min_postings = size_t{1} << 16, .minor_share = 0, .major_share = 4};
  }
};

}  // namespace caflow
