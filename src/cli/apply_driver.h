// racksmith/cli (internal to `apply`): the StepDriver apply uses, built from the inventory and
// the command's flags. One path for real clusters and the lab.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cli/cli.h"
#include "exec/executor.h"
#include "inventory/inventory.h"
#include "state/store.h"

namespace racksmith::cli {

struct ApplyDriverFlags {
  std::string playbooks_dir = "playbooks";  // --playbooks
  std::string scontrol = "scontrol";        // --scontrol
  std::string slurm_conf;                   // --slurm-conf ($RACKSMITH_SLURM_CONF)
  double boot_timeout_s = 900;              // --boot-timeout
};

/// The production driver (exec::ClusterDriver): Redfish BMCs, SSH with host keys in the
/// store, the shipped playbooks, and Slurm through scontrol.
Result<std::unique_ptr<exec::StepDriver>> MakeApplyDriver(const CliContext& ctx,
                                                          const inventory::Inventory& inventory,
                                                          state::Store& store,
                                                          const ApplyDriverFlags& flags);

}  // namespace racksmith::cli
