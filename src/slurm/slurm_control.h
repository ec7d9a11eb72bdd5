// racksmith/slurm: Slurm control, behind an interface (drain, resume, node state).
//
// Contract:
// - `SlurmControl` is how the executor takes nodes out of and back into Slurm. The real
//   implementation runs Debian's `scontrol` (slurm-client) with the environment it is
//   given (SLURM_CONF), parses its one-line output (`scontrol show node -o`), and never
//   goes through a shell: arguments are passed as argv.
// - Node states follow Slurm's words: the base state (IDLE, ALLOCATED, MIXED, DOWN,
//   FUTURE, UNKNOWN, ...) plus flags (DRAIN, NOT_RESPONDING "*", COMPLETING, ...).
//   "Drained" means DRAIN set and no job running (IDLE+DRAIN, DOWN+DRAIN); "draining" means
//   DRAIN set with jobs still running (ALLOCATED/MIXED+DRAIN).
// - Errors name the node and quote scontrol's own message; kNotFound for a node Slurm does
//   not know, kIo when scontrol cannot be run or the controller does not answer.
// - Thread-safe: calls may come from several executor threads at once.
// - FakeSlurmControl (fake_slurm_control.h) is the in-memory twin for unit tests.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::slurm {

/// One node as `scontrol show node -o` reports it.
struct NodeInfo {
  std::string name;
  std::string base_state;          // "IDLE", "ALLOCATED", "MIXED", "DOWN", "FUTURE", ...
  std::vector<std::string> flags;  // "DRAIN", "NOT_RESPONDING", "COMPLETING", ...
  std::string reason;              // Reason=..., without the "[user@time]" suffix
  std::vector<std::string> partitions;
  int cpus_total = 0;
  int cpus_alloc = 0;
  std::string gres;                // "gpu:8" or "gpu:a100:8(S:0-1)" as Slurm prints it
  /// Every key=value of the line, for what the fields above do not cover.
  std::map<std::string, std::string> fields;

  bool HasFlag(std::string_view flag) const;
  /// Jobs run on it, or their epilog does: ALLOCATED or MIXED, CPUs allocated, or
  /// COMPLETING. Not safe to reimage, erase or power off.
  bool RunsJobs() const;
  /// DRAIN set and nothing running (jobs have left).
  bool IsDrained() const;
  /// Taking jobs: IDLE, ALLOCATED or MIXED without DRAIN, not DOWN, not NOT_RESPONDING.
  bool IsInService() const;
  /// "IDLE+DRAIN" as scontrol prints State=.
  std::string StateText() const;
};

/// Parses the output of `scontrol show node -o [NODE...]` (one node per line; also accepts
/// the multi-line form of `scontrol show node`). InvalidInput naming the line otherwise.
Result<std::vector<NodeInfo>> ParseShowNodes(std::string_view text);

class SlurmControl {
 public:
  virtual ~SlurmControl() = default;
  /// Marks `node` DRAIN with `reason` (scontrol update NodeName=.. State=DRAIN Reason=..).
  virtual Status Drain(const std::string& node, const std::string& reason) = 0;
  /// Returns `node` to service (State=RESUME). Resuming a node that is already in service
  /// is not an error.
  virtual Status Resume(const std::string& node) = 0;
  /// The node's current state.
  virtual Result<NodeInfo> GetNode(const std::string& node) = 0;
};

struct ScontrolOptions {
  std::string scontrol = "scontrol";  // the binary (a path, or found in PATH)
  std::string slurm_conf;             // SLURM_CONF for the child; empty: inherit
  int timeout_ms = 30'000;            // per invocation; the child is killed after it
};

/// The real implementation: runs scontrol.
std::unique_ptr<SlurmControl> MakeScontrol(const ScontrolOptions& options);

}  // namespace racksmith::slurm
