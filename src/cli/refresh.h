// racksmith/cli (internal to `plan` and `apply`): `--refresh`, reading live facts from the
// nodes and BMCs so that the planner sees drift (docs/lifecycle.md, "Drift").
#pragma once

#include <vector>

#include "exec/executor.h"
#include "inventory/inventory.h"
#include "plan/plan.h"

namespace racksmith::cli {

struct RefreshCounts {
  int read = 0;        // nodes whose facts were read (maybe partly)
  int unreadable = 0;  // nodes with something that could not be read
};

/// Reads live facts (StepDriver::ReadLive) of the `nodes` that have component records in
/// `observed` (provisioned and not failed or retired), up to `concurrency` at once, each
/// within `timeout_ms`; stores them in observed->live. Never changes a machine.
RefreshCounts RefreshLiveFacts(exec::StepDriver& driver, const std::vector<const inventory::Node*>& nodes,
                               plan::Observed* observed, int concurrency, int64_t timeout_ms);

/// RefreshLiveFacts over `selected` (null: every node), 32 at once, 60 s each, with one
/// line on stderr saying how many nodes were read.
void RefreshAndReport(exec::StepDriver& driver, const inventory::Inventory& inventory,
                      const std::vector<const inventory::Node*>* selected,
                      plan::Observed* observed);

}  // namespace racksmith::cli
