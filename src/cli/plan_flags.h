// racksmith/cli (internal to `plan` and `apply`): the policy flags both take, so that apply
// carries out exactly the plan `plan` shows for the same flags.
#pragma once

#include <string>

#include "plan/plan.h"

namespace CLI {
class App;
}

namespace racksmith::cli {

struct PolicyFlags {
  std::string selection;
  bool confirm_erase = false;
  bool retry_failed = false;
  bool refresh = false;  // read live facts first (drift)
  std::string max_unavailable_partition = "25%";
  std::string max_unavailable_rack = "50%";
};

/// Adds SELECTION (positional), --confirm-erase, --retry-failed, --refresh,
/// --max-unavailable-*.
void AddPolicyFlags(CLI::App* cmd, PolicyFlags& flags);

/// The Policy the flags say; on a bad limit prints "racksmith COMMAND: ..." and returns false.
bool ParsePolicy(const char* command, const PolicyFlags& flags, plan::Policy* policy);

}  // namespace racksmith::cli
