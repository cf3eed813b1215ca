#include "json/base64.hpp"

#include <array>
#include <cstdint>

namespace caflow::base64 {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t invalid = -1;

constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> out{};
  for (auto& x : out)
    x = invalid;
  for (int i = 0; i < 64; ++i)
    out[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return out;
}

constexpr auto reverse = make_reverse();

}  // namespace

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  if (auto rest = bytes.size() - i; rest > 0) {
    uint32_t n = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += rest == 2 ? alphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  // Padding is optional, but when present it must complete the last quantum.
  size_t pad = 0;
  while (pad < text.size() && pad < 2 && text[text.size() - 1 - pad] == '=')
    ++pad;
  if (pad > 0 && text.size() % 4 != 0)
    return std::nullopt;
  auto body = text.substr(0, text.size() - pad);
  // One leftover character carries only 6 bits: never a whole byte.
  if (body.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(body.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : body) {
    auto v = reverse[static_cast<uint8_t>(c)];
    if (v == invalid)
      return std::nullopt;  // also catches '=' inside the text
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xff);
    }
  }
  return out;
}

}  // namespace caflow::base64
