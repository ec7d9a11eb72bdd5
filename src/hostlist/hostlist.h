// racksmith/hostlist: Slurm hostlist expressions, parsed and printed exactly as Slurm does.
//
// Contract:
// - Expand("gpu-r01-n[01-16]") gives the 16 names in order; "a[1-3,7],b" gives a1 a2 a3 a7 b;
//   several bracket groups ("r[1-2]n[01-04]") expand as a cartesian product, leftmost slowest
//   for two groups; with three or more, Slurm's own order is kept (the last group fastest,
//   then the first, second, ...; see docs/hostlist.md); zero padding is kept from the range's
//   lower bound as Slurm does; IPv4 addresses may have a range per octet
//   ("10.1.[0-1].[11-26]"). Duplicates are kept; names are never sorted.
// - Compress(names) prints the hostlist the way `scontrol show hostlist` prints it: in the
//   given order, not sorted or de-duplicated, consecutive numbers folded into ranges.
//   Expand(Compress(names)) == names for any names Expand can produce. CompressExpression
//   does the same for an expression, exactly as `scontrol show hostlist EXPR` does.
// - Malformed input is an InvalidInput error whose message names the 1-based column in the
//   expression and what was expected there (the column is also in error().where().col, so a
//   caller can add it to the column of the YAML scalar); nothing throws; expansion is bounded
//   by kMaxHosts so "n[0-999999999]" is an error, not an allocation.
// - Thread-safe: all functions are pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::hostlist {

/// Upper bound on the number of names one expression may expand to.
inline constexpr size_t kMaxHosts = 1'000'000;

/// Expands a hostlist expression (a comma-separated list of hostlists) into names, in order,
/// duplicates kept (as `scontrol show hostnames` does).
Result<std::vector<std::string>> Expand(std::string_view expression);

/// Number of names Expand would return, without materialising them.
Result<size_t> Count(std::string_view expression);

/// The shortest hostlist for `names`, as `scontrol show hostlist` prints it.
/// REQUIRES: names are plain names (no ',', '[', ']' or whitespace) for the result to expand
/// back; an empty vector gives "".
std::string Compress(const std::vector<std::string>& names);

/// `expression` as `scontrol show hostlist EXPRESSION` prints it. Slurm folds the ranges of
/// each name's last bracket group, not the expanded names, so this can differ from
/// Compress(*Expand(expression)): "node1[00-10]" stays "node1[00-10]" where Compress of its
/// names gives "node[100-110]". Both expand to the same names.
Result<std::string> CompressExpression(std::string_view expression);

}  // namespace racksmith::hostlist
