/// Lower-casing and tokenising exactly like scikit-learn's default analyzer.
///
/// scikit-learn's TfidfVectorizer turns a document into terms with
/// `re.findall(r"(?u)\b\w\w+\b", text.lower())`: Python's full Unicode
/// lower-casing (special casing such as 'İ' -> "i\u0307", and the final-sigma
/// rule), then every maximal run of at least two `\w` code points, where `\w`
/// is `str.isalnum()` or '_' (general categories Lu Ll Lt Lm Lo, or any code
/// point with a Unicode numeric type). This file reproduces both steps on
/// UTF-8: ASCII goes through tables, and only spans that contain non-ASCII
/// bytes go through ICU. Invalid UTF-8 never crashes: a bad byte is a
/// non-word character (U+FFFD after lower-casing).
///
///   caflow::tfidf::Tokenizer tok;
///   tok.for_each_token("Ça VA? ΟΔΟΣ x", [](std::string_view t) { ... });
///   // "ça", "va", "οδος" (the final sigma lower-cases to 'ς'); "x" is too short
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace caflow::tfidf {

/// True when code point `c` matches Python's Unicode `\w`. Thread-safe.
[[nodiscard]] bool is_word_code_point(int32_t c) noexcept;

namespace detail {

/// Byte classes for the scanner: 0 an ASCII non-word byte, 1 an ASCII `\w`
/// byte ([0-9A-Za-z_]), 2 a byte of a non-ASCII (or ill-formed) sequence.
extern const uint8_t byte_class[256];

/// Decodes the (non-ASCII) UTF-8 sequence at `s[i]`, advances `i` past it
/// (at least one byte) and returns whether it is a `\w` code point. Invalid
/// or truncated sequences are non-word.
bool next_is_word(const char* s, size_t& i, size_t n) noexcept;

}  // namespace detail

namespace detail {

/// Bit k of `word` set when byte k of a 64-byte block is an ASCII `\w` byte
/// ([0-9A-Za-z_]), of `high` when it is >= 0x80 (part of a non-ASCII or
/// ill-formed sequence).
struct BlockMasks {
  uint64_t word;
  uint64_t high;
};

/// The masks of the 64 bytes at `p`.
inline BlockMasks block_masks(const unsigned char* p) noexcept {
#if defined(__SSE2__)
  // Range checks as one signed compare each: x + (0x80 - lo) lands in
  // [-128, -128 + len) exactly when x is in [lo, lo + len). Bytes >= 0x80
  // land elsewhere, so they are never letters, digits or '_' here.
  uint64_t word = 0, high = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i letter = _mm_cmplt_epi8(_mm_add_epi8(folded, _mm_set1_epi8(0x80 - 'a')),
                                          _mm_set1_epi8(-128 + 26));
    const __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x80 - '0')),
                                         _mm_set1_epi8(-128 + 10));
    const __m128i under = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    const __m128i w = _mm_or_si128(_mm_or_si128(letter, digit), under);
    word |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(w))) << (16 * k);
    high |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(v))) << (16 * k);
  }
  return {word, high};
#else
  uint64_t word = 0, high = 0;
  for (int k = 0; k < 64; ++k) {
    word |= uint64_t{byte_class[p[k]] == 1} << k;
    high |= uint64_t{p[k] >= 0x80} << k;
  }
  return {word, high};
#endif
}

/// The masks of the block of `text` at `base`: the last, partial block is
/// classified from a zero-padded copy (NUL is a non-word byte).
inline BlockMasks block_masks_at(const unsigned char* s, size_t n, size_t base) noexcept {
  if (base + 64 <= n)
    return block_masks(s + base);
  unsigned char tail[64] = {};
  std::memcpy(tail, s + base, n - base);
  return block_masks(tail);
}

/// Calls `f(token)` for each token of the run [start, end) of `\w` and
/// non-ASCII bytes: non-ASCII code points are decoded, and those that are not
/// `\w` split the run. A sequence never spans an ASCII byte, so the run holds
/// every byte its code points need.
template <class F>
void split_run(const char* s, size_t start, size_t end, F& f) {
  size_t i = start;
  while (i < end) {
    const size_t token = i;
    size_t code_points = 0;
    size_t stop;
    for (;;) {
      while (i < end && static_cast<unsigned char>(s[i]) < 0x80) {
        ++i;
        ++code_points;
      }
      if (i == end) {
        stop = i;
        break;
      }
      const size_t at = i;
      if (next_is_word(s, i, end)) {
        ++code_points;
        continue;
      }
      stop = at;  // a non-word code point, already skipped
      break;
    }
    if (code_points >= 2)
      f(std::string_view{s + token, stop - token});
  }
}

}  // namespace detail

