// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), shared by the JSON writer, which must never emit bytes a
// JSON reader refuses, and by the request decoder, which names the offending
// byte.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace caflow::utf8 {

/// The length of the well-formed sequence that starts at `s[i]` (1 to 4), or
/// 0 when none starts there.
inline size_t sequence_length(std::string_view s, size_t i) noexcept {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto c = byte(i);
  size_t n = c < 0x80                   ? 1
             : (c >= 0xc2 && c <= 0xdf) ? 2
             : (c >= 0xe0 && c <= 0xef) ? 3
             : (c >= 0xf0 && c <= 0xf4) ? 4
                                        : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80)
      return 0;
  if (n >= 3) {
    auto c1 = byte(i + 1);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90)
        || (c == 0xf4 && c1 > 0x8f))
      return 0;
  }
  return n;
}

/// The offset of the first byte that does not start a well-formed sequence.
inline std::optional<size_t> first_invalid(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size();) {
    auto n = sequence_length(s, i);
    if (n == 0)
      return i;
    i += n;
  }
  return std::nullopt;
}

}  // namespace caflow::utf8
