// The executor: one set of bookkeeping (what is ready, running, done; the limits) under one
// mutex, and a pool of worker threads that journal a step, call the driver and journal its
// result (executor_work.cc). A worker hands in its own completion under the mutex and starts
// what it made ready, going on with one of those steps itself (work first: no thread wakes
// between a node's consecutive steps); the run's thread starts the first round and timed
// retries and sees the run to its end. Every decision and every event is made under the
// mutex, so events come in order, one at a time. Shared types: executor_internal.h.
#include "exec/executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "exec/executor_internal.h"

namespace racksmith::exec {
namespace {

std::string StepKey(std::string_view node, std::string_view kind, std::string_view component) {
  std::string key = fmt::format("{}/{}", node, kind);
  if (!component.empty()) key += fmt::format("/{}", component);
  return key;
}

}  // namespace

namespace detail {

void Scheduler::Emit(Event event) {
  if (sink_ == nullptr) return;
  event.at_ms = clock_.NowUnixMillis();
  event.run_id = run_id_;
  sink_->OnEvent(event);
}

Status Scheduler::Prepare(const plan::Plan& plan, const inventory::Inventory& inventory,
                          const std::vector<state::StepRecord>& interrupted) {
  std::set<std::string> in_flight;
  for (const state::StepRecord& r : interrupted) {
    in_flight.insert(StepKey(r.node, r.kind, r.component));
  }
  std::unordered_map<std::string, const inventory::Node*> by_name;
  for (const inventory::Node& n : inventory.nodes) by_name.emplace(n.name, &n);

  for (const plan::NodePlan& np : plan.nodes) {
    if (np.steps.empty()) continue;
    auto it = by_name.find(np.node);
    if (it == by_name.end()) {
      return InvalidInput(fmt::format("node '{}' of the plan is not in the inventory", np.node));
    }
    NodeRun nr;
    nr.plan = &np;
    nr.node = it->second;
    nr.groups.push_back("rack:" + np.rack);
    for (const std::string& p : np.partitions) nr.groups.push_back("partition:" + p);
    nr.remaining = static_cast<int>(np.steps.size());
    int node_index = static_cast<int>(nodes_.size());
    std::unordered_map<std::string, int> index_of;
    for (const plan::Step& step : np.steps) {
      StepRun sr;
      sr.step = &step;
      sr.node = node_index;
      sr.guard_first = in_flight.count(StepKey(step.node, plan::StepKindName(step.kind),
                                               step.component)) > 0;
      int idx = static_cast<int>(steps_.size());
      index_of[step.id] = idx;
      for (const std::string& need : step.needs) {
        auto dep = index_of.find(need);
        if (dep == index_of.end()) {
          return InvalidInput(fmt::format("step {} needs {}, which is not before it in the plan",
                                          step.id, need));
        }
        steps_[dep->second].dependents.push_back(idx);
        ++sr.waiting_for;
      }
      if (sr.waiting_for == 0) sr.phase = StepPhase::kReady;
      nr.steps.push_back(idx);
      steps_.push_back(std::move(sr));
    }
    bool firmware = std::any_of(np.steps.begin(), np.steps.end(), [](const plan::Step& s) {
      return s.kind == plan::StepKind::kFirmware;
    });
    if (firmware) nr.firmware_group = driver_.FirmwareGroup(*nr.node);
    for (int g : np.rolling_groups) {
      if (g < 0 || g >= static_cast<int>(plan.rolling_groups.size())) {
        return InvalidInput(
            fmt::format("node '{}' of the plan counts against rolling group {}, "
                        "which the plan does not have",
                        np.node, g));
      }
    }
    nr.rolled = np.wave > 0;
    if (nr.rolled && np.rolling_groups.empty()) {
      // Fail closed: a rolled node the executor could not count would escape max_unavailable.
      return InvalidInput(
          fmt::format("node '{}' is in rolling wave {} but the plan gives it no rolling groups",
                      np.node, np.wave));
    }
    nodes_.push_back(std::move(nr));
  }
  rolling_groups_ = &plan.rolling_groups;
  unavailable_.assign(plan.rolling_groups.size(), 0);
  for (const plan::RollingGroup& g : plan.rolling_groups) budget_.push_back(g.budget);
  // Returning nodes are out of service from the start, until they are finished.
  for (NodeRun& n : nodes_) {
    if (n.plan->returning) Count(n, +1);
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (steps_[i].phase != StepPhase::kReady) continue;
    (nodes_[steps_[i].node].rolled ? rollout_ : ready_).push_back(static_cast<int>(i));
  }
  std::stable_sort(rollout_.begin(), rollout_.end(), [&](int a, int b) {
    return nodes_[steps_[a].node].plan->wave < nodes_[steps_[b].node].plan->wave;
  });
  if (options_.max_failures) {
    failure_budget_ = options_.max_failures->percent
                          ? static_cast<int>(nodes_.size()) * options_.max_failures->value / 100
                          : options_.max_failures->value;
  }
  return Status::Ok();
}

// The sliding window: a rolled node may leave service while each of its groups has fewer
// of the plan's nodes out than its budget.
bool Scheduler::GroupsHaveRoom(const NodeRun& n) const {
  for (int g : n.plan->rolling_groups) {
    if (unavailable_[g] >= budget_[g]) return false;
  }
  return true;
}

void Scheduler::Count(NodeRun& n, int delta) {
  n.counted = delta > 0;
  for (int g : n.plan->rolling_groups) unavailable_[g] += delta;
}

std::string Scheduler::NotStartedReason(const NodeRun& n) const {
  if (interrupt_.StopStarting()) return "interrupted before it started";
  if (budget_exceeded_) return "not started: the failure budget was exceeded";
  if (n.rolled && rollout_halted_) {
    return "not started: the rolling change was halted by a failed node";
  }
  if (n.rolled) {
    for (int g : n.plan->rolling_groups) {
      if (unavailable_[g] < budget_[g]) continue;
      const plan::RollingGroup& group = (*rolling_groups_)[g];
      return fmt::format(
          "not started: {} had no room: {} of its nodes out of service in this run (a failed "
          "node stays out), its budget {} (max_unavailable {}, {} out before the run)",
          group.name, unavailable_[g], budget_[g], group.max_unavailable, group.already_out);
    }
  }
  return "not started";
}

bool Scheduler::CanStart(const StepRun& s, int64_t now_ms) const {
  const NodeRun& n = nodes_[s.node];
  if (n.failed) return false;
  if (s.not_before_ms > now_ms) return false;
  if (!n.started) {
    if (budget_exceeded_) return false;
    if (n.rolled && (rollout_halted_ || !GroupsHaveRoom(n))) return false;
    for (const std::string& g : n.groups) {
      bool rack = g.rfind("rack:", 0) == 0;
      int limit = rack ? options_.per_rack : options_.per_partition;
      if (limit <= 0) continue;
      auto it = busy_groups_.find(g);
      if (it != busy_groups_.end() && it->second >= limit) return false;
    }
  }
  if (s.step->kind == plan::StepKind::kFirmware && options_.per_firmware_group > 0) {
    auto it = busy_firmware_.find(n.firmware_group);
    if (it != busy_firmware_.end() && it->second >= options_.per_firmware_group) return false;
  }
  return true;
}


std::vector<Job> Scheduler::Select(SteadyClock::time_point round) {
  std::vector<Job> started;
  if (interrupt_.StopStarting()) return started;
  int64_t now = clock_.MonotonicMillis();
  // First the steps of nodes in progress and of nodes outside the rollout, in the order they
  // became ready; then rolled nodes not started yet, in (wave, plan) order, as the window
  // lets them. A node a rolling change took out of service goes on before another leaves:
  // each is out for as short a time as the slots allow.
  for (std::deque<int>* queue : {&ready_, &rollout_}) {
    for (auto it = queue->begin(); it != queue->end() && running_ < options_.concurrency;) {
      StepRun& s = steps_[*it];
      NodeRun& n = nodes_[s.node];
      if (n.failed || s.phase != StepPhase::kReady) {  // dropped since it became ready
        it = queue->erase(it);
        continue;
      }
      if (!CanStart(s, now)) {
        ++it;
        continue;
      }
      if (!n.started) {
        n.started = true;
        for (const std::string& g : n.groups) ++busy_groups_[g];
        if (n.rolled) Count(n, +1);
      }
      if (s.step->kind == plan::StepKind::kFirmware) ++busy_firmware_[n.firmware_group];
      s.phase = StepPhase::kRunning;
      ++s.attempt;
      ++n.running;
      ++running_;
      n.last_step = s.step->id;
      Job job;
      job.step = *it;
      job.attempt = s.attempt;
      job.dispatched = round;
      if (s.guard_first && s.attempt == 1) {
        job.guard = Job::Guard::kInterrupted;
      } else if (s.step->destructive && s.attempt > 1) {
        job.guard = Job::Guard::kRetry;
      }
      if (job.guard == Job::Guard::kNone) {
        if (s.ahead != nullptr && !s.ahead_taken) {
          job.journaled = s.ahead;
          s.ahead_taken = true;
        }
        // Journal-ahead: a step that waits for this one alone is journaled (intended) in
        // this start's commit, so that when this one succeeds it starts with only "running"
        // queued. Not one with a guard to check first. A destructive one's record is synced
        // to disk in the background before it may start that way (power_safe), and a resume
        // holds it as possibly started whatever came of its predecessor
        // (RecoverInterruptedRun): so only when its guard can answer without the node's own
        // system (firmware, erase, power off ask the BMC), or a kill during the step before a
        // new node's image would leave that node failed as "cannot tell".
        for (int d : s.dependents) {
          StepRun& t = steps_[d];
          const bool eligible =
              !t.step->destructive || !plan::GuardAsksNode(t.step->kind);
          if (t.waiting_for == 1 && t.phase == StepPhase::kWaiting && t.attempt == 0 &&
              eligible && !t.guard_first && t.ahead == nullptr) {
            t.ahead = std::make_shared<state::Store::AheadSlot>();
            t.ahead->power_safe = t.step->destructive;
            job.ahead.push_back(d);
          }
        }
      }
      started.push_back(job);
      Event e = NodeEvent(Event::Type::kStepStarted, n, s.step);
      e.attempt = s.attempt;
      Emit(std::move(e));
      it = queue->erase(it);
    }
  }
  return started;
}

void Scheduler::Dispatch(std::unique_lock<std::mutex>& lock, SteadyClock::time_point round,
                         std::optional<Job>* mine) {
  std::vector<Job> started = Select(round);
  if (started.empty()) return;
  // The commit of their intents runs without the lock: other workers hand in their steps
  // meanwhile. What was selected already counts as running: nothing else takes its slot.
  lock.unlock();
  JournalStarts(started);
  lock.lock();
  size_t queued = 0;
  for (size_t i = 0; i < started.size(); ++i) {
    if (i == 0 && mine != nullptr) {
      *mine = started[0];
    } else {
      jobs_.push_back(started[i]);
      ++queued;
    }
  }
  // Every running step holds a worker; start one when all are busy.
  while (static_cast<int>(pool_.size()) < running_) {
    pool_.emplace_back([this] { WorkerLoop(); });
  }
  // One wake-up per job: a broadcast would wake every idle worker (hundreds at a high
  // --concurrency) for a few jobs.
  for (size_t i = 0; i < queued; ++i) work_cv_.notify_one();
}

void Scheduler::FinishNode(int node_index) {
  NodeRun& n = nodes_[node_index];
  if (n.finished) return;
  n.finished = true;
  if (n.started) {
    for (const std::string& g : n.groups) --busy_groups_[g];
  }
  // Back in service, unless it failed or its plan ends out of service (maintenance,
  // retiring, retired): such a node stays out, and keeps counting.
  const bool back_in_service =
      !n.failed && std::any_of(n.plan->steps.begin(), n.plan->steps.end(), [](const plan::Step& s) {
        return s.on_success == state::NodeState::kActive;
      });
  if (n.counted && back_in_service) Count(n, -1);
  Event e = NodeEvent(Event::Type::kNodeFinished, n);
  e.status = n.failed ? "failed" : "done";
  e.error = n.error;
  Emit(std::move(e));
}

void Scheduler::FailNode(int node_index, const std::string& error) {
  NodeRun& n = nodes_[node_index];
  if (n.failed) return;
  n.failed = true;
  n.error = error;
  for (int idx : n.steps) {
    StepRun& s = steps_[idx];
    if (s.phase == StepPhase::kWaiting || s.phase == StepPhase::kReady) s.phase = StepPhase::kNotRun;
  }
  ++failed_nodes_;
  // A returning node (rolled by a run that stopped, finishing its change now, or coming
  // back from maintenance) is part of the rollout too: the change that broke it would break
  // the next node as well. Without rolled nodes in the plan there is nothing to halt.
  const bool rollout = std::any_of(nodes_.begin(), nodes_.end(),
                                   [](const NodeRun& r) { return r.plan->wave > 0; });
  if ((n.plan->wave > 0 || n.plan->returning) && rollout && failure_budget_ < 0 &&
      !rollout_halted_) {
    rollout_halted_ = true;
    Event e = NodeEvent(Event::Type::kRolloutHalted, n);
    e.message = fmt::format(
        "rolling change halted: {} ({}) failed; no further node of the rollout starts, "
        "nodes in progress finish (--max-failures N lets a rollout go on past N failed nodes)",
        n.plan->node,
        n.plan->wave > 0 ? fmt::format("wave {}", n.plan->wave)
                         : std::string("returning to service"));
    Emit(std::move(e));
  }
  if (n.running == 0) FinishNode(node_index);
  CheckBudget();
}

void Scheduler::CheckBudget() {
  if (budget_exceeded_ || failure_budget_ < 0 || failed_nodes_ <= failure_budget_) return;
  budget_exceeded_ = true;
  Event e;
  e.type = Event::Type::kBudgetExceeded;
  e.message = fmt::format(
      "{} nodes failed, more than --max-failures {} allows ({} of {} nodes): no new node "
      "starts; nodes already in progress finish",
      failed_nodes_, options_.max_failures->ToString(), failure_budget_, nodes_.size());
  Emit(std::move(e));
}

void Scheduler::Handle(Completion c) {
  StepRun& s = steps_[c.step];
  NodeRun& n = nodes_[s.node];
  --running_;
  --n.running;
  if (s.step->kind == plan::StepKind::kFirmware) --busy_firmware_[n.firmware_group];
  // A step's overhead ends when its completion is taken.
  const int64_t overhead_us = c.worker_overhead_us + MicrosSince(c.reported);
  worker_overhead_us_ += overhead_us;
  const int destructive = s.step->destructive ? 1 : 0;
  ++handled_[destructive];
  handled_overhead_us_[destructive] += overhead_us;
  journal_us_ += c.journal_us;
  if (!c.guard_message.empty()) {
    Event g = NodeEvent(Event::Type::kGuardChecked, n, s.step);
    g.message = c.guard_message;
    Emit(std::move(g));
  }
  Event e = NodeEvent(Event::Type::kStepFinished, n, s.step);
  e.attempt = s.attempt;
  e.error = c.error;
  e.duration_ms = c.duration_ms;
  switch (c.kind) {
    case Completion::Kind::kSucceeded:
    case Completion::Kind::kVerified: {
      s.phase = StepPhase::kSucceeded;
      (c.kind == Completion::Kind::kVerified ? summary_.steps_verified : summary_.steps_succeeded)++;
      e.status = c.kind == Completion::Kind::kVerified ? "verified" : "succeeded";
      Emit(std::move(e));
      --n.remaining;
      if (!n.failed) {
        for (int d : s.dependents) {
          if (--steps_[d].waiting_for == 0 && steps_[d].phase == StepPhase::kWaiting) {
            steps_[d].phase = StepPhase::kReady;
            ready_.push_back(d);
          }
        }
      }
      if (n.remaining == 0) FinishNode(s.node);
      break;
    }
    case Completion::Kind::kRetry: {
      s.phase = StepPhase::kReady;
      s.not_before_ms = clock_.MonotonicMillis() + c.delay_ms;
      ++summary_.retries;
      Event r = NodeEvent(Event::Type::kStepRetrying, n, s.step);
      r.attempt = s.attempt;
      r.error = c.error;
      r.delay_ms = c.delay_ms;
      Emit(std::move(r));
      ready_.push_back(c.step);
      break;
    }
    case Completion::Kind::kFailed:
      s.phase = StepPhase::kFailed;
      ++summary_.steps_failed;
      e.status = "failed";
      Emit(std::move(e));
      FailNode(s.node, c.error);
      break;
    case Completion::Kind::kAborted:
      s.phase = StepPhase::kNotRun;
      e.status = "aborted";
      Emit(std::move(e));
      break;
  }
  if (n.failed && n.running == 0) FinishNode(s.node);
}

Result<RunSummary> Scheduler::Run(const plan::Plan& plan, const inventory::Inventory& inventory,
                                  const state::RunStart& run,
                                  const std::vector<state::StepRecord>& interrupted) {
  SteadyClock::time_point begin = SteadyClock::now();
  if (Status s = Prepare(plan, inventory, interrupted); !s.ok()) return s.error();
  std::vector<std::string> names;
  for (const NodeRun& n : nodes_) names.push_back(n.plan->node);
  if (Result<int> created = store_.EnsureNodes(names, state::NodeState::kNew); !created.ok()) {
    return created.error();
  }
  Result<int64_t> run_id = store_.BeginRun(run);
  if (!run_id.ok()) return run_id.error();
  run_id_ = *run_id;
  summary_.run_id = run_id_;
  {
    Event e;
    e.type = Event::Type::kRunStarted;
    e.total_nodes = static_cast<int>(nodes_.size());
    e.total_steps = static_cast<int>(steps_.size());
    Emit(std::move(e));
  }

  // Workers start as jobs need them (Dispatch), up to the concurrency: a run at
  // --concurrency 1000 with 40 steps in flight has 40 threads, not 1000. Those the first
  // round needs start here, before it: created in the round, each would be one more wait
  // for the steps it starts (tens of microseconds a thread; hundreds of steps at once).
  {
    const size_t first_round =
        std::min(ready_.size() + rollout_.size(), static_cast<size_t>(options_.concurrency));
    std::lock_guard<std::mutex> lock(mu_);
    while (pool_.size() < first_round) pool_.emplace_back([this] { WorkerLoop(); });
  }

  // This thread starts the first round and steps whose retry time has come, tells of
  // interrupts, and sees the run to its end; workers handle their own completions and start
  // what those make ready (WorkerLoop).
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (interrupt_.level() > interrupt_seen_) {
      interrupt_seen_ = interrupt_.level();
      Event e;
      e.type = Event::Type::kInterrupted;
      e.message = interrupt_seen_ == 1
                      ? "interrupted: no new step starts; running steps finish (interrupt "
                        "again to abort them)"
                      : "interrupted again: running steps are told to stop; `racksmith apply` "
                        "resumes";
      Emit(std::move(e));
    }
    Dispatch(lock, SteadyClock::now(), nullptr);

    int64_t now = clock_.MonotonicMillis();
    int64_t next_retry = 0;
    if (!interrupt_.StopStarting()) {
      for (int idx : ready_) {
        const StepRun& s = steps_[idx];
        if (s.not_before_ms > now && !nodes_[s.node].failed &&
            (next_retry == 0 || s.not_before_ms < next_retry)) {
          next_retry = s.not_before_ms;
        }
      }
    }
    if (running_ == 0 && next_retry == 0) break;
    int64_t wait_ms = next_retry > 0 ? std::clamp<int64_t>(next_retry - now, 1, 200) : 200;
    main_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return wake_main_; });
    wake_main_ = false;
  }
  stop_workers_ = true;
  lock.unlock();
  work_cv_.notify_all();
  for (std::thread& t : pool_) t.join();
  // Deferred step results are committed before the run is: a run is never recorded as
  // finished while a result of it is still queued. A result that could not be written
  // leaves its step in flight, and the run unfinished, for the next apply to guard-check.
  if (Status s = store_.FlushJournal(); !s.ok()) {
    return s.error().WithContext("the journal could not be written");
  }
  if (Status s = WithdrawUnstarted(); !s.ok()) {
    return s.error().WithContext("the journal could not be written");
  }

  bool stopped_any = false;
  for (const NodeRun& n : nodes_) {
    NodeOutcome o;
    o.node = n.plan->node;
    o.last_step = n.last_step;
    if (n.failed) {
      o.kind = NodeOutcome::Kind::kFailed;
      o.error = n.error;
      ++summary_.nodes_failed;
    } else if (n.finished) {
      o.kind = NodeOutcome::Kind::kDone;
      ++summary_.nodes_done;
    } else if (!n.started) {
      o.kind = NodeOutcome::Kind::kNotStarted;
      o.error = NotStartedReason(n);
      ++summary_.nodes_not_started;
      stopped_any = true;
    } else {
      o.kind = NodeOutcome::Kind::kStopped;
      o.error = "interrupted: resume with `racksmith apply`";
      ++summary_.nodes_stopped;
      stopped_any = true;
    }
    summary_.nodes.push_back(std::move(o));
  }
  if (interrupt_.StopStarting() && stopped_any) {
    summary_.outcome = state::RunOutcome::kAborted;
  } else if (summary_.nodes_failed > 0 || stopped_any) {
    summary_.outcome = state::RunOutcome::kFailed;
  } else {
    summary_.outcome = state::RunOutcome::kSucceeded;
  }
  if (Status s = store_.FinishRun(run_id_, summary_.outcome); !s.ok()) return s.error();
  summary_.wall_ms = MicrosSince(begin) / 1000;
  int attempts = summary_.steps_succeeded + summary_.steps_failed + summary_.steps_verified +
                 summary_.retries;
  // Each attempt's overhead runs from the start of the scheduler's round that started it
  // to the driver, and from the driver back to the scheduler: the scheduler's own time is
  // inside it (and counted for every step of a round, not shared among them).
  summary_.overhead_us_per_step =
      attempts > 0 ? static_cast<double>(worker_overhead_us_) / attempts : 0;
  summary_.journal_us_per_step =
      attempts > 0 ? static_cast<double>(journal_us_) / attempts : 0;
  auto mean = [&](int destructive) {
    return handled_[destructive] > 0
               ? static_cast<double>(handled_overhead_us_[destructive]) / handled_[destructive]
               : 0;
  };
  summary_.overhead_us_per_destructive_step = mean(1);
  summary_.overhead_us_per_other_step = mean(0);
  Event e;
  e.type = Event::Type::kRunFinished;
  e.status = std::string(state::RunOutcomeName(summary_.outcome));
  e.message = fmt::format("{} done, {} failed, {} not started, {} stopped", summary_.nodes_done,
                          summary_.nodes_failed, summary_.nodes_not_started,
                          summary_.nodes_stopped);
  Emit(std::move(e));
  return summary_;
}

}  // namespace detail

