// `racksmith plan [SELECTION] [--json] [--confirm-erase]`: what apply would do, and why.
// Reads the inventory and the state store (never creates it: a missing store means every
// node is new) and never touches a machine. Output: docs/lifecycle.md, "The plan".
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "base/clock.h"
#include "cli/cli.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct PlanOptions {
  std::string selection;
  bool json = false;
  bool confirm_erase = false;
  bool retry_failed = false;
  std::string max_unavailable_partition = "25%";
  std::string max_unavailable_rack = "50%";
};

int RunPlan(const CliContext& ctx, const PlanOptions& opt) {
  plan::Policy policy;
  for (auto [text, limit] : {std::pair{&opt.max_unavailable_partition,
                                       &policy.max_unavailable_per_partition},
                             std::pair{&opt.max_unavailable_rack, &policy.max_unavailable_per_rack}}) {
    Result<plan::Limit> parsed = plan::Limit::Parse(*text);
    if (!parsed.ok()) {
      std::cerr << "racksmith plan: " << parsed.error().ToString() << "\n";
      return kExitUsage;
    }
    *limit = *parsed;
  }
  policy.confirm_erase = opt.confirm_erase;
  policy.retry_failed = opt.retry_failed;

  inventory::LoadOutcome loaded = inventory::LoadInventoryAll(ctx.inventory_path);
  if (!loaded.ok()) {
    for (const Error& e : loaded.errors) std::cerr << e.ToString() << "\n";
    std::cerr << "invalid: " << ctx.inventory_path << ": " << loaded.errors.size()
              << (loaded.errors.size() == 1 ? " error" : " errors")
              << " (run `racksmith validate` for details)\n";
    return kExitUsage;
  }
  const inventory::Inventory& inv = loaded.inventory;
  std::optional<std::vector<const inventory::Node*>> selected;
  if (!opt.selection.empty()) {
    Result<std::vector<const inventory::Node*>> nodes = inventory::Select(inv, opt.selection);
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
  cmd->add_option("SELECTION", opt->selection,
                  "Only these nodes: a hostlist or selectors (@rack:r01, @profile:NAME, ...)");
  cmd->add_flag("--json", opt->json, "JSON output (schema in docs/lifecycle.md)");
  cmd->add_flag("--confirm-erase", opt->confirm_erase,
                "Erase the disks of nodes the inventory retires (otherwise they are held)");
  cmd->add_flag("--retry-failed", opt->retry_failed,
                "Re-verify and re-provision failed nodes the inventory wants active");
  cmd->add_option("--max-unavailable-partition", opt->max_unavailable_partition,
                  "Nodes of a partition out of service at once: a count or a percentage");
  cmd->add_option("--max-unavailable-rack", opt->max_unavailable_rack,
                  "Nodes of a rack out of service at once: a count or a percentage");
  cmd->footer("Reads the inventory and the state store; never creates the store and never "
              "touches a machine. Docs: docs/lifecycle.md");
  cmd->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunPlan(ctx, *opt); }; });
}

}  // namespace racksmith::cli
