#include "state/node_state.h"

#include <fmt/format.h>

#include <string>

namespace racksmith::state {

std::string_view NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kNew:
      return "new";
    case NodeState::kDiscovered:
      return "discovered";
    case NodeState::kProvisioning:
      return "provisioning";
    case NodeState::kBurnin:
      return "burnin";
    case NodeState::kActive:
      return "active";
    case NodeState::kDraining:
      return "draining";
    case NodeState::kMaintenance:
      return "maintenance";
    case NodeState::kRetiring:
      return "retiring";
    case NodeState::kRetired:
      return "retired";
    case NodeState::kFailed:
      return "failed";
  }
  return "unknown";
}

Result<NodeState> ParseNodeState(std::string_view name) {
  std::string valid;
  for (NodeState s : kAllNodeStates) {
    if (NodeStateName(s) == name) return s;
    if (!valid.empty()) valid += ", ";
    valid += NodeStateName(s);
  }
  return InvalidInput(fmt::format("unknown node state '{}'; expected one of: {}", name, valid));
}

}  // namespace racksmith::state
