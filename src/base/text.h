// racksmith/base: checks on short texts that more than one module puts into a path or an
// address.
#pragma once

#include <optional>
#include <string_view>

namespace racksmith {

/// True when `s` can stand as one path segment as it is: ASCII letters, digits, '.', '_'
/// and '-' only, and neither empty, "." nor "..". (A Redfish ComputerSystem Id put into
/// Systems/{Id}; a component's marker file name.)
inline bool IsPlainPathSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/// The user information before the host of the address `url` ("host", "host:port" or
/// "scheme://host[:port]/path"): "user" of "user@host", "user:password" of
/// "scheme://user:password@host"; nullopt when there is none. A password there would show
/// in output, logs and process lists: such addresses are refused, without being quoted.
inline std::optional<std::string_view> UserInfoOf(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view authority = url.substr(start);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  return authority.substr(0, at);
}

}  // namespace racksmith
