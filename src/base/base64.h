// racksmith/base: Base64 (RFC 4648) decoding, by OpenSSL's EVP_DecodeBlock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace racksmith {

/// The bytes `in` encodes (padded standard alphabet, as HTTP Basic auth sends it), or
/// nullopt when it is not valid Base64.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace racksmith
