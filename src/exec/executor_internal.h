// Internal to src/exec: the executor's scheduler and its bookkeeping, shared by
// executor.cc (what starts when, completions, events, the run) and executor_work.cc (what a
// worker does with one step: journal it, run it, journal its result, hand it in).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "exec/executor.h"

namespace racksmith::exec::detail {

using SteadyClock = std::chrono::steady_clock;

inline int64_t MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start)
      .count();
}

enum class StepPhase { kWaiting, kReady, kRunning, kSucceeded, kFailed, kNotRun };

struct StepRun {
  const plan::Step* step = nullptr;
  int node = 0;  // index into Scheduler::nodes_
  int waiting_for = 0;
  std::vector<int> dependents;
  StepPhase phase = StepPhase::kWaiting;
  int attempt = 0;              // attempts started so far
  int64_t not_before_ms = 0;    // retry backoff: monotonic time before which it may not start
  bool guard_first = false;     // in flight when a run was killed: check the guard first
  // Journal-ahead: its record, written intended with the start of the step it waits for
  // (Select decides, JournalStarts/Work write it), so that its own start waits for no
  // commit. At most once per step; `ahead_taken` once a start of it has used it.
  std::shared_ptr<state::Store::AheadSlot> ahead;
  bool ahead_taken = false;
};

struct NodeRun {
  const plan::NodePlan* plan = nullptr;
  const inventory::Node* node = nullptr;
  std::vector<int> steps;
  std::vector<std::string> groups;  // "rack:r01", "partition:gpu"
  std::string firmware_group;
  bool rolled = false;   // wave >= 1: starts only while its rolling groups have room
  bool counted = false;  // counts against its rolling groups now (out of service)
  int remaining = 0;  // steps not yet succeeded
  int running = 0;
  bool started = false;
  bool failed = false;
  bool finished = false;  // done, failed, or nothing more will run
  std::string error;
  std::string last_step;
};

// An event about a node, and one of its steps if given (the caller fills in the rest).
inline Event NodeEvent(Event::Type type, const NodeRun& n, const plan::Step* step = nullptr) {
  Event e;
  e.type = type;
  e.node = n.plan->node;
  e.step = step;
  return e;
}

// What a worker reports back.
struct Completion {
  int step = 0;
  enum class Kind { kSucceeded, kVerified, kFailed, kRetry, kAborted } kind = Kind::kSucceeded;
  std::string error;
  std::string guard_message;  // non-empty when a guard was checked
  int64_t delay_ms = 0;
  int64_t duration_ms = 0;
  int64_t worker_overhead_us = 0;
  int64_t journal_us = 0;  // of worker_overhead_us: in the store's journal writes
  SteadyClock::time_point reported;  // when the worker handed it to the scheduler
};

struct Job {
  int step = 0;
  int attempt = 1;
  // Why the step's guard is checked before it runs: it was in flight when a run stopped,
  // or it is a destructive step retried after a transient failure (the attempt that failed
  // may have reached the machine: a reset or an update accepted, its answer lost).
  enum class Guard { kNone, kInterrupted, kRetry };
  Guard guard = Guard::kNone;
  // The start of the scheduler's round that started it: what the step waits for from then
  // on (its intent's commit, a worker) is the executor's overhead.
  SteadyClock::time_point dispatched;
  // Journaled by the scheduler with the other steps it started together (one commit for
  // all: Scheduler::JournalStarts), or why that failed; neither when the worker journals it
  // (a step with a guard to check first, a destructive one).
  int64_t step_id = 0;
  std::optional<Error> start_error;
  int64_t start_journal_us = 0;  // the scheduler's wait for that commit
  // Its record journaled ahead (marked running when it starts), if any; and the steps
  // (indices) to journal ahead with its start: those that wait for it alone.
  std::shared_ptr<state::Store::AheadSlot> journaled;
  std::vector<int> ahead;
};

