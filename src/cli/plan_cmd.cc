// `racksmith plan [SELECTION] [--json] [--confirm-erase]`: what apply would do, and why.
// Reads the inventory and the state store (never creates it: a missing store means every
// node is new) and never touches a machine. Output: docs/lifecycle.md, "The plan".
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "cli/apply_driver.h"
#include "cli/plan_flags.h"
#include "cli/refresh.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct PlanOptions {
  PolicyFlags policy;
  bool json = false;
};

int RunPlan(const CliContext& ctx, const PlanOptions& opt) {
  plan::Policy policy;
  if (!ParsePolicy("plan", opt.policy, &policy)) return kExitUsage;

  inventory::Inventory inv;
  if (!LoadInventoryOrReport(ctx, &inv)) return kExitUsage;
  std::optional<std::vector<const inventory::Node*>> selected;
  if (!opt.policy.selection.empty()) {
    Result<std::vector<const inventory::Node*>> nodes = inventory::Select(inv, opt.policy.selection);
    if (!nodes.ok()) {
      std::cerr << "racksmith plan: " << nodes.error().ToString() << "\n";
      return kExitUsage;
    }
    selected = std::move(*nodes);
  }

  SystemClock clock;
  state::StoreOptions store_options;
  store_options.create_if_missing = false;
  Result<std::unique_ptr<state::Store>> store =
      state::OpenSqliteStore(ctx.state_path, clock, store_options);
  plan::Observed observed;
  bool exists = true;
  if (!store.ok() && store.error().code() == ErrorCode::kNotFound) {
    exists = false;
  } else if (!store.ok()) {
    std::cerr << "racksmith plan: " << store.error().ToString() << "\n";
    return store.error().code() == ErrorCode::kUnsupported ? kExitRefused : kExitFailed;
  } else {
    Result<plan::Observed> read = plan::ReadObserved(**store);
    if (!read.ok()) {
      std::cerr << "racksmith plan: " << read.error().ToString() << "\n";
      return kExitFailed;
    }
    observed = std::move(*read);
    if (opt.policy.refresh) {
      Result<std::unique_ptr<exec::StepDriver>> driver =
          MakeApplyDriver(ctx, inv, **store, ApplyDriverFlags{});
      if (!driver.ok()) {
        std::cerr << "racksmith plan: " << driver.error().ToString() << "\n";
        return kExitFailed;
      }
      RefreshAndReport(**driver, inv, selected ? &*selected : nullptr, &observed);
    }
  }
  if (opt.policy.refresh && !exists) {
    std::cerr << "refresh: no state store yet, so nothing is recorded to drift from\n";
  }

  plan::Plan result =
      plan::BuildPlan(inv, observed, policy, selected ? &*selected : nullptr);
  plan::RenderContext render{ctx.inventory_path, ctx.state_path, exists};
  std::cout << (opt.json ? plan::RenderPlanJson(result, render)
                         : plan::RenderPlanText(result, render));
  return kExitOk;
}

}  // namespace

void AddPlanCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand(
      "plan", "Show what apply would do to bring the cluster to the inventory, and why");
  AddPolicyFlags(cmd, opt->policy);
  cmd->add_flag("--json", opt->json, "JSON output (schema in docs/lifecycle.md)");
  cmd->footer("Reads the inventory and the state store; never creates the store and never "
              "touches a machine. Docs: docs/lifecycle.md");
  cmd->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunPlan(ctx, *opt); }; });
}

}  // namespace racksmith::cli

namespace racksmith::cli {

void AddPolicyFlags(CLI::App* cmd, PolicyFlags& flags) {
  cmd->add_option("SELECTION", flags.selection,
                  "Only these nodes: a hostlist or selectors (@rack:r01, @profile:NAME, ...)");
  cmd->add_flag("--confirm-erase", flags.confirm_erase,
                "Erase the disks of nodes the inventory retires (otherwise they are held)");
  cmd->add_flag("--retry-failed", flags.retry_failed,
                "Re-verify and re-provision failed nodes the inventory wants active");
  cmd->add_flag("--refresh", flags.refresh,
                "First read live facts (BMC power and firmware, driver and CUDA versions, "
                "component markers) and plan to bring drifted nodes back");
  cmd->add_option("--max-unavailable-partition", flags.max_unavailable_partition,
                  "Nodes of a partition out of service at once: a count or a percentage");
  cmd->add_option("--max-unavailable-rack", flags.max_unavailable_rack,
                  "Nodes of a rack out of service at once: a count or a percentage");
}

bool ParsePolicy(const char* command, const PolicyFlags& flags, plan::Policy* policy) {
  for (auto [text, limit] :
       {std::pair{&flags.max_unavailable_partition, &policy->max_unavailable_per_partition},
        std::pair{&flags.max_unavailable_rack, &policy->max_unavailable_per_rack}}) {
    Result<plan::Limit> parsed = plan::Limit::Parse(*text);
    if (!parsed.ok()) {
      std::cerr << "racksmith " << command << ": " << parsed.error().ToString() << "\n";
      return false;
    }
    *limit = *parsed;
  }
  policy->confirm_erase = flags.confirm_erase;
  policy->retry_failed = flags.retry_failed;
  return true;
}

}  // namespace racksmith::cli
