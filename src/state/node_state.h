// racksmith/state: the node lifecycle states, as the store records them.
//
// Contract:
// - NodeState is what racksmith last knew a node to be:
//     new -> discovered -> provisioning -> burnin -> active,
//     draining -> maintenance (upgrades, repairs), draining -> retiring -> retired,
//     failed (quarantined, with its reason) from anywhere.
// - NodeStateName prints the lowercase name used in state.db, the CLI and --json output;
//   ParseNodeState reads it back (exact, lowercase) and names the valid values on error.
// - Which transitions are allowed is the planner's business, not the store's.
#pragma once

#include <array>
#include <string_view>

#include "base/status.h"

namespace racksmith::state {

enum class NodeState {
  kNew,
  kDiscovered,
  kProvisioning,
  kBurnin,
  kActive,
  kDraining,
  kMaintenance,
  kRetiring,
  kRetired,
  kFailed,
};

/// Every state, in lifecycle order (the order `racksmith status` lists them in).
inline constexpr std::array<NodeState, 10> kAllNodeStates = {
    NodeState::kNew,     NodeState::kDiscovered, NodeState::kProvisioning, NodeState::kBurnin,
    NodeState::kActive,  NodeState::kDraining,   NodeState::kMaintenance,  NodeState::kRetiring,
    NodeState::kRetired, NodeState::kFailed,
};

/// "new", "discovered", ..., "failed".
std::string_view NodeStateName(NodeState state);

/// The inverse of NodeStateName. Anything else is InvalidInput naming the valid values.
Result<NodeState> ParseNodeState(std::string_view name);

}  // namespace racksmith::state
