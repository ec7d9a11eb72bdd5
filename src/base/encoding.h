// racksmith/base: encodings and digests, by OpenSSL: Base64 (RFC 4648) and SHA-256.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace racksmith {

/// The bytes `in` encodes (padded standard alphabet, as HTTP Basic auth sends it), or
/// nullopt when it is not valid Base64.
std::optional<std::string> Base64Decode(std::string_view in);

/// Lower-case hex SHA-256 of `data` (component hashes, file checksums).
std::string Sha256Hex(std::string_view data);

}  // namespace racksmith
