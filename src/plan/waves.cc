// Rolling changes: max_unavailable per partition and per rack (docs/lifecycle.md, "Rolling
// changes"). The planner resolves each group's budget and gives each rolled (and returning)
// node the groups it counts against; the executor keeps the budgets as a sliding window.
// Waves number the rolled nodes: the order they start in, and batches that would fit one
// after another.
#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "plan/plan_internal.h"

namespace racksmith::plan {
namespace {

// A node that was in service and is out of it now: its state says so (draining,
// maintenance, retiring, failed), or a rolling change took it out and stopped (killed,
// interrupted) in the middle of its change: provisioning or burn-in, with a last journal
// entry of a rolled or returning node (the executor's intent says "wave" or "rolling").
// New nodes being provisioned were never in service and do not count.
bool OutOfService(const state::NodeSnapshot& snap) {
  const NodeState s = snap.node.state;
  if (s == NodeState::kDraining || s == NodeState::kMaintenance || s == NodeState::kRetiring ||
      s == NodeState::kFailed) {
    return true;
  }
  if ((s != NodeState::kProvisioning && s != NodeState::kBurnin) || !snap.last_step) return false;
  nlohmann::json intent = nlohmann::json::parse(snap.last_step->intent_json, nullptr, false);
  if (!intent.is_object()) return false;
  return intent.contains("wave") || intent.value("rolling", false);
}

// Out of service now, and its plan admits it: it comes back during the run.
bool Returning(const NodePlan& np, const state::NodeSnapshot* snap) {
  if (snap == nullptr || !OutOfService(*snap)) return false;
  return std::any_of(np.steps.begin(), np.steps.end(),
                     [](const Step& s) { return s.on_success == NodeState::kActive; });
}

struct Groups {
  std::unordered_map<std::string, int> ids;
  std::vector<std::string> names;
  std::vector<int> total, out, back;  // back: of out, the nodes this plan brings back
  std::vector<int> quarantined;       // of out, the nodes this plan's quarantines take out

