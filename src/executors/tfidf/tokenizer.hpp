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

#include <cstddef>
#include <cstdint>
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

#if defined(__SSE2__)
/// Bit k set when `p[k]` is an ASCII `\w` byte, for the 16 bytes at `p`.
/// Bytes >= 0x80 are negative as signed chars, so they are never letters,
/// digits or '_' here.
inline uint32_t word_bytes16(const unsigned char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
  const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                                       _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  const __m128i under = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), under)));
}
/// Bit k set when `p[k]` >= 0x80.
inline uint32_t high_bytes16(const unsigned char* p) noexcept {
  return static_cast<uint32_t>(
    _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
#endif

/// The first index >= i whose byte class is not `cls` (0 or 1), or n.
/// 16 bytes at a time where the CPU allows; class 2 bytes stop both scans.
template <uint8_t cls>
inline size_t skip_class(const unsigned char* s, size_t i, size_t n) noexcept {
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    uint32_t word = word_bytes16(s + i);
    uint32_t stop = cls == 0 ? (word | high_bytes16(s + i)) : (~word & 0xFFFFu);
    if (stop != 0)
      return i + static_cast<size_t>(__builtin_ctz(stop));
  }
#endif
  while (i < n && byte_class[s[i]] == cls)
    ++i;
  return i;
}

}  // namespace detail

/// Calls `f(token)` for every maximal run of at least two `\w` code points of
/// `text`, which must already be lower-cased. Tokens view into `text`.
template <class F>
void for_each_word(std::string_view text, F&& f) {
  // Runs of one ASCII class are skipped 16 bytes at a time; only non-ASCII
  // bytes leave them, for a UTF-8 decode and a Unicode lookup.
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    i = detail::skip_class<0>(s, i, n);
    const size_t start = i;
    size_t code_points = 0;
    size_t end;
    for (;;) {
      const size_t run = i;
      i = detail::skip_class<1>(s, i, n);
      code_points += i - run;
      if (i < n && detail::byte_class[s[i]] == 2) {
        const size_t at = i;
        if (detail::next_is_word(text.data(), i, n)) {
          ++code_points;
          continue;
        }
        end = at;  // a non-word code point, already skipped
        break;
      }
      end = i;  // an ASCII non-word byte or the end
      break;
    }
    if (code_points >= 2)
      f(std::string_view{text.data() + start, end - start});
  }
}

/// Lower-cases like Python's `str.lower()` and tokenises like scikit-learn.
/// Holds reusable buffers, so one instance per thread avoids allocations in
/// steady state. Not thread-safe.
class Tokenizer {
 public:
  /// `text` lower-cased like `str.lower()` (root locale, full case mapping,
  /// final sigma). The view points into this tokenizer and stays valid until
  /// the next call.
  std::string_view lower(std::string_view text);

  /// Calls `f(token)` for each term of `text`; tokens view into an internal
  /// buffer valid until the next call.
  template <class F>
  void for_each_token(std::string_view text, F&& f) {
    for_each_word(lower(text), f);
  }

 private:
  // Lower-cases `span` (which holds non-ASCII bytes) with ICU, appending to out_.
  void lower_with_icu(std::string_view span);

  std::string out_;
  std::u16string utf16_;
  std::u16string lowered16_;
};

}  // namespace caflow::tfidf
