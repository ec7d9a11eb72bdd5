// racksmith/base: checks on short texts that more than one module puts into a path.
#pragma once

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

}  // namespace racksmith
