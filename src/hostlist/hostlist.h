// racksmith/hostlist: Slurm hostlist expressions, parsed and printed exactly as Slurm does.
//
// Contract:
// - Expand("gpu-r01-n[01-16]") gives the 16 names in order; "a[1-3,7],b" gives a1 a2 a3 a7 b;
//   several bracket groups ("r[1-2]n[01-04]") expand as a cartesian product, leftmost slowest;
//   zero padding is kept from the range's lower bound as Slurm does; IPv4 addresses may have a
//   range per octet ("10.1.[0-1].[11-26]").
// - Compress(names) prints the shortest hostlist the way `scontrol show hostlist` prints it.
// - Malformed input is an InvalidInput error whose message names the 1-based column in the
//   expression and what was expected there; nothing throws; expansion is bounded by
//   kMaxHosts so "n[0-999999999]" is an error, not an allocation.
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
std::string Compress(const std::vector<std::string>& names);

}  // namespace racksmith::hostlist
