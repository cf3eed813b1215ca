// The tokenizer's `\w` is pinned to Unicode 14.0, the version of the Python
// (3.11) that runs the scikit-learn reference, although ICU 72 knows 15.0.
#include <doctest/doctest.h>

#include <cstdint>
#include <ios>
#include <string>
#include <vector>

#include "executors/tfidf/tokenizer.hpp"

using caflow::tfidf::is_word_code_point;
using caflow::tfidf::Tokenizer;

namespace {

std::vector<std::string> terms(const std::string& text) {
  Tokenizer tok;
  std::vector<std::string> out;
  tok.for_each_token(text, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

}  // namespace

TEST_CASE("tokenizer unicode: characters assigned after Unicode 14.0 are non-word") {
  // Unicode 15.0: Kawi letter, Kaktovik numeral, CJK Extension H, Nag
  // Mundari letter, Cyrillic modifier letter (Lo, No, Lo, Lo, Lm in ICU 72).
  for (int32_t c : {0x11F04, 0x1D2C0, 0x31350, 0x1E4D0, 0x1E030})
    CHECK_MESSAGE(!is_word_code_point(c), "U+" << std::hex << c);
  // Unicode 14.0: Toto, Vithkuqi, Ethiopic Extended-B, Cypro-Minoan.
  for (int32_t c : {0x1E290, 0x10570, 0x1E7E0, 0x12F90})
    CHECK_MESSAGE(is_word_code_point(c), "U+" << std::hex << c);
  // re.findall(r"(?u)\b\w\w+\b", ...) on Python 3.11 gives exactly these.
  CHECK(terms("ab\U00011F04cd x\U0001E290y \U0001D2C0\U0001D2C1 \u4e00\U00031350")
        == std::vector<std::string>{"ab", "cd", "x\U0001E290y"});
  // The Vithkuqi capital lower-cases (a 14.0 case pair) and stays a word.
  CHECK(terms("\U00010570\U00010570") == std::vector<std::string>{"\U00010597\U00010597"});
}

TEST_CASE("tokenizer unicode: \\w over every code point equals Python 3.11's") {
  // Count and FNV-1a (64-bit, over the code point values in order) of the
  // code points c with re.match(r"\w", chr(c)) on Python 3.11.7 (Unicode
  // 14.0.0), surrogates skipped: 133,548 code points.
  uint64_t hash = 14695981039346656037ULL;
  size_t count = 0;
  for (int32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF)
      continue;
    if (is_word_code_point(c)) {
      ++count;
      hash = (hash ^ static_cast<uint64_t>(c)) * 1099511628211ULL;
    }
  }
  CHECK(count == 133548);
  CHECK(hash == 3209174071444963269ULL);
}
