// racksmith/hostlist internal: a hostlist expression parsed into patterns, before expansion.
//
// Contract:
// - ParsePatterns splits an expression into its comma/whitespace-separated names and parses
//   each into literal text and bracket groups, or returns the first syntax error with its
//   1-based column. Parsing is linear in the expression and allocates nothing per host.
// - Each pattern knows how many names it expands to (saturated at kMaxHosts + 1), so Count
//   never materialises names and Expand can refuse an oversized expression up front.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::hostlist::internal {

/// Numbers have at most this many digits, so every value fits in uint64_t (Slurm reads up to
/// 20 digits but wraps numbers past 2^64-1 to another name; see docs/hostlist.md).
inline constexpr int kMaxDigits = 19;

/// lo..hi inclusive, printed zero-padded to `width` digits (the length of lo as written).
struct NumberRange {
  uint64_t lo = 0;
  uint64_t hi = 0;
  int width = 0;
};

/// One bracket group: "[1-3,7]" is {1-3, 7-7}.
struct Group {
  std::vector<NumberRange> ranges;
  uint64_t count = 0;  // names in the group, saturated at kMaxHosts + 1
};

/// One name of the list: texts[i] precedes groups[i]; a name without brackets is texts[0].
/// Slurm requires the last group to end the name, so there is no trailing text.
struct Pattern {
  std::vector<std::string> texts;
  std::vector<Group> groups;
  uint64_t count = 0;  // names it expands to, saturated at kMaxHosts + 1
  int column = 0;      // 1-based column where the name starts
};

/// Appends `value` in decimal, zero-padded on the left to `width` digits (as "%0*lu").
void AppendPadded(std::string& out, uint64_t value, int width);

/// The expression in double quotes for a message, cut to its first 60 characters.
std::string QuoteExpression(std::string_view expression);

/// Parses `expression`; the patterns' counts together are not checked against kMaxHosts.
Result<std::vector<Pattern>> ParsePatterns(std::string_view expression);

/// The number of names all patterns expand to, or an error naming the column of the first
/// name that takes the total past kMaxHosts.
Result<uint64_t> TotalCount(std::string_view expression, const std::vector<Pattern>& patterns);

/// The values of a group as printed, in order ("[8-10]" gives 8 9 10).
std::vector<std::string> FormatGroup(const Group& group);

/// Calls `emit` with every text that precedes the last bracket group, in Slurm's order: the
/// group before the last varies slowest, then the one before it, ..., the first fastest.
/// REQUIRES: !p.groups.empty().
void ForEachPrefix(const Pattern& p, const std::function<void(const std::string&)>& emit);

}  // namespace racksmith::hostlist::internal
