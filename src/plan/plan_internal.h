// racksmith/plan (internal): pieces of the planner shared between its files.
#pragma once

#include <string_view>
#include <unordered_map>
#include <vector>

#include "plan/plan.h"

namespace racksmith::plan {

/// Cuts the nodes marked in `rolled` (active nodes the plan takes out of service) into waves
/// so that no partition and no rack ever has more than its max_unavailable out at once,
/// counting the nodes already out (draining, maintenance, retiring, failed) of the whole
/// inventory. A node that cannot fit even alone is held: its steps are dropped, with a note.
void AssignWaves(const inventory::Inventory& inventory,
                 const std::unordered_map<std::string_view, const state::NodeSnapshot*>& by_name,
                 const Policy& policy, const std::vector<bool>& rolled, Plan& plan);

}  // namespace racksmith::plan