const char* GuardVerdictName(GuardVerdict verdict) {
  switch (verdict) {
    case GuardVerdict::kDone: return "done";
    case GuardVerdict::kNotDone: return "not done";
    case GuardVerdict::kUnknown: return "unknown";
  }
  return "unknown";
}

const char* EventTypeName(Event::Type type) {
  switch (type) {
    case Event::Type::kRunStarted: return "run_started";
    case Event::Type::kStepStarted: return "step_started";
    case Event::Type::kStepRetrying: return "step_retrying";
    case Event::Type::kStepFinished: return "step_finished";
    case Event::Type::kGuardChecked: return "guard_checked";
    case Event::Type::kNodeFinished: return "node_finished";
    case Event::Type::kBudgetExceeded: return "budget_exceeded";
    case Event::Type::kRolloutHalted: return "rollout_halted";
    case Event::Type::kInterrupted: return "interrupted";
    case Event::Type::kRunFinished: return "run_finished";
  }
  return "unknown";
}

const char* NodeOutcomeName(NodeOutcome::Kind kind) {
  switch (kind) {
    case NodeOutcome::Kind::kDone: return "done";
    case NodeOutcome::Kind::kFailed: return "failed";
    case NodeOutcome::Kind::kNotStarted: return "not started";
    case NodeOutcome::Kind::kStopped: return "stopped";
  }
  return "unknown";
}