class Scheduler {
 public:
  Scheduler(state::Store& store, StepDriver& driver, const Clock& clock,
            const ExecutorOptions& options, EventSink* sink, const Interrupt& interrupt)
      : store_(store), driver_(driver), clock_(clock), options_(options), sink_(sink),
        interrupt_(interrupt) {}

  Result<RunSummary> Run(const plan::Plan& plan, const inventory::Inventory& inventory,
                         const state::RunStart& run,
                         const std::vector<state::StepRecord>& interrupted);

 private:
  Status Prepare(const plan::Plan& plan, const inventory::Inventory& inventory,
                 const std::vector<state::StepRecord>& interrupted);
  void Emit(Event event);
  bool CanStart(const StepRun& s, int64_t now_ms) const;
  // Picks the steps that may start now and marks them running. REQUIRES: mu_ held.
  std::vector<Job> Select(SteadyClock::time_point round);
  // Starts what may start now: Select, the intents' commit (JournalStarts, with `lock`
  // released meanwhile), and the jobs handed to workers; the first to the caller through
  // `mine` when given (a worker going on with it). REQUIRES: `lock` holds mu_.
  void Dispatch(std::unique_lock<std::mutex>& lock, SteadyClock::time_point round,
                std::optional<Job>* mine);
  void JournalStarts(std::vector<Job>& jobs);
  state::StepIntent IntentOf(const Job& job) const;
  // The StepStart of a job: its intent and node state change, and what it journals ahead.
  state::Store::StepStart StartOf(const Job& job) const;
  // Removes the records journaled ahead for steps that never started (end of the run).
  Status WithdrawUnstarted();
  void Handle(Completion c);
  void FailNode(int node_index, const std::string& error);
  void CheckBudget();
  bool AllSettled() const;
  bool GroupsHaveRoom(const NodeRun& n) const;
  void Count(NodeRun& n, int delta);
  std::string NotStartedReason(const NodeRun& n) const;
  void FinishNode(int node_index);
  void WorkerLoop();
  Completion Work(const Job& job);

  state::Store& store_;
  StepDriver& driver_;
  const Clock& clock_;
  const ExecutorOptions& options_;
  EventSink* sink_;
  const Interrupt& interrupt_;
  int64_t run_id_ = 0;

  std::vector<StepRun> steps_;
  std::vector<NodeRun> nodes_;
  std::deque<int> ready_;  // step indices, in plan order of becoming ready
  std::deque<int> rollout_;  // first steps of rolled nodes, in (wave, plan) order
  std::unordered_map<std::string, int> busy_groups_;      // nodes in progress per group
  std::unordered_map<std::string, int> busy_firmware_;    // firmware steps per vendor group
  int running_ = 0;
  bool budget_exceeded_ = false;
  bool rollout_halted_ = false;  // a waved node failed and no budget allows it
  int failure_budget_ = -1;  // -1: none
  int failed_nodes_ = 0;
  int interrupt_seen_ = 0;
  // The plan's rolling groups: nodes of each out of service now (rolled nodes started and
  // not finished, returning nodes not finished, failed ones of either for good), and how
  // many may be.
  const std::vector<plan::RollingGroup>* rolling_groups_ = nullptr;
  std::vector<int> unavailable_;
  std::vector<int> budget_;
  RunSummary summary_;
  int64_t worker_overhead_us_ = 0;
  int64_t journal_us_ = 0;
  // Completions taken and their overhead, [0] of other steps, [1] of destructive ones.
  int64_t handled_[2] = {0, 0};
  int64_t handled_overhead_us_[2] = {0, 0};

  // Guards the bookkeeping above once the run has started (workers hand in completions and
  // start steps under it; what Prepare set up and Work reads does not change) and the
  // queue below.
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable main_cv_;  // the run's thread: a retry to time, or nothing running
  bool wake_main_ = false;
  std::deque<Job> jobs_;
  bool stop_workers_ = false;
  std::vector<std::thread> pool_;  // grows to the most steps ever running at once
};

}  // namespace racksmith::exec::detail
