#include "support/golden.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "support/cli_runner.h"

namespace racksmith::testing {

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

bool MatchesGolden(const std::string& name, const std::string& actual) {
  std::string path = SourcePath("tests/golden/" + name);
  if (std::getenv("RACKSMITH_UPDATE_GOLDEN")) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "golden file missing: " << path
              << " (run with RACKSMITH_UPDATE_GOLDEN=1 to create it)\n";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string expected = ss.str();
  if (expected == actual) return true;
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (int line = 1;; ++line) {
    bool he = static_cast<bool>(std::getline(e, el));
    bool ha = static_cast<bool>(std::getline(a, al));
    if (!he && !ha) break;
    if (!he || !ha || el != al) {
      std::cerr << "golden " << name << " differs at line " << line << ":\n  expected: "
                << (he ? el : "<end>") << "\n  actual:   " << (ha ? al : "<end>") << "\n";
      break;
    }
  }
  return false;
}

}  // namespace racksmith::testing
