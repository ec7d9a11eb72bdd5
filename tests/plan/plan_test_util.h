// Helpers for the planner's tests: inventories from text, observed state from a store, and
// a simulated executor that applies a plan to an in-memory store the way `apply` will.
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

namespace racksmith::plan::testing {

#define PLAN_REQUIRE_OK(expr)                                                   \
  do {                                                                          \
    auto&& rs_result_ = (expr);                                                 \
    if (!rs_result_.ok()) FAIL(#expr << ": " << rs_result_.error().ToString()); \
  } while (0)

inline inventory::Inventory MustLoad(const std::string& yaml,
                                     const std::string& file = "inventory/site.yaml") {
  Result<inventory::Inventory> inv = inventory::LoadInventoryFromString(yaml, file);
  if (!inv.ok()) FAIL("inventory does not load: " << inv.error().ToString() << "\n" << yaml);
  return std::move(*inv);
}

inline std::unique_ptr<state::Store> MustOpenMemory(const Clock& clock) {
  Result<std::unique_ptr<state::Store>> store = state::OpenMemoryStore(clock);
  if (!store.ok()) FAIL("memory store: " << store.error().ToString());
  return std::move(*store);
}

inline Observed MustObserve(state::Store& store) {
  Result<Observed> observed = ReadObserved(store);
  if (!observed.ok()) FAIL("reading the store: " << observed.error().ToString());
  return std::move(*observed);
}

/// A BMC facts report (the `bmc inventory --json` shape) for this hardware.
inline std::string FactsJson(const DiscoveredHardware& hw) {
  nlohmann::json gpus = nlohmann::json::array();
  for (const std::string& m : hw.gpu_models) gpus.push_back({{"model", m}});
  return nlohmann::json{{"gpus", gpus}, {"memory_gib", hw.memory_gib}, {"logical_cpus", hw.cpus}}
      .dump();
}

/// Hardware exactly as the node's profile says.
inline DiscoveredHardware MatchingHardware(const inventory::Node& node) {
  DiscoveredHardware hw;
  hw.gpu_models.assign(node.hardware.gpus.count, node.hardware.gpus.model);
  hw.memory_gib = node.hardware.memory_gib;
  hw.cpus = node.hardware.cpus;
  return hw;
}

/// Records every component of the node as applied at the inventory's hashes.
inline void RecordAllComponents(state::Store& store, const inventory::Inventory& inv,
                                const inventory::Node& node) {
  std::vector<state::ComponentRecord> records;
  for (const DesiredComponent& d : ComponentsOf(inv, node)) {
    records.push_back({node.name, d.name, d.version, d.hash, 0, 0});
  }
  PLAN_REQUIRE_OK(store.RecordComponents(records));
}

/// Puts every node of the inventory in the store as active with all components current.
inline void SeedConverged(state::Store& store, const inventory::Inventory& inv) {
  std::vector<std::string> names;
  for (const inventory::Node& n : inv.nodes) names.push_back(n.name);
  PLAN_REQUIRE_OK(store.EnsureNodes(names, state::NodeState::kNew));
  for (const inventory::Node& n : inv.nodes) {
    RecordAllComponents(store, inv, n);
    PLAN_REQUIRE_OK(store.SetNodeState(n.name, state::NodeState::kActive, "", 0));
  }
}

/// What a simulated apply did.
struct ApplyOutcome {
  std::vector<std::string> failed;  // nodes that ended in failed during this apply
};

/// Applies `plan` as the executor will: per node, its steps in order; a step's on_start
/// state before it, its component record (or removal) and on_success state after it. A
/// discover step checks `truth` (the real hardware; a node without an entry matches its
/// profile), records it as BMC facts, and on a mismatch marks the node failed and stops it.
inline ApplyOutcome SimulateApply(state::Store& store, const inventory::Inventory& inv,
                                  const Plan& plan,
                                  const std::map<std::string, DiscoveredHardware>& truth = {}) {
  ApplyOutcome outcome;
  std::vector<std::string> names;  // the executor registers the nodes it has work for
  for (const NodePlan& np : plan.nodes) {
    if (!np.steps.empty()) names.push_back(np.node);
  }
  PLAN_REQUIRE_OK(store.EnsureNodes(names, state::NodeState::kNew));
  for (const NodePlan& np : plan.nodes) {
    const inventory::Node* node = inv.FindNode(np.node);
    REQUIRE(node != nullptr);
    for (const Step& step : np.steps) {
      if (step.on_start) PLAN_REQUIRE_OK(store.SetNodeState(np.node, *step.on_start, "", 0));
      bool stop = false;
      switch (step.kind) {
        case StepKind::kDiscover: {
          auto it = truth.find(np.node);
          DiscoveredHardware hw = it != truth.end() ? it->second : MatchingHardware(*node);
          PLAN_REQUIRE_OK(store.RecordBmcFacts(np.node, FactsJson(hw)));
          if (auto why = HardwareMismatch(node->hardware, hw)) {
            PLAN_REQUIRE_OK(store.SetNodeState(np.node, state::NodeState::kFailed, *why, 0));
            outcome.failed.push_back(np.node);
            stop = true;
          }
          break;
        }
        case StepKind::kQuarantine:  // succeeds: the node is drained and marked failed
          PLAN_REQUIRE_OK(store.SetNodeState(np.node, state::NodeState::kFailed, step.reason, 0));
          outcome.failed.push_back(np.node);
          continue;
        case StepKind::kRemove:
          PLAN_REQUIRE_OK(store.ForgetComponent(np.node, step.component));
          break;
        case StepKind::kRetire: {  // an erased node keeps nothing
          Result<std::vector<state::ComponentRecord>> records = store.Components(np.node);
          PLAN_REQUIRE_OK(records);
          for (const state::ComponentRecord& r : *records) {
            PLAN_REQUIRE_OK(store.ForgetComponent(np.node, r.component));
          }
          break;
        }
        default:
          break;
      }
      if (stop) break;
      if (!step.hash.empty()) {
        PLAN_REQUIRE_OK(store.RecordComponents(
            {{np.node, step.component, step.to_version, step.hash, 0, 0}}));
      }
      if (step.on_success) {
        PLAN_REQUIRE_OK(store.SetNodeState(np.node, *step.on_success, "", 0));
      }
    }
  }
  return outcome;
}

/// The node's plan in `plan`, or nullptr.
inline const NodePlan* Find(const Plan& plan, const std::string& node) {
  for (const NodePlan& np : plan.nodes) {
    if (np.node == node) return &np;
  }
  return nullptr;
}

/// "kind[/component]" of each step, in order: a compact view for assertions.
inline std::vector<std::string> StepNames(const NodePlan& np) {
  std::vector<std::string> out;
  for (const Step& s : np.steps) {
    out.push_back(std::string(StepKindName(s.kind)) +
                  (s.component.empty() ? "" : "/" + s.component));
  }
  return out;
}

}  // namespace racksmith::plan::testing
