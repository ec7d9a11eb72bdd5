// racksmith/exec: the executor, which carries out a Plan and journals every step.
//
// Contract:
// - The executor never decides what to do (the plan does) and never knows how a step is
//   done (a StepDriver does). It decides when: each node's steps run as the DAG in the plan
//   allows, within the limits of ExecutorOptions (steps at once overall, nodes at once per
//   rack and per partition, firmware flashes at once per BMC vendor).
// - Rolling changes are a sliding window, not barriers: a rolled node (wave >= 1) starts, in
//   (wave, plan) order and after the ready steps of nodes in progress, as soon as each of
//   its plan rolling_groups has fewer nodes out of service than the group's budget. Out of
//   service: a rolled node from its first step until it is finished, a returning node (out
//   when the run starts) until it is finished, and either one for good once it failed. So a
//   partition or rack never has more than its max_unavailable out at any moment, and no
//   node waits for a whole wave to finish.
// - Journal: before a step starts its intent is in the store (RecordIntent), then it is
//   marked running, then its result is recorded, with the component record in the same
//   transaction on success. A step's on_start/on_success node states are recorded when it
//   starts/succeeds; a failing step puts its node in `failed` with the step's error as
//   reason, and that node's remaining steps do not run. Other nodes go on.
// - Transient failures (StepOutcome::Transient) are retried with exponential backoff, each
//   attempt journaled. A failure budget (max_failures) stops starting new nodes once more
//   nodes than it allows have failed; running steps finish. Without a budget a rolling
//   change halts at its first failed rolled node: no further rolled node starts (nodes
//   outside the rollout, wave 0, go on). A budget replaces that rule: the rollout goes on
//   while the failures are within it (and the failed nodes keep their groups' room).
// - Resume: RecoverInterruptedRun closes what a killed run left open. Steps that were in
//   flight stay journaled as running, through any number of applies that do not reach them,
//   until one checks the driver's guard before running them again: kDone records them done
//   without running them, kNotDone runs them, kUnknown runs a non-destructive step again and
//   stops a destructive one (the node goes to failed, saying what to check): a destructive
//   step is never repeated blindly. A destructive step retried after a transient failure is
//   checked by its guard the same way (the failed attempt may have reached the machine). Nodes a killed run left out of service are planned again
//   as returning nodes, so the window counts them until they are back.
// - Interrupt: level 1 (first SIGINT) starts no new step and lets running ones finish;
//   level 2 (second SIGINT) also tells running steps to give up (drivers watch it). Either
//   way the run is recorded aborted and `apply` again resumes.
// - Events go to an EventSink in order and never concurrently (from the executor's threads,
//   one at a time: a sink needs no lock of its own, and should not block for long).
// - Thread-safety: one Execute at a time per Executor. The driver is called from several
//   worker threads at once (different nodes; independent steps of one node).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/records.h"
#include "state/store.h"

namespace racksmith::exec {

/// Raised by a signal handler (async-signal-safe: one atomic), read by the executor and
/// drivers.
class Interrupt {
 public:
  void Raise() { level_.fetch_add(1, std::memory_order_relaxed); }
  int level() const { return level_.load(std::memory_order_relaxed); }
  bool StopStarting() const { return level() >= 1; }
  bool Abort() const { return level() >= 2; }

 private:
  std::atomic<int> level_{0};
};

struct StepOutcome {
  enum class Kind { kSucceeded, kFailed, kTransient };
  Kind kind = Kind::kSucceeded;
  std::string error;   // why it failed; empty on success
  std::string output;  // what the step printed or did (kept as the journal's output tail)

  static StepOutcome Ok(std::string output = {}) { return {Kind::kSucceeded, {}, std::move(output)}; }
  static StepOutcome Failed(std::string error, std::string output = {}) {
    return {Kind::kFailed, std::move(error), std::move(output)};
  }
  /// Worth retrying (connection refused while a node boots, a BMC's 503).
  static StepOutcome Transient(std::string error, std::string output = {}) {
    return {Kind::kTransient, std::move(error), std::move(output)};
  }
};

enum class GuardVerdict { kDone, kNotDone, kUnknown };
const char* GuardVerdictName(GuardVerdict verdict);  // "done", "not done", "unknown"

struct GuardResult {
  GuardVerdict verdict = GuardVerdict::kUnknown;
  std::string evidence;  // what was checked and seen ("BMC reports BIOS 2.19.1")
};

/// What a driver gets with each step.
struct StepContext {
  int64_t run_id = 0;
  const plan::NodePlan* node_plan = nullptr;
  const inventory::Node* node = nullptr;  // the inventory node (never null in Execute)
  int attempt = 1;
  int64_t deadline_ms = 0;  // Clock::MonotonicMillis by which to return; 0: none
  const Interrupt* interrupt = nullptr;
  state::Store* store = nullptr;  // for facts the step learns (BMC facts, burn-in results)
};

/// How steps are done: Redfish, SSH, playbooks, Slurm (ClusterDriver) or a fake in tests.
class StepDriver {
 public:
  virtual ~StepDriver() = default;
  /// Carries out one step. Must return by ctx.deadline_ms and soon after ctx.interrupt
  /// reaches Abort().
  virtual StepOutcome Run(const plan::Step& step, const StepContext& ctx) = 0;
  /// After a crash: did this step, started by a killed run, finish? (plan::Step::guard says
  /// what to check.) Never changes anything.
  virtual GuardResult CheckGuard(const plan::Step& step, const StepContext& ctx) = 0;
  /// What the node and its BMC have now, for `plan --refresh`: power, firmware and
  /// software versions, component markers (`components`: the node's recorded components).
  /// Never changes anything; what cannot be read goes to LiveFacts::unreadable. Default:
  /// kUnsupported.
  virtual Result<plan::LiveFacts> ReadLive(const inventory::Node& node,
                                           const std::vector<std::string>& components,
                                           const StepContext& ctx) {
    (void)node;
    (void)components;
    (void)ctx;
    return Error(ErrorCode::kUnsupported, "this driver cannot read live facts");
  }
  /// The group a firmware step of this node counts against (the BMC vendor); "" for one
  /// common group.
  virtual std::string FirmwareGroup(const inventory::Node& node) {
    (void)node;
    return {};
  }
};

// ---- Events --------------------------------------------------------------------------------

struct Event {
  enum class Type {
    kRunStarted,      // run_id, total_nodes, total_steps
    kStepStarted,     // node, step, attempt
    kStepRetrying,    // node, step, attempt (the one that failed), error, delay_ms
    kStepFinished,    // node, step, status (succeeded/failed/skipped), error, duration_ms
    kGuardChecked,    // node, step, message = verdict and evidence
    kNodeFinished,    // node, status ("done", "failed"), error
    kBudgetExceeded,  // message
    kRolloutHalted,   // node (the failed rolled node), message
    kInterrupted,     // message (level 1 or 2)
    kRunFinished,     // status (run outcome), message (summary line)
  };
  Type type = Type::kRunStarted;
  int64_t at_ms = 0;  // Clock::NowUnixMillis
  std::string node;
  const plan::Step* step = nullptr;
  int attempt = 0;
  std::string status;
  std::string error;
  std::string message;
  int64_t duration_ms = 0;
  int64_t delay_ms = 0;
  int64_t run_id = 0;
  int total_nodes = 0;
  int total_steps = 0;
};
const char* EventTypeName(Event::Type type);  // "run_started", "step_started", ...

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const Event& event) = 0;
};

