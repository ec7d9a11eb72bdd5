// racksmith/plan (internal): pieces of the planner shared between its files.
#pragma once

#include <string_view>
#include <unordered_map>
#include <vector>

#include "plan/plan.h"

namespace racksmith::plan {

/// Resolves the rolling groups (partition, rack) of the nodes marked in `rolled` (active
/// nodes the plan takes out of service) and their budgets, so that no group ever has more
/// than its max_unavailable out at once, counting the nodes already out (draining,
/// maintenance, retiring, failed) of the whole inventory; gives rolled and returning nodes
/// their groups, and numbers rolled nodes into first-fit waves (the order they start in).
/// A node that cannot fit even alone is held: its steps are dropped, with a note.
void AssignWaves(const inventory::Inventory& inventory,
                 const std::unordered_map<std::string_view, const state::NodeSnapshot*>& by_name,
                 const Policy& policy, const std::vector<bool>& rolled, Plan& plan);

}  // namespace racksmith::plan