namespace {

// What a record's intent says of journal-ahead: the record of the step it waited for (0: it
// was not journaled ahead), and whether the step is destructive.
struct AheadIntent {
  int64_t after = 0;
  bool destructive = false;
};

AheadIntent AheadOf(const state::StepRecord& r) {
  if (r.intent_json.find("\"after\"") == std::string::npos) return {};
  nlohmann::json j = nlohmann::json::parse(r.intent_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {};
  auto it = j.find("after");
  if (it == j.end() || !it->is_number_integer()) return {};
  auto d = j.find("destructive");
  return {it->get<int64_t>(), d != j.end() && d->is_boolean() && d->get<bool>()};
}

// Whether a step journaled ahead after record `after` may have started: unless the last
// attempt of that step in the run failed or was skipped (a step starts only once the one
// it waits for has succeeded).
bool MayHaveStarted(const std::vector<state::StepRecord>& run_steps, int64_t after) {
  const state::StepRecord* before = nullptr;
  for (const state::StepRecord& s : run_steps) {
    if (s.id == after) before = &s;
  }
  if (before == nullptr) return true;
  const state::StepRecord* last = before;
  for (const state::StepRecord& s : run_steps) {
    if (s.id > last->id && s.node == before->node && s.kind == before->kind &&
        s.component == before->component) {
      last = &s;
    }
  }
  return last->status != state::StepStatus::kFailed &&
         last->status != state::StepStatus::kSkipped;
}

}  // namespace

Result<std::vector<state::StepRecord>> RecoverInterruptedRun(state::Store& store) {
  Result<std::optional<state::RunRecord>> last = store.LastRun();
  if (!last.ok()) return last.error();
  Result<std::vector<state::StepRecord>> open = store.UnfinishedStepsOfLastRun();
  if (!open.ok()) return open.error();
  std::optional<std::vector<state::StepRecord>> run_steps;  // read when first needed
  for (state::StepRecord& r : *open) {
    const AheadIntent ahead = AheadOf(r);
    if (r.status == state::StepStatus::kIntended && ahead.after > 0) {
      // Journaled ahead: it starts with a "running" that is queued, not waited for, so the
      // kill may have taken that mark after the step began. It cannot have started only if
      // the step it waited for failed (that step's last attempt in the run). Not told so of
      // a destructive step: a power cut keeps only the commits up to the last fsync, and
      // the record of the retry that succeeded before it started may be past that one.
      if (!ahead.destructive) {
        if (!run_steps) {
          Result<std::vector<state::StepRecord>> steps = store.StepsOfRun(r.run_id);
          if (!steps.ok()) return steps.error();
          run_steps = std::move(*steps);
        }
        if (!MayHaveStarted(*run_steps, ahead.after)) {
          Result<int> removed = store.WithdrawAhead({r.id});
          if (!removed.ok()) return removed.error();
          continue;
        }
      }
      if (Status s = store.MarkRunning(r.id); !s.ok()) return s.error();
      Status s = store.NoteInterrupted(
          r.id, fmt::format("interrupted: run {} stopped when this step may have started (it "
                            "was journaled ahead and its start not yet recorded); the next "
                            "apply that reaches it checks its guard first",
                            r.run_id));
      if (!s.ok()) return s.error();
      continue;
    }
    if (r.status == state::StepStatus::kRunning) {
      // Stays running until a run checks its guard (Work closes it then): an apply that
      // stops before reaching it (declined, vetoed, another selection, interrupted) must
      // not forget that it may have touched the machine.
      Status s = store.NoteInterrupted(
          r.id, fmt::format("interrupted: run {} stopped while it ran; the next apply that "
                            "reaches it checks its guard first",
                            r.run_id));
      if (!s.ok()) return s.error();
      continue;
    }
    state::StepResult skipped;
    skipped.status = state::StepStatus::kSkipped;
    skipped.error =
        fmt::format("interrupted: run {} stopped before this step started", r.run_id);
    if (Status s = store.RecordResult(r.id, skipped); !s.ok()) return s.error();
  }
  if (*last && (*last)->outcome == state::RunOutcome::kRunning) {
    if (Status s = store.FinishRun((*last)->id, state::RunOutcome::kAborted); !s.ok()) {
      return s.error();
    }
  }
  // Every run is over now (the caller holds the apply lock): whatever is still running, of
  // this run or an earlier one, was in flight when its run stopped.
  return store.StepsLeftRunning();
}

Executor::Executor(state::Store& store, StepDriver& driver, const Clock& clock,
                   ExecutorOptions options, EventSink* sink)
    : store_(store), driver_(driver), clock_(clock), options_(std::move(options)), sink_(sink) {
  options_.concurrency = std::max(1, options_.concurrency);
  options_.max_attempts = std::max(1, options_.max_attempts);
}

Result<RunSummary> Executor::Execute(const plan::Plan& plan, const inventory::Inventory& inventory,
                                     const state::RunStart& run,
                                     const std::vector<state::StepRecord>& interrupted,
                                     const Interrupt& interrupt) {
  detail::Scheduler scheduler(store_, driver_, clock_, options_, sink_, interrupt);
  return scheduler.Run(plan, inventory, run, interrupted);
}

}  // namespace racksmith::exec
