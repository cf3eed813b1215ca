// ASCII is lower-cased and classified through tables. A span holding non-ASCII
// bytes goes through ICU's root-locale full lower-casing (u_strToLower), which
// is what Python's str.lower() does: the same SpecialCasing mappings without
// language tailoring, and the same Final_Sigma context rule.
//
// Lower-casing a span on its own equals lower-casing the whole text because
// the only context-dependent mapping (final sigma) looks through cased and
// case-ignorable characters only: an ASCII byte that is neither (space,
// digit, most punctuation) ends every context, so spans are cut there.
#include "executors/tfidf/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "caflow/errors.hpp"

namespace caflow::tfidf {
namespace {

// scikit-learn runs on the Python that Debian 12 ships (3.11, Unicode 14.0)
// while ICU 72 implements Unicode 15.0: 4,388 code points assigned in 15.0
// (Kawi U+11F04, Kaktovik numerals U+1D2C0, CJK Extension H, ...) would be
// letters or numbers here and non-word there. Characters are judged by the
// pinned version: one assigned later is non-word. (Unicode 15.0 changed no
// property that \w depends on for the characters 14.0 already had, and added
// no case mapping; checked over every code point against Python 3.11.)
constexpr uint8_t unicode_major = 14, unicode_minor = 0;

bool assigned_by_pinned_version(UChar32 c) noexcept {
  UVersionInfo age;
  u_charAge(c, age);
  return age[0] < unicode_major || (age[0] == unicode_major && age[1] <= unicode_minor);
}

bool icu_is_word(UChar32 c) noexcept {
  if (c == '_')
    return true;
  if (!assigned_by_pinned_version(c))
    return false;
  constexpr uint32_t letters = U_GC_LU_MASK | U_GC_LL_MASK | U_GC_LT_MASK | U_GC_LM_MASK
                               | U_GC_LO_MASK;
  if (U_GET_GC_MASK(c) & letters)
    return true;
  return u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
}

// `\w` of every BMP code point, one bit each (8 KiB), so that the common
// non-ASCII case is a table lookup instead of two ICU property queries.
struct BmpWordTable {
  std::array<uint64_t, 1024> bits{};
  BmpWordTable() {
    for (UChar32 c = 0; c < 0x10000; ++c)
      if (icu_is_word(c))
        bits[c >> 6] |= uint64_t{1} << (c & 63);
  }
  bool test(UChar32 c) const noexcept { return (bits[c >> 6] >> (c & 63)) & 1; }
};

const BmpWordTable& bmp_words() {
  static const BmpWordTable table;
  return table;
}

// ASCII bytes that are neither cased nor case-ignorable: they end any
// final-sigma context. Derived from ICU rather than hard-coded (it is
// everything but letters and ' . : ^ `).
struct AsciiTables {
  std::array<bool, 128> hard_boundary{};
  AsciiTables() {
    for (int c = 0; c < 128; ++c) {
      hard_boundary[c] = !u_hasBinaryProperty(c, UCHAR_CASED)
                         && !u_hasBinaryProperty(c, UCHAR_CASE_IGNORABLE);
    }
  }
};

const AsciiTables& ascii_tables() {
  static const AsciiTables tables;
  return tables;
}

// True when no byte of [p, p + n) has its high bit set (8 bytes at a time).
bool all_ascii(const char* p, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ULL)
      return false;
  }
  for (; i < n; ++i)
    if (static_cast<unsigned char>(p[i]) & 0x80)
      return false;
  return true;
}

// ASCII lower-casing of [s, s + n) into `out`, 16 bytes at a time where the
// CPU allows (a table lookup per byte was the largest cost of lower-casing).
void lower_ascii(const char* __restrict s, size_t n, char* __restrict out) noexcept {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
    v = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), v);
  }
#endif
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out[i] = static_cast<char>(c | (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
  }
}

[[noreturn]] void icu_failure(const char* what, UErrorCode err) {
  throw Error(errc::invalid_argument,
              std::string{"TfidfVectorizer: ICU "} + what + " failed: " + u_errorName(err));
}

}  // namespace

bool is_word_code_point(int32_t c) noexcept {
  if (c < 0 || c > 0x10FFFF)
    return false;
  if (c < 0x10000)
    return bmp_words().test(c);
  return icu_is_word(c);
}