// ---- Options and results -------------------------------------------------------------------

struct ExecutorOptions {
  int concurrency = 32;         // steps running at once, overall (>= 1)
  int per_rack = 0;             // nodes of one rack with a step running at once; 0: no limit
  int per_partition = 0;        // nodes of one partition with a step running; 0: no limit
  int per_firmware_group = 4;   // firmware steps at once per BMC vendor; 0: no limit
  int max_attempts = 3;         // tries per step when failures are transient (>= 1)
  int64_t backoff_ms = 2'000;   // before the first retry; doubles, at most 60 s
  int64_t step_timeout_ms = 3'600'000;  // deadline given to the driver for one attempt
  /// Stop starting new nodes once more nodes failed than this allows of the nodes with
  /// steps ("3" or "10%"). nullopt: no budget, and the first failed rolled node halts the
  /// rollout (no further rolled node starts).
  std::optional<plan::Limit> max_failures;
};

struct NodeOutcome {
  enum class Kind { kDone, kFailed, kNotStarted, kStopped };
  std::string node;
  Kind kind = Kind::kNotStarted;
  std::string error;      // why it failed or was stopped
  std::string last_step;  // id of the last step that ran
};
const char* NodeOutcomeName(NodeOutcome::Kind kind);  // "done", "failed", "not started", ...

struct RunSummary {
  int64_t run_id = 0;
  state::RunOutcome outcome = state::RunOutcome::kSucceeded;
  int nodes_done = 0, nodes_failed = 0, nodes_not_started = 0, nodes_stopped = 0;
  int steps_succeeded = 0, steps_failed = 0, steps_verified = 0, retries = 0;
  int64_t wall_ms = 0;
  std::vector<NodeOutcome> nodes;  // nodes with steps, plan order
  /// The time each step attempt spent in the executor rather than in the driver, in
  /// microseconds, averaged: from the start of the scheduler's round that started it to the
  /// driver's call (its intent's commit, a worker's wake-up), and from the driver's return
  /// to the scheduler taking its completion (its result's journal write). bench/apply's
  /// overhead figure.
  double overhead_us_per_step = 0;
  /// Of that, the time in journal writes (the intent's commit, counted for each step it
  /// carried, and the result's write), mostly waiting for the commit: bounded by the disk
  /// and the machine's syscalls, not by racksmith.
  double journal_us_per_step = 0;
  /// overhead_us_per_step of destructive steps alone (their intent waits for an fsync of
  /// the journal, their result for its commit), and of the others.
  double overhead_us_per_destructive_step = 0;
  double overhead_us_per_other_step = 0;
};

/// Closes what a killed run left open: its steps that had not started are recorded skipped,
/// the run aborted. Returns every step still journaled as running, of that run or an earlier
/// one (they stay running until a run checks their guard), for Execute to check by guard.
/// REQUIRES: the caller holds the apply lock (so the earlier run is really gone).
Result<std::vector<state::StepRecord>> RecoverInterruptedRun(state::Store& store);

class Executor {
 public:
  Executor(state::Store& store, StepDriver& driver, const Clock& clock, ExecutorOptions options,
           EventSink* sink = nullptr);

  /// Registers the plan's nodes that have steps, begins a run, carries the plan out and
  /// finishes the run. `interrupted`: what RecoverInterruptedRun returned. Errors are for the
  /// store failing; node failures are in the summary.
  Result<RunSummary> Execute(const plan::Plan& plan, const inventory::Inventory& inventory,
                             const state::RunStart& run,
                             const std::vector<state::StepRecord>& interrupted,
                             const Interrupt& interrupt);

 private:
  state::Store& store_;
  StepDriver& driver_;
  const Clock& clock_;
  ExecutorOptions options_;
  EventSink* sink_;
};

}  // namespace racksmith::exec
