// `racksmith hooks list`: which hooks `apply` would run, per event, in order (docs/hooks.md).
// Opens the hooks folder exactly as apply does, so an unsafe hook is reported the same way.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/cli_output.h"
#include "cli/hooks_cmd.h"
#include "hooks/hooks.h"

namespace racksmith::cli {
namespace {

struct HooksListOptions {
  std::string hooks_dir;
  bool json = false;
};

int RunHooksList(const CliContext& ctx, const HooksListOptions& opt) {
  hooks::HookOptions options;
  options.dir = opt.hooks_dir.empty() ? hooks::DefaultHooksDir(ctx.inventory_path) : opt.hooks_dir;
  if (!opt.hooks_dir.empty() && access(opt.hooks_dir.c_str(), F_OK) != 0) {
    return FailWith("hooks list",
                    InvalidInput("--hooks-dir " + opt.hooks_dir + ": no such folder"));
  }
  bool exists = access(options.dir.c_str(), F_OK) == 0;
  Result<hooks::HookRunner> runner = hooks::HookRunner::Open(options);
  if (!runner.ok()) return FailWith("hooks list", runner.error());
  const std::string& dir = exists ? runner->options().dir : options.dir;
  if (opt.json) {
    nlohmann::json events = nlohmann::json::object();
    for (hooks::HookEvent e : hooks::kAllHookEvents)
      events[hooks::HookEventName(e)] = runner->HooksOf(e);
    std::cout << nlohmann::json{{"schema", 1}, {"dir", dir}, {"exists", exists}, {"events", events}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  if (!exists) {
    std::cout << "No hooks: " << dir << " does not exist.\n";
    return kExitOk;
  }
  std::cout << "Hooks in " << dir << " (in the order they run):\n";
  for (hooks::HookEvent e : hooks::kAllHookEvents) {
    const std::vector<std::string>& list = runner->HooksOf(e);
    std::cout << "  " << hooks::HookEventName(e) << (hooks::CanVeto(e) ? " (may veto)" : "") << ":"
              << (list.empty() ? " none" : "") << "\n";
    for (const std::string& path : list) std::cout << "    " << path << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddHooksCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("hooks", "The hooks apply runs (docs/hooks.md)");
  cmd->require_subcommand(1);
  auto opt = std::make_shared<HooksListOptions>();
  auto* list = cmd->add_subcommand(
      "list", "List the hooks apply would run, per event, in order (skipped files: -vv)");
  list->add_option("--hooks-dir", opt->hooks_dir,
                   "Folder of hooks; default: hooks/ beside the inventory");
  list->add_flag("--json", opt->json, "JSON: {schema, dir, exists, events: {event: [paths]}}");
  list->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunHooksList(ctx, *opt); }; });
}

}  // namespace racksmith::cli