  int Id(const std::string& key) {
    auto [it, added] = ids.emplace(key, static_cast<int>(names.size()));
    if (added) {
      names.push_back(key);
      total.push_back(0);
      out.push_back(0);
      back.push_back(0);
      quarantined.push_back(0);
    }
    return it->second;
  }
  void Of(const std::string& rack, const std::vector<std::string>& partitions,
          std::vector<int>& into) {
    into.clear();
    for (const std::string& p : partitions) into.push_back(Id("partition " + p));
    into.push_back(Id("rack " + rack));
  }
};

}  // namespace

void AssignWaves(const inventory::Inventory& inventory,
                 const std::unordered_map<std::string_view, const state::NodeSnapshot*>& by_name,
                 const Policy& policy, const std::vector<bool>& rolled, Plan& plan) {
  std::unordered_set<std::string_view> returning;
  for (const NodePlan& np : plan.nodes) {
    auto it = by_name.find(np.node);
    if (Returning(np, it == by_name.end() ? nullptr : it->second)) returning.insert(np.node);
  }
  // Returning nodes get their groups even when nothing else rolls: the executor counts them
  // until they are back, and their intents say "rolling", so that a run stopped in the
  // middle of their change leaves them counted out of service by the next plan.
  if (returning.empty() && std::none_of(rolled.begin(), rolled.end(), [](bool r) { return r; })) {
    return;
  }
  // A quarantine is not limited (a node whose hardware is wrong leaves at once), but the node
  // is out of service from then on: it uses up its groups' budget like a node already out,
  // so the rollout beside it takes no more than max_unavailable out in all.
  std::unordered_set<std::string_view> quarantined;
  for (const NodePlan& np : plan.nodes) {
    if (np.action == NodeAction::kQuarantine) quarantined.insert(np.node);
  }
  Groups g;
  std::vector<int> ids;
  // Group sizes and what is already out count every node of the inventory, selected or not.
  for (const inventory::Node& node : inventory.nodes) {
    auto it = by_name.find(node.name);
    const state::NodeSnapshot* snap = it == by_name.end() ? nullptr : it->second;
    bool gone = node.state == inventory::NodeState::kRetired &&
                (snap == nullptr || snap->node.state == NodeState::kRetired);
    if (gone) continue;
    g.Of(node.rack, node.slurm.partitions, ids);
    const bool out_now = snap != nullptr && OutOfService(*snap);
    const bool taken_out = !out_now && quarantined.count(node.name) > 0;
    const bool back = out_now && returning.count(node.name) > 0;
    for (int id : ids) {
      ++g.total[id];
      if (out_now || taken_out) ++g.out[id];
      if (taken_out) ++g.quarantined[id];
      if (back) ++g.back[id];
    }
  }
  const size_t n = g.names.size();
  auto limit_of = [&](size_t id) -> const Limit& {
    return g.names[id].starts_with("partition ") ? policy.max_unavailable_per_partition
                                                 : policy.max_unavailable_per_rack;
  };
  // budget: how many of the plan's nodes of the group may be out at once. Nodes that stay out
  // use it up for good; returning ones only until they are back.
  std::vector<int> allowed(n), budget(n);
  for (size_t id = 0; id < n; ++id) {
    allowed[id] = limit_of(id).Allowed(g.total[id]);
    budget[id] = allowed[id] - (g.out[id] - g.back[id]);
  }

  // First fit, in inventory order: a node goes into the earliest wave in which each of its
  // groups still has room; returning nodes take room in the first. lowest[id] is the
  // earliest wave where group id may have room.
  std::vector<std::vector<int>> used(n);
  std::vector<int> lowest(n, 0);
  auto advance = [&](int id) {
    while (lowest[id] < static_cast<int>(used[id].size()) && used[id][lowest[id]] >= budget[id]) {
      ++lowest[id];
    }
  };
  for (size_t id = 0; id < n; ++id) {
    if (g.back[id] > 0) {
      used[id].push_back(g.back[id]);
      advance(static_cast<int>(id));
    }
  }
  std::vector<int> wave_of(plan.nodes.size(), -1);  // 0-based, before renumbering
  std::vector<bool> listed(n, false);
  for (const NodePlan& np : plan.nodes) {
    if (returning.count(np.node) == 0) continue;
    g.Of(np.rack, np.partitions, ids);
    for (int id : ids) listed[id] = true;
  }
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    if (!rolled[i]) continue;
    NodePlan& np = plan.nodes[i];
    g.Of(np.rack, np.partitions, ids);
    const int* blocked = nullptr;
    for (const int& id : ids) {
      if (budget[id] < 1) blocked = &id;
    }
    if (blocked != nullptr) {
      const int id = *blocked;
      const Limit& limit = limit_of(id);
      std::string out = std::to_string(g.out[id]) + " of " + std::to_string(g.total[id]) +
                        " nodes out of service";
      if (g.back[id] > 0) {
        out += " (" + std::to_string(g.back[id]) + " come back in this plan, " +
               std::to_string(g.out[id] - g.back[id]) + " stay out)";
      }
      if (g.quarantined[id] > 0) {
        out += " (" + std::to_string(g.quarantined[id]) + " quarantined by this plan)";
      }
      np.notes.push_back("waits: " + g.names[id] + " already has " + out +
                         " and max_unavailable is " + limit.ToString() + " (" +
                         std::to_string(allowed[id]) + ")");
      np.steps.clear();
      np.action = NodeAction::kHeld;
      continue;
    }
    int wave = 0;
    for (int id : ids) wave = std::max(wave, lowest[id]);
    for (;;) {
      bool fits = true;
      for (int id : ids) {
        if (static_cast<int>(used[id].size()) > wave && used[id][wave] >= budget[id]) {
          fits = false;
          break;
        }
      }
      if (fits) break;
      ++wave;
    }
    for (int id : ids) {
      if (static_cast<int>(used[id].size()) <= wave) used[id].resize(wave + 1, 0);
      ++used[id][wave];
      advance(id);
      listed[id] = true;
    }
    wave_of[i] = wave;
  }

  // Waves are numbered from 1 without gaps (the first fit leaves the first empty when
  // returning nodes fill it).
  std::map<int, int> number;
  for (int w : wave_of) {
    if (w >= 0) number.emplace(w, 0);
  }
  int next = 0;
  for (auto& [w, k] : number) k = ++next;

  std::vector<int> index(n, -1);  // group id -> index in plan.rolling_groups
  for (size_t id = 0; id < n; ++id) {
    if (!listed[id]) continue;
    index[id] = static_cast<int>(plan.rolling_groups.size());
    plan.rolling_groups.push_back(
        {g.names[id], g.total[id], allowed[id], g.out[id] - g.back[id], g.back[id], budget[id]});
  }
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    NodePlan& np = plan.nodes[i];
    const bool back = returning.count(np.node) > 0;
    if (wave_of[i] < 0 && !back) continue;
    g.Of(np.rack, np.partitions, ids);
    for (int id : ids) {
      if (id < static_cast<int>(n) && index[id] >= 0) np.rolling_groups.push_back(index[id]);
    }
    if (wave_of[i] >= 0) {
      np.wave = number[wave_of[i]];
    } else {
      np.returning = !np.rolling_groups.empty();
    }
  }
}

}  // namespace racksmith::plan
