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
#include <memory>

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

// ASCII lower-casing of [s, s + n) into `out` while the bytes are ASCII,
// 16 bytes at a time where the CPU allows: returns the index of the first
// byte >= 0x80, or n. Bytes before it are lowered; up to 15 after it may be
// written too (`out` has room for n).
size_t lower_ascii_prefix(const char* __restrict s, size_t n, char* __restrict out) noexcept {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    // x - 'A' lands in [-128, -128 + 26) (with the bias) exactly for A-Z.
    __m128i upper = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x80 - 'A')),
                                   _mm_set1_epi8(-128 + 26));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20))));
    if (auto high = static_cast<uint32_t>(_mm_movemask_epi8(v)))
      return i + static_cast<size_t>(__builtin_ctz(high));
  }
#endif
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80)
      return i;
    out[i] = static_cast<char>(c | (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
  }
  return n;
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

char* Tokenizer::out_room(size_t n) {
  if (out_size_ + n > out_capacity_) {
    size_t capacity = std::max({out_capacity_ * 2, out_size_ + n, size_t{256}});
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (out_size_ > 0)
      std::memcpy(grown.get(), out_.get(), out_size_);
    out_ = std::move(grown);
    out_capacity_ = capacity;
  }
  return out_.get() + out_size_;
}

std::string_view Tokenizer::lower(std::string_view text) {
  const char* s = text.data();
  const size_t n = text.size();
  const auto& tables = ascii_tables();
  out_size_ = 0;
  // ASCII is lowered in one vectorised pass that stops at the first
  // non-ASCII byte (most texts have none).
  size_t i = lower_ascii_prefix(s, n, out_room(n));
  out_size_ = i;
  while (i < n) {
    // A non-ASCII byte: take the span between the hard boundaries around it.
    // The ASCII bytes before it in the span were already lowered one for
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
    out_size_ -= i - begin;
    lower_with_icu(text.substr(begin, end - begin));
    i = end;
    // The ASCII run after it, up to the next non-ASCII byte.
    size_t run = lower_ascii_prefix(s + i, n - i, out_room(n - i));
    out_size_ += run;
    i += run;
  }
  // Zeroed padding: a short token can be read as a whole 8-byte word.
  std::memset(out_room(lower_padding), 0, lower_padding);
  return {out_.get(), out_size_};
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
  const size_t room = static_cast<size_t>(lower_len) * 3;
  char* out = out_room(room);
  int32_t len8 = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(out, static_cast<int32_t>(room), &len8, lowered16_.data(), lower_len, &err);
  if (U_FAILURE(err))
    icu_failure("UTF-8 encoding", err);
  out_size_ += static_cast<size_t>(len8);
}

}  // namespace caflow::tfidf
