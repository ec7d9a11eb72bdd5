// Helpers for the hooks tests: hook folders with executables written as shell scripts.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace racksmith::hooks::testing {

/// Writes `dir`/`relative` with `body` and the given mode; its folders become 0755 (a test
/// run under umask 002 would otherwise make them group-writable, which hooks refuse).
inline std::string WriteHook(const std::string& dir, const std::string& relative,
                             const std::string& body, mode_t mode = 0755) {
  std::filesystem::path p = std::filesystem::path(dir) / relative;
  std::filesystem::create_directories(p.parent_path());
  for (std::filesystem::path d = p.parent_path(); d.string().size() >= dir.size();
       d = d.parent_path()) {
    chmod(d.c_str(), 0755);
    if (d.string() == dir) break;
  }
  std::ofstream(p, std::ios::binary) << body;
  chmod(p.c_str(), mode);
  return p.string();
}

inline std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline bool Exists(const std::string& path) { return std::filesystem::exists(path); }

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace racksmith::hooks::testing
