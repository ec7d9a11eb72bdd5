// A worker's part of the executor: one step attempt, journaled before it runs (its intent)
// and after (its result), with the driver called in between. The scheduler (executor.cc)
// decides what runs; this file decides only how one step is carried out and recorded.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "exec/executor_internal.h"

namespace racksmith::exec::detail {
namespace {

std::string IntentJson(const plan::Step& step, const plan::NodePlan& node) {
  nlohmann::json j;
  j["id"] = step.id;
  j["reason"] = step.reason;
  if (!step.origin.empty()) j["origin"] = step.origin;
  if (!step.from_version.empty()) j["from"] = step.from_version;
  if (!step.to_version.empty()) j["to"] = step.to_version;
  if (!step.hash.empty()) j["hash"] = step.hash;
  j["destructive"] = step.destructive;
  j["guard"] = step.guard;
  if (node.wave > 0) j["wave"] = node.wave;
  // Marks a node that counts against max_unavailable: if this run stops in the middle of the
  // node's change, the next plan still counts it out of service (plan/waves.cc).
  if (!node.rolling_groups.empty()) j["rolling"] = true;
  if (!step.params.empty()) j["params"] = step.params;
  return j.dump();
}

std::optional<state::Store::NodeStateChange> StartChange(const plan::Step& step) {
  if (!step.on_start) return std::nullopt;
  return state::Store::NodeStateChange{*step.on_start, step.reason};
}

}  // namespace

state::StepIntent Scheduler::IntentOf(const Job& job) const {
  const StepRun& s = steps_[job.step];
  state::StepIntent intent;
  intent.run_id = run_id_;
  intent.node = s.step->node;
  intent.kind = plan::StepKindName(s.step->kind);
  intent.component = s.step->component;
  intent.intent_json = IntentJson(*s.step, *nodes_[s.node].plan);
  intent.attempt = job.attempt;
  return intent;
}

state::Store::StepStart Scheduler::StartOf(const Job& job) const {
  const plan::Step& step = *steps_[job.step].step;
  state::Store::StepStart start{IntentOf(job), StartChange(step), job.journaled, {}};
  for (int d : job.ahead) {
    Job next;
    next.step = d;
    next.attempt = 1;
    start.ahead.push_back({IntentOf(next), steps_[d].ahead});
  }
  return start;
}

// The steps the scheduler starts together journal their intents in one commit, before any
// of them is handed to a worker: one wait for all instead of one thread waking, queueing
// its write and sleeping again per step. Only the steps that need nothing more than a
// crash-safe intent: a destructive step's intent is fsynced (its worker waits for that, not
// the scheduler), and a step with a guard to check is journaled after the check. A step
// journaled ahead whose record is committed (for a destructive one, and synced to disk)
// waits for nothing: its "running" is queued (deferred, before anything queued after it),
// as a deferred result is.
void Scheduler::JournalStarts(std::vector<Job>& jobs) {
  std::vector<state::Store::StepStart> ready;
  std::vector<Job*> ready_jobs;
  std::vector<state::Store::StepStart> starts;
  std::vector<Job*> journaled;
  for (Job& job : jobs) {
    const plan::Step& step = *steps_[job.step].step;
    if (job.guard != Job::Guard::kNone) continue;
    if (job.journaled != nullptr && store_.AheadJournaled(*job.journaled)) {
      ready.push_back(StartOf(job));
      ready_jobs.push_back(&job);
    } else if (step.destructive) {
      continue;  // its worker journals it, power-safe
    } else {
      starts.push_back(StartOf(job));
      journaled.push_back(&job);
    }
  }
  auto take = [](std::vector<Job*>& taken, std::vector<Result<int64_t>>& ids, int64_t waited) {
    for (size_t i = 0; i < taken.size(); ++i) {
      taken[i]->start_journal_us = waited;
      if (ids[i].ok()) {
        taken[i]->step_id = *ids[i];
      } else {
        taken[i]->start_error = ids[i].error();
      }
    }
  };
  if (!ready.empty()) {
    SteadyClock::time_point t = SteadyClock::now();
    std::vector<Result<int64_t>> ids = store_.StartSteps(ready, state::Store::Sync::kDeferred);
    take(ready_jobs, ids, MicrosSince(t));
  }
  if (!starts.empty()) {
    SteadyClock::time_point t = SteadyClock::now();
    std::vector<Result<int64_t>> ids = store_.StartSteps(starts, state::Store::Sync::kCrashSafe);
    take(journaled, ids, MicrosSince(t));
  }
}

Status Scheduler::WithdrawUnstarted() {
  std::vector<int64_t> ids;
  for (const StepRun& s : steps_) {
    if (s.ahead != nullptr && !s.ahead_taken && s.ahead->id.load() != 0) {
      ids.push_back(s.ahead->id.load());
    }
  }
  Result<int> removed = store_.WithdrawAhead(ids);
  return removed.ok() ? Status::Ok() : Status(removed.error());
}

Completion Scheduler::Work(const Job& job) {
  // From the start of the scheduler's round that started it: the wait for its intent's
  // commit and for a worker count as overhead, as the worker's own journal writes do.
  SteadyClock::time_point begin = job.dispatched;
  int64_t driver_us = 0;
  int64_t journal_us = job.start_journal_us;
  auto journal = [&](auto&& write) {  // a store write, timed
    SteadyClock::time_point t = SteadyClock::now();
    auto r = write();
    journal_us += MicrosSince(t);
    return r;
  };
  const StepRun& s = steps_[job.step];
  const NodeRun& n = nodes_[s.node];
  const plan::Step& step = *s.step;
  Completion c;
  c.step = job.step;
  StepContext ctx;
  ctx.run_id = run_id_;
  ctx.node_plan = n.plan;
  ctx.node = n.node;
  ctx.attempt = job.attempt;
  ctx.deadline_ms = options_.step_timeout_ms > 0
                        ? clock_.MonotonicMillis() + options_.step_timeout_ms
                        : 0;
  ctx.interrupt = &interrupt_;
  ctx.store = &store_;

  const bool journaled = job.step_id > 0 || job.start_error;
  // Its start when the worker journals it (a destructive step, one with a guard to check);
  // the intent, reason and what it journals ahead are built once.
  state::Store::StepStart start;
  if (!journaled) start = StartOf(job);
  const state::StepIntent& intent = start.intent;
  // Only a destructive step's intent is fsynced before it starts; every other journal
  // write needs only survive a kill -9 (see state::Store::Sync). A result lost to a power
  // cut leaves the step in flight, which the next apply re-checks by its guard, and a
  // destructive step is never repeated blindly. Every result is deferred: queued for the
  // next group commit, ahead of any later journal write (the node's next step among them),
  // while this worker goes on; Execute flushes the journal before it finishes the run.
  // Waiting for it would not narrow what a kill can lose (the commit comes no sooner), only
  // hold the node's next step: bench/apply measured 380-650 µs for a destructive step.
  const state::Store::Sync start_sync =
      step.destructive ? state::Store::Sync::kPowerSafe : state::Store::Sync::kCrashSafe;
  const state::Store::Sync result_sync = state::Store::Sync::kDeferred;
  auto success_change = [&]() -> std::optional<state::Store::NodeStateChange> {
    if (!step.on_success) return std::nullopt;
    std::string reason = step.reason;
    if (auto it = step.params.find("failed_reason"); it != step.params.end()) reason = it->second;
    if (*step.on_success == state::NodeState::kActive) reason = "admitted";
    return state::Store::NodeStateChange{*step.on_success, reason};
  };
  auto component = [&]() -> std::optional<state::ComponentRecord> {
    if (step.hash.empty() || step.kind == plan::StepKind::kRemove) return std::nullopt;
    state::ComponentRecord r;
    r.component = step.component.empty() ? plan::StepKindName(step.kind) : step.component;
    r.version = step.to_version;
    r.content_hash = step.hash;
    return r;
  };
  auto finish_ok = [&](int64_t id, std::string output) -> Status {
    state::StepResult ok;
    ok.status = state::StepStatus::kSucceeded;
    ok.output_tail = std::move(output);
    ok.component = component();
    Status st = journal([&] {
      return store_.FinishStep(id, ok, success_change(), step.kind == plan::StepKind::kRetire,
                               result_sync);
    });
    if (st.ok() && step.kind == plan::StepKind::kRemove) {
      st = journal([&] { return store_.ForgetComponent(step.node, step.component); });
    }
    return st;
  };
  auto journal_failed = [&](const Error& e) {
    c.kind = Completion::Kind::kFailed;
    c.error = fmt::format("{}: the journal could not be written: {}", step.id, e.ToString());
  };

  const bool interrupted = job.guard == Job::Guard::kInterrupted;
  const char* why_guard = interrupted ? "in flight when the last run stopped"
                                      : "a destructive step retried after a transient failure";
  // The records a stopped run left running for this step, closed once this run has
  // journaled the record of the check that resolves them (kill -9 before that: they stay
  // running, and the next apply checks the guard again).
  auto close_interrupted = [&](int64_t id, const GuardResult& g) -> Status {
    if (!interrupted) return Status::Ok();
    return journal([&]() -> Status {
      Result<int> closed = store_.CloseInterrupted(
          step.node, plan::StepKindName(step.kind), step.component, id,
          fmt::format("interrupted: its run stopped while it ran; run {} checked its guard: {} "
                      "({})",
                      run_id_, GuardVerdictName(g.verdict), g.evidence));
      if (!closed.ok()) return closed.error();
      return Status::Ok();
    });
  };
  std::optional<GuardResult> guard;
  if (job.guard != Job::Guard::kNone) {
    SteadyClock::time_point d0 = SteadyClock::now();
    GuardResult g = driver_.CheckGuard(step, ctx);
    guard = g;
    driver_us += MicrosSince(d0);
    c.guard_message = fmt::format("{}; guard: {} ({})", why_guard, GuardVerdictName(g.verdict),
                                  g.evidence);
    if (g.verdict == GuardVerdict::kDone ||
        (g.verdict == GuardVerdict::kUnknown && step.destructive)) {
      Result<int64_t> id =
          journal([&] { return store_.StartStep(intent, std::nullopt, start_sync); });
      if (id.ok()) {
        if (Status st = close_interrupted(*id, g); !st.ok()) id = st.error();
      }
      if (!id.ok()) {
        journal_failed(id.error());
      } else if (g.verdict == GuardVerdict::kDone) {
        Status st = finish_ok(*id, fmt::format("verified by its guard ({}): {}", why_guard,
                                               g.evidence));
        c.kind = st.ok() ? Completion::Kind::kVerified : Completion::Kind::kFailed;
        if (!st.ok()) journal_failed(st.error());
      } else {
        c.kind = Completion::Kind::kFailed;
        c.error = fmt::format(
            "{} was {} and its guard cannot tell whether it finished ({}); it is destructive "
            "and is not repeated blindly: check the node, then apply with --retry-failed",
            step.id,
            interrupted ? "in flight when the last run stopped"
                        : "retried after a transient failure",
            g.evidence);
        state::StepResult failed{state::StepStatus::kFailed, c.error, {}, std::nullopt};
        Status st = journal([&] {
          return store_.FinishStep(
              *id, failed, state::Store::NodeStateChange{state::NodeState::kFailed, c.error}, false,
              result_sync);
        });
        if (!st.ok()) journal_failed(st.error());
      }
      c.worker_overhead_us = MicrosSince(begin) - driver_us;
      c.journal_us = journal_us;
      return c;
    }
  }

  Result<int64_t> id =
      job.start_error ? Result<int64_t>(*job.start_error)
      : journaled     ? Result<int64_t>(job.step_id)
                      : journal([&] { return store_.StartSteps({start}, start_sync)[0]; });
  if (id.ok() && guard) {
    if (Status st = close_interrupted(*id, *guard); !st.ok()) id = st.error();
  }
  if (!id.ok()) {
    journal_failed(id.error());
    c.worker_overhead_us = MicrosSince(begin) - driver_us;
    c.journal_us = journal_us;
    return c;
  }
  SteadyClock::time_point d0 = SteadyClock::now();
  StepOutcome out = driver_.Run(step, ctx);
  driver_us += MicrosSince(d0);
  c.duration_ms = driver_us / 1000;

  if (out.kind != StepOutcome::Kind::kSucceeded && interrupt_.Abort()) {
    // Left running in the journal on purpose: the next apply treats it as a step a killed
    // run left in flight and checks its guard before anything else.
    c.kind = Completion::Kind::kAborted;
    c.error = out.error;
  } else if (out.kind == StepOutcome::Kind::kSucceeded) {
    Status st = finish_ok(*id, std::move(out.output));
    c.kind = st.ok() ? Completion::Kind::kSucceeded : Completion::Kind::kFailed;
    if (!st.ok()) journal_failed(st.error());
  } else if (out.kind == StepOutcome::Kind::kTransient && job.attempt < options_.max_attempts) {
    c.kind = Completion::Kind::kRetry;
    c.delay_ms = std::min<int64_t>(options_.backoff_ms << (job.attempt - 1), 60'000);
    c.error = out.error;
    state::StepResult failed{state::StepStatus::kFailed,
                             fmt::format("transient: {}; attempt {} of {}, retrying in {} ms",
                                         out.error, job.attempt, options_.max_attempts, c.delay_ms),
                             out.output, std::nullopt};
    if (Status st = journal(
            [&] { return store_.FinishStep(*id, failed, std::nullopt, false, result_sync); });
        !st.ok()) {
      journal_failed(st.error());
    }
  } else {
    c.kind = Completion::Kind::kFailed;
    std::string what = step.component.empty() || step.component == plan::StepKindName(step.kind)
                           ? std::string(plan::StepKindName(step.kind))
                           : fmt::format("{} {}", plan::StepKindName(step.kind), step.component);
    c.error = job.attempt > 1
                  ? fmt::format("{} failed after {} attempts: {}", what, job.attempt, out.error)
                  : fmt::format("{} failed: {}", what, out.error);
    state::StepResult failed{state::StepStatus::kFailed, out.error, out.output, std::nullopt};
    Status st = journal([&] {
      return store_.FinishStep(*id, failed,
                               state::Store::NodeStateChange{state::NodeState::kFailed, c.error},
                               false, result_sync);
    });
    if (!st.ok()) journal_failed(st.error());
  }
  c.worker_overhead_us = MicrosSince(begin) - driver_us;
  c.journal_us = journal_us;
  return c;
}

// Work first: a worker hands in its own completion and, when that makes the node's next
// step ready (or any other) and a slot is free, goes on with it at once: a chain of steps
// runs on one thread without a wake-up between them. Steps beyond the first it starts go
// to the queue for idle workers.
void Scheduler::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<Job> next;
  for (;;) {
    if (!next) {
      work_cv_.wait(lock, [&] { return stop_workers_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stop_workers_
      next = jobs_.front();
      jobs_.pop_front();
    }
    Job job = *next;
    next.reset();
    lock.unlock();
    Completion c = Work(job);
    c.reported = SteadyClock::now();
    lock.lock();
    const SteadyClock::time_point round = SteadyClock::now();
    const bool retry = c.kind == Completion::Kind::kRetry;
    Handle(std::move(c));
    Dispatch(lock, round, &next);
    // The run's thread decides when the run is over and when a retry's time has come.
    if (running_ == 0 || retry) {
      wake_main_ = true;
      main_cv_.notify_one();
    }
  }
}

}  // namespace racksmith::exec::detail
