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

/// Calls `f(token)` for every maximal run of at least two `\w` code points of
/// `text`, which must already be lower-cased. Tokens view into `text`.
template <class F>
void for_each_word(std::string_view text, F&& f) {
  // Tight loops over runs of one ASCII class; only non-ASCII bytes leave
  // them, for a UTF-8 decode and a Unicode lookup.
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && detail::byte_class[s[i]] == 0)
      ++i;
    const size_t start = i;
    size_t code_points = 0;
    size_t end;
    for (;;) {
      const size_t run = i;
      while (i < n && detail::byte_class[s[i]] == 1)
        ++i;
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
