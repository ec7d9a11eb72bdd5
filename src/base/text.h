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

/// What may be user information in the address `url` ("host", "host:port",
/// "scheme://host[:port]/path"): the text between the scheme and the last '@' ("user" of
/// "user@host", "user:password" of "scheme://user:password@host"); nullopt when there is no
/// '@'. Deliberately wide: a password may hold '/', '?' or '#' (which a URL parser would
/// take as the end of the host), so an '@' in a path counts too. A caller refuses more
/// addresses, never lets a password through.
inline std::optional<std::string_view> UserInfoOf(std::string_view url) {
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = url.find("://");
  start = start == std::string_view::npos || start > url.find('@') ? 0 : start + 3;
  return url.substr(start, at - start);
}

/// True when the address `url` carries credentials: any user information at all, or, where
/// a user name belongs in it (`user_allowed`: a libvirt URI's SSH user), a password. Such
/// an address would show a secret in output, logs and process lists: it is refused without
/// being quoted.
inline bool AddressHasCredentials(std::string_view url, bool user_allowed) {
  const std::optional<std::string_view> userinfo = UserInfoOf(url);
  if (!userinfo) return false;
  return !user_allowed || userinfo->find(':') != std::string_view::npos;
}

}  // namespace racksmith
