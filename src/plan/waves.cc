// Rolling waves: max_unavailable per partition and per rack (docs/lifecycle.md, "Waves").
#include <algorithm>
#include <string>
#include <unordered_map>

#include "plan/plan_internal.h"

namespace racksmith::plan {
namespace {

// States in which a node that was in service is out of it now.
bool OutOfService(NodeState s) {
  return s == NodeState::kDraining || s == NodeState::kMaintenance || s == NodeState::kRetiring ||
         s == NodeState::kFailed;
}

struct Groups {
  std::unordered_map<std::string, int> ids;
  std::vector<std::string> names;
  std::vector<int> total, out, budget;

  int Id(const std::string& key) {
    auto [it, added] = ids.emplace(key, static_cast<int>(names.size()));
    if (added) {
      names.push_back(key);
      total.push_back(0);
      out.push_back(0);
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
  if (std::none_of(rolled.begin(), rolled.end(), [](bool r) { return r; })) return;
  Groups g;
  std::vector<int> ids;
  // Group sizes and what is already out count every node of the inventory, selected or not.
  for (const inventory::Node& node : inventory.nodes) {
    auto it = by_name.find(node.name);
    std::optional<NodeState> current;
    if (it != by_name.end()) current = it->second->node.state;
    bool gone = node.state == inventory::NodeState::kRetired &&
                (!current || *current == NodeState::kRetired);
    if (gone) continue;
    g.Of(node.rack, node.slurm.partitions, ids);
    for (int id : ids) {
      ++g.total[id];
      if (current && OutOfService(*current)) ++g.out[id];
    }
  }
  g.budget.resize(g.names.size());
  for (size_t id = 0; id < g.names.size(); ++id) {
    const Limit& limit = g.names[id].starts_with("partition ") ? policy.max_unavailable_per_partition
                                                              : policy.max_unavailable_per_rack;
    g.budget[id] = limit.Allowed(g.total[id]) - g.out[id];
  }

  // First fit, in inventory order: a node goes into the earliest wave in which each of its
  // groups still has room. lowest[id] is the earliest wave where group id may have room.
  std::vector<std::vector<int>> used(g.names.size());
  std::vector<int> lowest(g.names.size(), 0);
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    if (!rolled[i]) continue;
    NodePlan& np = plan.nodes[i];
    g.Of(np.rack, np.partitions, ids);
    const int* blocked = nullptr;
    for (const int& id : ids) {
      if (g.budget[id] < 1) blocked = &id;
    }
    if (blocked != nullptr) {
      const int id = *blocked;
      const bool partition = g.names[id].starts_with("partition ");
      const Limit& limit =
          partition ? policy.max_unavailable_per_partition : policy.max_unavailable_per_rack;
      np.notes.push_back("waits: " + g.names[id] + " already has " + std::to_string(g.out[id]) +
                         " of " + std::to_string(g.total[id]) +
                         " nodes out of service and max_unavailable is " + limit.ToString() +
                         " (" + std::to_string(limit.Allowed(g.total[id])) + ")");
      np.steps.clear();
      np.action = NodeAction::kHeld;
      continue;
    }
    int wave = 0;
    for (int id : ids) wave = std::max(wave, lowest[id]);
    for (;;) {
      bool fits = true;
      for (int id : ids) {
        if (static_cast<int>(used[id].size()) > wave && used[id][wave] >= g.budget[id]) {
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
      while (lowest[id] < static_cast<int>(used[id].size()) &&
             used[id][lowest[id]] >= g.budget[id]) {
        ++lowest[id];
      }
    }
    np.wave = wave + 1;
  }
}

}  // namespace racksmith::plan
