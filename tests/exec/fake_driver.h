// A StepDriver for the executor's tests: scripted outcomes and guard verdicts per step id,
// optional step durations (overall or per node), a record of what ran and how much ran at
// once, and of how many nodes of each partition and rack were out of service at once.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exec/executor.h"

namespace racksmith::exec::testing {

class FakeDriver : public StepDriver {
 public:
  /// Outcomes for the attempts of one step, in order; later attempts succeed.
  void Script(const std::string& step_id, std::vector<StepOutcome> outcomes) {
    std::lock_guard<std::mutex> lock(mu_);
    script_[step_id] = std::deque<StepOutcome>(outcomes.begin(), outcomes.end());
  }
  void Guard(const std::string& step_id, GuardVerdict verdict) {
    std::lock_guard<std::mutex> lock(mu_);
    guards_[step_id] = verdict;
  }
  void SetStepMillis(int ms) { step_ms_ = ms; }
  /// Step duration for one node's steps (instead of SetStepMillis's).
  void SetNodeMillis(const std::string& node, int ms) {
    std::lock_guard<std::mutex> lock(mu_);
    node_ms_[node] = ms;
  }
  /// Called (outside the driver's lock) when a step starts, e.g. to raise an interrupt.
  std::function<void(const plan::Step&)> on_run;

  StepOutcome Run(const plan::Step& step, const StepContext& ctx) override {
    std::string rack = ctx.node_plan->rack;
    // Out of service, as Slurm sees it: from the start of its drain until its admit succeeds
    // (a node that fails in between stays out).
    std::vector<std::string> groups{"rack " + rack};
    for (const std::string& p : ctx.node_plan->partitions) groups.push_back("partition " + p);
    int ms = step_ms_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ran_.push_back(step.id);
      if (auto it = node_ms_.find(step.node); it != node_ms_.end()) ms = it->second;
      if (step.kind == plan::StepKind::kDrain) {
        for (const std::string& g : groups) {
          out_[g].insert(step.node);
          max_out_[g] = std::max<int>(max_out_[g], out_[g].size());
        }
      }
      ++running_;
      max_running_ = std::max(max_running_, running_);
      if (running_nodes_[rack].insert(step.node).second) {
        max_nodes_per_rack_ = std::max<int>(max_nodes_per_rack_, running_nodes_[rack].size());
      }
      ++node_running_[step.node];
    }
    if (on_run) on_run(step);
    for (int waited = 0; waited < ms; ++waited) {
      if (ctx.interrupt->Abort()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    if (--node_running_[step.node] == 0) running_nodes_[rack].erase(step.node);
    if (ctx.interrupt->Abort()) return StepOutcome::Failed("aborted");
    auto it = script_.find(step.id);
    StepOutcome out = StepOutcome::Ok("did " + step.id);
    if (it != script_.end() && !it->second.empty()) {
      out = it->second.front();
      it->second.pop_front();
    }
    if (step.kind == plan::StepKind::kAdmit && out.kind == StepOutcome::Kind::kSucceeded) {
      for (const std::string& g : groups) out_[g].erase(step.node);
    }
    return out;
  }

  GuardResult CheckGuard(const plan::Step& step, const StepContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    guarded_.push_back(step.id);
    auto it = guards_.find(step.id);
    GuardVerdict v = it == guards_.end() ? GuardVerdict::kNotDone : it->second;
    return {v, "fake guard for " + step.id};
  }

  std::vector<std::string> Ran() {
    std::lock_guard<std::mutex> lock(mu_);
    return ran_;
  }
  void ClearRan() {
    std::lock_guard<std::mutex> lock(mu_);
    ran_.clear();
  }
  std::vector<std::string> Guarded() {
    std::lock_guard<std::mutex> lock(mu_);
    return guarded_;
  }
  int MaxRunning() const { return max_running_; }
  int MaxNodesPerRack() const { return max_nodes_per_rack_; }
  /// The most nodes of a group ("partition gpu", "rack r01") out of service at once.
  int MaxOut(const std::string& group) {
    std::lock_guard<std::mutex> lock(mu_);
    return max_out_[group];
  }
  /// Nodes of a group out of service now.
  int Out(const std::string& group) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(out_[group].size());
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::deque<StepOutcome>> script_;
  std::map<std::string, GuardVerdict> guards_;
  std::vector<std::string> ran_;
  std::vector<std::string> guarded_;
  std::map<std::string, std::set<std::string>> running_nodes_;
  std::map<std::string, int> node_running_;
  std::map<std::string, int> node_ms_;
  std::map<std::string, std::set<std::string>> out_;  // group -> nodes out of service
  std::map<std::string, int> max_out_;
  int running_ = 0;
  int max_running_ = 0;
  int max_nodes_per_rack_ = 0;
  int step_ms_ = 0;
};

/// Collects events (the executor calls it one event at a time, in order), and notes a call
/// made while another was still in it.
class EventLog : public EventSink {
 public:
  void OnEvent(const Event& e) override {
    if (inside_.fetch_add(1) != 0) overlapped = true;
    if (hold_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(hold_us));
    events.push_back(e);
    names.push_back(EventTypeName(e.type));
    inside_.fetch_sub(1);
  }
  std::vector<Event> events;
  std::vector<std::string> names;
  int hold_us = 0;  // how long each call stays in the sink (a slow terminal)
  std::atomic<bool> overlapped{false};

 private:
  std::atomic<int> inside_{0};
};

}  // namespace racksmith::exec::testing
