// racksmith/slurm: FakeSlurmControl, the in-memory SlurmControl for unit tests.
//
// Contract:
// - Knows only the nodes added with AddNode; others are kNotFound, as scontrol reports them.
// - Drain adds DRAIN and sets the reason; Resume clears DRAIN (and a DOWN base becomes IDLE),
//   and, like the real one, resuming a node already in service succeeds.
// - A node's jobs are modelled by its base state: SetBaseState("MIXED") makes a drained node
//   "draining" (IsDrained false) until the test sets it back to IDLE.
// - FailNext/FailAlways make calls for one node return an error, to test the executor's
//   handling of Slurm failures. Every call is recorded (Calls) in order.
// - Thread-safe: one mutex around everything.
#pragma once

#include <mutex>
#include <optional>

#include "slurm/slurm_control.h"

namespace racksmith::slurm {

class FakeSlurmControl final : public SlurmControl {
 public:
  /// Adds (or replaces) a node with base state `base_state` ("IDLE", "MIXED", "DOWN", ...)
  /// and no flags.
  void AddNode(const std::string& name, const std::string& base_state = "IDLE", int cpus = 64,
               const std::string& gres = "gpu:8");
  void SetBaseState(const std::string& name, const std::string& base_state);
  void SetFlags(const std::string& name, std::vector<std::string> flags);
  /// The next call naming `node` (any operation) returns `error`, once.
  void FailNext(const std::string& node, Error error);
  /// Every call naming `node` returns `error` until ClearFailures.
  void FailAlways(const std::string& node, Error error);
  void ClearFailures(const std::string& node);
  /// "drain lab-n01 reason", "resume lab-n01", "get lab-n01", in call order.
  std::vector<std::string> Calls() const;

  Status Drain(const std::string& node, const std::string& reason) override;
  Status Resume(const std::string& node) override;
  Result<NodeInfo> GetNode(const std::string& node) override;

 private:
  struct Injected {
    Error error;
    bool always;
  };
  // REQUIRES: mu_ held. The injected error for `node`, consuming a FailNext.
  std::optional<Error> TakeFailure(const std::string& node);
  NodeInfo* Find(const std::string& node);

  mutable std::mutex mu_;
  std::map<std::string, NodeInfo> nodes_;
  std::map<std::string, Injected> failures_;
  std::vector<std::string> calls_;
};

}  // namespace racksmith::slurm
