// Standard base64 (RFC 4648 §4): how a document's blob travels in JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace caflow::base64 {

/// Encodes `bytes` with the standard alphabet and '=' padding.
std::string encode(std::string_view bytes);

/// Decodes standard base64, with or without '=' padding. No value for any
/// other character, misplaced or excess padding, or an impossible length.
std::optional<std::string> decode(std::string_view text);

}  // namespace caflow::base64
