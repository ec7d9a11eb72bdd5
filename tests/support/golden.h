// Golden files for user-facing output (plans, errors, reports) under tests/golden/.
// Regenerate: RACKSMITH_UPDATE_GOLDEN=1 build/racksmith_tests, then review `git diff tests/golden`.
#pragma once

#include <string>

namespace racksmith::testing {

/// True when `actual` equals tests/golden/<name>, or when RACKSMITH_UPDATE_GOLDEN is set
/// (then the file is rewritten). On a mismatch it prints a unified-style first difference.
bool MatchesGolden(const std::string& name, const std::string& actual);

/// Replaces every occurrence of `from` in `text` with `to`: used to make outputs stable
/// (temporary directories, the source path) before comparing them with a golden file.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to);

}  // namespace racksmith::testing