namespace detail {

const uint8_t byte_class[256] = {
  // 0x00-0x2F: controls, space, punctuation
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  // 0x30-0x3F: digits, then : ; < = > ?
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  0,
  0,
  0,
  0,
  0,
  0,
  // 0x40-0x5F: @ A-Z [ \ ] ^ _
  0,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  0,
  0,
  0,
  0,
  1,
  // 0x60-0x7F: ` a-z { | } ~ DEL
  0,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  0,
  0,
  0,
  0,
  0,
  // 0x80-0xFF: UTF-8 lead and continuation bytes (and ill-formed ones)
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
};

bool next_is_word(const char* s, size_t& i, size_t n) noexcept {
  UChar32 c;
  auto pos = static_cast<int32_t>(i);
  // ICU's macros index with int32_t; documents above 2 GiB are not expected,
  // but the length is clamped so that the macro never reads past the end.
  auto len = static_cast<int32_t>(std::min<size_t>(n, INT32_MAX));
  const auto* bytes = reinterpret_cast<const uint8_t*>(s);
  U8_NEXT(bytes, pos, len, c);  // c < 0 for an ill-formed sequence
  i = static_cast<size_t>(pos);
  return is_word_code_point(c);
}

}  // namespace detail

std::string_view Tokenizer::lower(std::string_view text) {
  const char* s = text.data();
  const size_t n = text.size();
  const auto& tables = ascii_tables();
  if (all_ascii(s, n)) {
    out_.resize(n);
    lower_ascii(s, n, out_.data());
    return out_;
  }
  out_.clear();
  out_.reserve(n + n / 8);
  size_t i = 0;
  while (i < n) {
    // A run of ASCII bytes goes through the vectorised loop in one piece.
    size_t ascii_end = i;
    while (ascii_end < n && static_cast<unsigned char>(s[ascii_end]) < 0x80)
      ++ascii_end;
    size_t base = out_.size();
    out_.resize(base + (ascii_end - i));
    lower_ascii(s + i, ascii_end - i, out_.data() + base);
    i = ascii_end;
    if (i == n)
      break;
    // A non-ASCII byte: take the span between the hard boundaries around it.
    // The ASCII bytes before it in the span were already appended one for
    // one; they are taken back and lower-cased again with the span.
    size_t begin = i;
    while (begin > 0) {
      auto p = static_cast<unsigned char>(s[begin - 1]);
      if (p >= 0x80 || tables.hard_boundary[p])
        break;
      --begin;
    }
    size_t end = i;
    while (end < n) {
      auto p = static_cast<unsigned char>(s[end]);
      if (p < 0x80 && tables.hard_boundary[p])
        break;
      ++end;
    }
    out_.resize(out_.size() - (i - begin));
    lower_with_icu(text.substr(begin, end - begin));
    i = end;
  }
  return out_;
}

void Tokenizer::lower_with_icu(std::string_view span) {
  // UTF-8 -> UTF-16: at most one code unit per byte. Ill-formed bytes become
  // U+FFFD (a non-word character), so bad input cannot derail tokenising.
  utf16_.resize(span.size());
  UErrorCode err = U_ZERO_ERROR;
  int32_t len16 = 0;
  u_strFromUTF8WithSub(utf16_.data(), static_cast<int32_t>(utf16_.size()), &len16, span.data(),
                       static_cast<int32_t>(span.size()), 0xFFFD, nullptr, &err);
  if (U_FAILURE(err))
    icu_failure("UTF-8 decoding", err);
  // Full lower-casing may lengthen the text ('İ' -> "i\u0307"): retry with
  // the size ICU asks for.
  if (lowered16_.size() < utf16_.size() + 16)
    lowered16_.resize(utf16_.size() + 16);
  int32_t lower_len = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    err = U_ZERO_ERROR;
    lower_len = u_strToLower(lowered16_.data(), static_cast<int32_t>(lowered16_.size()),
                             utf16_.data(), len16, "", &err);
    if (err != U_BUFFER_OVERFLOW_ERROR)
      break;
    lowered16_.resize(static_cast<size_t>(lower_len));
  }
  if (U_FAILURE(err))
    icu_failure("lower-casing", err);
  // UTF-16 -> UTF-8 appended to out_: at most 3 bytes per code unit.
  size_t base = out_.size();
  out_.resize(base + static_cast<size_t>(lower_len) * 3);
  int32_t len8 = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(out_.data() + base, static_cast<int32_t>(out_.size() - base), &len8,
              lowered16_.data(), lower_len, &err);
  if (U_FAILURE(err))
    icu_failure("UTF-8 encoding", err);
  out_.resize(base + static_cast<size_t>(len8));
}

}  // namespace caflow::tfidf
