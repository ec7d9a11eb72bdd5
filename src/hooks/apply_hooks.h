// racksmith/hooks: hooks at the points of an apply, without the executor knowing of them.
//
// Contract:
// - RunPreApply/RunPostApply: once per apply, around Executor::Execute. A pre-apply veto means
//   the caller does not execute (nothing runs, no run is recorded).
// - HookedDriver wraps the apply's StepDriver. Around each Run: pre-retire (before the first
//   step of a node the plan retires, first attempt only), then pre-node-step; a veto of either
//   is a failed step (not transient) whose error is the veto, so the executor records the node
//   failed with it and the wrapped driver is not called. After Run: post-node-step with the
//   outcome, and post-burnin after a burn-in step with its outcome and the recorded burn-in
//   result. CheckGuard, ReadLive and FirmwareGroup pass through.
// - NodeStateHooks wraps the apply's EventSink: it forwards every event unchanged and, for
//   each lifecycle change the events show (a step's on_start when it starts, its on_success
//   when it succeeds, `failed` when a node fails), queues a node-state-change hook run. The
//   queue is served by one thread of its own in event order, so the executor's thread never
//   waits for a hook and a hook sees a node's changes in order. Finish() waits for the queue.
// - Documents (docs/hooks.md, "schema": 1) hold names, addresses, versions, states, reasons
//   and results: never a secret. Secret references in the inventory are not resolved, and not
//   even their reference text is included.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "base/clock.h"
#include "exec/executor.h"
#include "hooks/hooks.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

namespace racksmith::hooks {

/// What the documents of an apply are made from. All pointers outlive the objects using them.
struct ApplyHookContext {
  const HookRunner* runner = nullptr;
  const inventory::Inventory* inventory = nullptr;
  state::Store* store = nullptr;  // node states, BMC serials, burn-in results; may be null
  const Clock* clock = nullptr;
};

/// The pre-apply hooks with the plan (the `plan --json` document) and its nodes.
HookOutcome RunPreApply(const ApplyHookContext& ctx, const plan::Plan& plan);
/// The post-apply hooks with the run's summary and the nodes' states after it.
HookOutcome RunPostApply(const ApplyHookContext& ctx, const plan::Plan& plan,
                         const exec::RunSummary& summary);

class HookedDriver final : public exec::StepDriver {
 public:
  HookedDriver(exec::StepDriver& inner, ApplyHookContext ctx) : inner_(inner), ctx_(ctx) {}

  exec::StepOutcome Run(const plan::Step& step, const exec::StepContext& ctx) override;
  exec::GuardResult CheckGuard(const plan::Step& step, const exec::StepContext& ctx) override {
    return inner_.CheckGuard(step, ctx);
  }
  Result<plan::LiveFacts> ReadLive(const inventory::Node& node,
                                   const std::vector<std::string>& components,
                                   const exec::StepContext& ctx) override {
    return inner_.ReadLive(node, components, ctx);
  }
  std::string FirmwareGroup(const inventory::Node& node) override {
    return inner_.FirmwareGroup(node);
  }

 private:
  exec::StepDriver& inner_;
  ApplyHookContext ctx_;
};

class NodeStateHooks final : public exec::EventSink {
 public:
  /// `plan` gives each node's state before the run; `inner` (may be null) gets every event.
  NodeStateHooks(ApplyHookContext ctx, const plan::Plan& plan, exec::EventSink* inner);
  ~NodeStateHooks() override;
  NodeStateHooks(const NodeStateHooks&) = delete;
  NodeStateHooks& operator=(const NodeStateHooks&) = delete;

  void OnEvent(const exec::Event& event) override;
  /// Returns once every change seen so far has had its hooks run.
  void Finish();

 private:
  struct Change {
    int64_t run_id = 0;
    int64_t at_ms = 0;
    std::string node;
    std::string from, to, reason;
    std::optional<nlohmann::json> step;
  };
  void Record(const exec::Event& event, state::NodeState to, std::string reason);
  void Serve();

  ApplyHookContext ctx_;
  exec::EventSink* inner_;
  std::map<std::string, state::NodeState> states_;  // OnEvent only (never concurrent)
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Change> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace racksmith::hooks
