// Seeded generators of hostlist expressions and name lists for the differential test, and a
// batch runner for `scontrol show hostnames|hostlist`.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace racksmith::hostlist::testing {

/// Deterministic generator: the same seed gives the same cases on every machine.
class RandomHostlists {
 public:
  explicit RandomHostlists(uint64_t seed) : rng_(seed) {}

  /// A valid expression: 1-4 names joined by ',', each a literal, a name with 1-4 bracket
  /// groups (zero padding, mixed widths, 9/10 and 99/100 boundaries), or an IPv4 address
  /// with per-octet ranges. Expands to at most a few hundred names. With `whitespace`, 2-4
  /// names joined by ',', ' ', ", ", a tab or " ,\t".
  std::string Expression(bool whitespace = false);

  /// An expression Slurm rejects too: a reversed range, an empty or non-numeric range
  /// item, or text after the last bracket group.
  std::string MalformedExpression();

  /// 1-60 names built to exercise compression: runs, gaps, duplicates, out-of-order
  /// numbers, mixed zero padding, several prefixes, names without digits.
  std::vector<std::string> Names();

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }
  uint64_t InterestingNumber();
  std::string Padded(uint64_t value, int extra_zeros);
  std::string Text(int min_len, int max_len);
  std::string Group(int max_span);
  std::string Name();

  std::mt19937_64 rng_;
};

/// Runs `scontrol show <what> ARG` for every arg (what: "hostnames" or "hostlist") with a
/// throwaway slurm.conf and returns each run's stdout and stderr. Arguments without whitespace
/// are batched into two scontrol processes that read their commands from stdin.
/// A run that fails holds "Invalid hostlist" or "scontrol: error". Sets `error` (and returns
/// nothing) when scontrol cannot be run.
std::vector<std::string> RunScontrol(const std::string& what, const std::vector<std::string>& args,
                                     std::string* error);

}  // namespace racksmith::hostlist::testing