/// Calls `f(token)` for every maximal run of at least two `\w` code points of
/// `text`, which must already be lower-cased. Tokens view into `text`.
template <class F>
void for_each_word(std::string_view text, F&& f) {
  // Runs of `\w` and non-ASCII bytes are found 64 bytes at a time from the
  // blocks' masks: each run starts at one edge of `candidate` and ends at the
  // next, so a token costs two bit scans. A run of ASCII bytes only is a
  // token (when at least two long); only runs holding non-ASCII bytes are
  // decoded, by split_run.
  const char* t = text.data();
  const auto* s = reinterpret_cast<const unsigned char*>(t);
  const size_t n = text.size();
  uint64_t carry = 0;        // 1 while a run is open across a block boundary
  size_t start = 0;          // of the open run
  uint64_t high_before = 0;  // nonzero when the open run holds non-ASCII bytes
  auto close = [&](size_t from, size_t to, bool high) {
    if (high)
      detail::split_run(t, from, to, f);
    else if (to - from >= 2)
      f(std::string_view{t + from, to - from});
  };
  for (size_t base = 0; base < n; base += 64) {
    const detail::BlockMasks m = detail::block_masks_at(s, n, base);
    const uint64_t candidate = m.word | m.high;
    uint64_t edges = candidate ^ ((candidate << 1) | carry);
    const bool open = carry != 0;
    carry = candidate >> 63;
    if (open) {
      // The run open at the block's start ends at its first edge.
      if (edges == 0) {
        high_before |= m.high;
        continue;
      }
      const auto at = static_cast<unsigned>(__builtin_ctzll(edges));
      edges &= edges - 1;
      close(start, base + at, (high_before | (m.high & ((uint64_t{1} << at) - 1))) != 0);
    }
    // Edges now come in pairs (start, end), but for a run left open at the
    // block's end.
    if (m.high == 0) {
      while (edges != 0) {
        const auto a = static_cast<unsigned>(__builtin_ctzll(edges));
        edges &= edges - 1;
        if (edges == 0) {
          start = base + a;
          high_before = 0;
          break;
        }
        const auto b = static_cast<unsigned>(__builtin_ctzll(edges));
        edges &= edges - 1;
        if (b - a >= 2)
          f(std::string_view{t + base + a, b - a});
      }
    } else {
      while (edges != 0) {
        const auto a = static_cast<unsigned>(__builtin_ctzll(edges));
        edges &= edges - 1;
        if (edges == 0) {
          start = base + a;
          high_before = m.high >> a;
          break;
        }
        const auto b = static_cast<unsigned>(__builtin_ctzll(edges));
        edges &= edges - 1;
        close(base + a, base + b, ((m.high >> a) & ((uint64_t{1} << (b - a)) - 1)) != 0);
      }
    }
  }
  if (carry != 0)
    close(start, n, high_before != 0);
}

/// Lower-cases like Python's `str.lower()` and tokenises like scikit-learn.
/// Holds reusable buffers, so one instance per thread avoids allocations in
/// steady state. Not thread-safe.
class Tokenizer {
 public:
  /// Bytes readable past the end of `lower`'s result (so that a token of at
  /// most 8 bytes can be read as one 8-byte word).
  static constexpr size_t lower_padding = 8;

  /// `text` lower-cased like `str.lower()` (root locale, full case mapping,
  /// final sigma). The view points into this tokenizer and stays valid until
  /// the next call; `lower_padding` bytes after it are readable too.
  std::string_view lower(std::string_view text);

  /// Calls `f(token)` for each term of `text`; tokens view into an internal
  /// buffer valid until the next call, with `lower_padding` readable bytes
  /// after the last.
  template <class F>
  void for_each_token(std::string_view text, F&& f) {
    for_each_word(lower(text), f);
  }

 private:
  // Lower-cases `span` (which holds non-ASCII bytes) with ICU, appending to out_.
  void lower_with_icu(std::string_view span);

  // Room for `n` more bytes at the end of out_ (grown, keeping its bytes).
  char* out_room(size_t n);

  // The lower-cased text: out_size_ bytes of a buffer of out_capacity_,
  // never zero-filled (every byte handed out is written first).
  std::unique_ptr<char[]> out_;
  size_t out_size_ = 0;
  size_t out_capacity_ = 0;
  std::u16string utf16_;
  std::u16string lowered16_;
};

}  // namespace caflow::tfidf
