// `racksmith apply SELECTION`: carry out the plan, journaling every step, resumable.
//
// Order: load and select -> open the store -> take the apply lock (exit 3 if held) -> close
// what a killed run left open -> plan -> show it and confirm -> execute with progress ->
// summary. Hooks (docs/hooks.md): pre-apply after confirmation (a veto refuses, exit 3),
// per-step and node-state-change hooks around the executor, post-apply after the summary.
// SIGINT once: no new step starts, running ones finish; twice: running steps are
// told to stop. Either way `apply` again resumes. Docs: docs/lifecycle.md, docs/cli.md.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <unistd.h>

#include "base/clock.h"
#include "cli/apply_driver.h"
#include "cli/apply_progress.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "cli/plan_flags.h"
#include "cli/refresh.h"
#include "exec/executor.h"
#include "hooks/apply_hooks.h"
#include "hooks/hooks.h"
#include "hostlist/hostlist.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct ApplyOptions {
  PolicyFlags policy;
  ApplyDriverFlags driver;
  bool yes = false;
  bool json = false;
  int concurrency = 32;
  int per_rack = 0;
  int per_partition = 0;
  int per_firmware_group = 4;
  int max_attempts = 3;
  double step_timeout_s = 3600;
  std::string max_failures;
  std::string hooks_dir;  // empty: hooks/ beside the inventory, if it exists
  bool no_hooks = false;
  double hook_timeout_s = 30;
};

// The hooks folder: --hooks-dir (must exist), else hooks/ beside the inventory (may not).
Result<hooks::HookRunner> OpenHooks(const CliContext& ctx, const ApplyOptions& opt,
                                    const inventory::Inventory& inv) {
  if (opt.no_hooks) return hooks::HookRunner();
  hooks::HookOptions options;
  options.dir = opt.hooks_dir.empty() ? hooks::DefaultHooksDir(ctx.inventory_path) : opt.hooks_dir;
  if (!opt.hooks_dir.empty() && access(opt.hooks_dir.c_str(), F_OK) != 0) {
    return InvalidInput("--hooks-dir " + opt.hooks_dir + ": no such folder");
  }
  options.timeout_ms = static_cast<int64_t>(opt.hook_timeout_s * 1000);
  options.env = {{"RACKSMITH_INVENTORY", ctx.inventory_path}, {"RACKSMITH_SITE", inv.site}};
  return hooks::HookRunner::Open(std::move(options));
}

exec::Interrupt g_interrupt;

void OnSigint(int) { g_interrupt.Raise(); }

// Nodes that apply touches, and whether a step is destructive (asks for confirmation).
struct Blast {
  std::vector<std::string> nodes;
  std::vector<std::string> destructive_nodes;
};

Blast BlastOf(const plan::Plan& p) {
  Blast b;
  for (const plan::NodePlan& np : p.nodes) {
    if (np.steps.empty()) continue;
    b.nodes.push_back(np.node);
    for (const plan::Step& s : np.steps) {
      if (s.destructive) {
        b.destructive_nodes.push_back(np.node);
        break;
      }
    }
  }
  return b;
}

constexpr size_t kAskAbove = 10;  // nodes; above it (or for any destructive step) apply asks

int Confirm(const ApplyOptions& opt, const Blast& blast) {
  if (opt.yes) return kExitOk;
  if (blast.destructive_nodes.empty() && blast.nodes.size() <= kAskAbove) return kExitOk;
  std::string what =
      blast.destructive_nodes.empty()
          ? hostlist::Compress(blast.nodes)
          : hostlist::Compress(blast.nodes) + ", destructive steps (power, reimage, erase) on " +
                hostlist::Compress(blast.destructive_nodes);
  if (!isatty(STDIN_FILENO)) {
    std::cerr << "refused: apply would change " << blast.nodes.size() << " node(s) (" << what
              << "); pass --yes when not run from a terminal\n";
    return kExitRefused;
  }
  std::cerr << "apply will change " << blast.nodes.size() << " node(s): " << what
            << "\nContinue? [y/N] ";
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return kExitOk;
  std::cerr << "refused: not confirmed\n";
  return kExitRefused;
}

int RunApply(const CliContext& ctx, const ApplyOptions& opt) {
  if (opt.policy.selection.empty()) {
    std::cerr << "racksmith apply: say which nodes: a hostlist or selectors (@rack:r01, ...), or "
                 "`all` (apply never defaults to every node)\n";
    return kExitUsage;
  }
  plan::Policy policy;
  if (!ParsePolicy("apply", opt.policy, &policy)) return kExitUsage;
  exec::ExecutorOptions exec_options;
  exec_options.concurrency = opt.concurrency;
  exec_options.per_rack = opt.per_rack;
  exec_options.per_partition = opt.per_partition;
  exec_options.per_firmware_group = opt.per_firmware_group;
  exec_options.max_attempts = opt.max_attempts;
  exec_options.step_timeout_ms = static_cast<int64_t>(opt.step_timeout_s * 1000);
  if (!opt.max_failures.empty()) {
    Result<plan::Limit> limit = plan::Limit::Parse(opt.max_failures);
    if (!limit.ok()) {
      std::cerr << "racksmith apply: --max-failures: " << limit.error().ToString() << "\n";
      return kExitUsage;
    }
    exec_options.max_failures = *limit;
  }

  inventory::Inventory inv;
  if (!LoadInventoryOrReport(ctx, &inv)) return kExitUsage;
  Result<std::vector<const inventory::Node*>> selected =
      inventory::Select(inv, opt.policy.selection);
  if (!selected.ok()) return FailWith("apply", selected.error());
  Result<hooks::HookRunner> hook_runner = OpenHooks(ctx, opt, inv);
  if (!hook_runner.ok()) return FailWith("apply", hook_runner.error());

  SystemClock clock;
  Result<std::unique_ptr<state::Store>> opened = state::OpenSqliteStore(ctx.state_path, clock);
  if (!opened.ok()) return FailWith("apply", opened.error());
  state::Store& store = **opened;
  std::string description = "racksmith apply " + opt.policy.selection;
  Result<state::LockInfo> lock = store.AcquireLock(description);
  if (!lock.ok()) {
    std::cerr << "racksmith apply: refused: " << lock.error().message() << "\n";
    return kExitRefused;
  }
  if (lock->stale) std::cerr << lock->ToString() << "\n";

  Result<std::vector<state::StepRecord>> interrupted = exec::RecoverInterruptedRun(store);
  if (!interrupted.ok()) return FailWith("apply", interrupted.error());
  if (!interrupted->empty()) {
    std::cerr << "The last run stopped with " << interrupted->size()
              << " step(s) in flight; each is checked by its guard before it runs again.\n";
  }
  Result<plan::Observed> observed = plan::ReadObserved(store);
  if (!observed.ok()) return FailWith("apply", observed.error());
  // The driver is made only when needed: an apply with nothing to do needs no Slurm or keys.
  Result<std::unique_ptr<exec::StepDriver>> driver = std::unique_ptr<exec::StepDriver>();
  if (opt.policy.refresh) {
    driver = MakeApplyDriver(ctx, inv, store, opt.driver);
    if (!driver.ok()) return FailWith("apply", driver.error());
    RefreshAndReport(**driver, inv, &*selected, &*observed);
  }
  plan::Plan p = plan::BuildPlan(inv, *observed, policy, &*selected);
  if (p.summary.steps == 0) {
    std::cout << plan::RenderPlanText(p, {ctx.inventory_path, ctx.state_path, true});
    return kExitOk;
  }
  if (!opt.json) std::cout << plan::RenderPlanText(p, {ctx.inventory_path, ctx.state_path, true});
  std::cout.flush();
  if (int rc = Confirm(opt, BlastOf(p)); rc != kExitOk) return rc;
  if (*driver == nullptr) {
    driver = MakeApplyDriver(ctx, inv, store, opt.driver);
    if (!driver.ok()) return FailWith("apply", driver.error());
  }

  hooks::ApplyHookContext hook_ctx{&*hook_runner, &inv, &store, &clock};
  if (hooks::HookOutcome pre = hooks::RunPreApply(hook_ctx, p); pre.vetoed) {
    std::cerr << "racksmith apply: refused: " << pre.veto << "\nNothing was done.\n";
    return kExitRefused;
  }
  exec::StepDriver* step_driver = driver->get();
  std::unique_ptr<hooks::HookedDriver> hooked;
  bool step_hooks = hook_runner->Has(hooks::HookEvent::kPreNodeStep) ||
                    hook_runner->Has(hooks::HookEvent::kPostNodeStep) ||
                    hook_runner->Has(hooks::HookEvent::kPreRetire) ||
                    hook_runner->Has(hooks::HookEvent::kPostBurnin);
  if (step_hooks) {
    hooked = std::make_unique<hooks::HookedDriver>(**driver, hook_ctx);
    step_driver = hooked.get();
  }

  ProgressStyle style = opt.json                  ? ProgressStyle::kJsonLines
                        : isatty(STDERR_FILENO)  ? ProgressStyle::kLive
                                                 : ProgressStyle::kPlain;
  std::unique_ptr<exec::EventSink> sink =
      MakeProgressSink(style, p, opt.json ? std::cout : std::cerr, ctx.color);
  exec::EventSink* event_sink = sink.get();
  std::unique_ptr<hooks::NodeStateHooks> state_hooks;
  if (hook_runner->Has(hooks::HookEvent::kNodeStateChange)) {
    state_hooks = std::make_unique<hooks::NodeStateHooks>(hook_ctx, p, sink.get());
    event_sink = state_hooks.get();
  }

  struct sigaction action {};
  action.sa_handler = OnSigint;
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  sigaction(SIGINT, &action, &previous);
  sigaction(SIGTERM, &action, nullptr);

  state::RunStart run;
  run.command_line = state::RedactCommandLine(ctx.argv);
  const char* user = std::getenv("USER");
  run.user = user != nullptr ? user : "";
  run.host = lock->holder.host;
  run.pid = getpid();
  exec::Executor executor(store, *step_driver, clock, exec_options, event_sink);
  Result<exec::RunSummary> summary = executor.Execute(p, inv, run, *interrupted, g_interrupt);
  sigaction(SIGINT, &previous, nullptr);
  if (state_hooks) state_hooks->Finish();
  if (!summary.ok()) return FailWith("apply", summary.error());
  (opt.json ? std::cerr : std::cout) << RenderApplySummary(*summary);
  (opt.json ? std::cerr : std::cout).flush();
  (void)hooks::RunPostApply(hook_ctx, p, *summary);  // failures are warnings, never the outcome
  return summary->outcome == state::RunOutcome::kSucceeded ? kExitOk : kExitFailed;
}

}  // namespace

void AddApplyCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand(
      "apply", "Carry out the plan for the selected nodes, journaling every step (resumable)");
  AddPolicyFlags(cmd, opt->policy);
  cmd->add_flag("-y,--yes", opt->yes, "Do not ask before changing more than 10 nodes or running "
                                      "destructive steps (needed when stdin is not a terminal)");
  cmd->add_flag("--json", opt->json, "JSON-lines event stream on stdout (docs/cli.md)");
  cmd->add_option("--concurrency", opt->concurrency, "Steps running at once, overall")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--per-rack", opt->per_rack, "Nodes of one rack in progress at once (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--per-partition", opt->per_partition,
                  "Nodes of one partition in progress at once (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--per-firmware-group", opt->per_firmware_group,
                  "Firmware flashes at once per BMC vendor (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-failures", opt->max_failures,
                  "Stop starting nodes once more than N (or P%) have failed");
  cmd->add_option("--max-attempts", opt->max_attempts, "Tries per step for transient errors")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--step-timeout", opt->step_timeout_s, "Seconds one step may take")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--playbooks", opt->driver.playbooks_dir,
                  "Folder of the playbooks that install components");
  cmd->add_option("--scontrol", opt->driver.scontrol, "The scontrol binary for drain and resume");
  cmd->add_option("--slurm-conf", opt->driver.slurm_conf,
                  "SLURM_CONF for scontrol ($RACKSMITH_SLURM_CONF)")
      ->envname("RACKSMITH_SLURM_CONF");
  cmd->add_option("--boot-timeout", opt->driver.boot_timeout_s,
                  "Seconds a node may take to come back after a reset or reimage")
      ->check(CLI::PositiveNumber);
  auto* hooks_dir = cmd->add_option(
      "--hooks-dir", opt->hooks_dir,
      "Folder of hooks (<event>.d/ executables, docs/hooks.md); default: hooks/ beside the "
      "inventory, when it exists");
  cmd->add_flag("--no-hooks", opt->no_hooks, "Run no hooks")->excludes(hooks_dir);
  cmd->add_option("--hook-timeout", opt->hook_timeout_s, "Seconds one hook may run")
      ->check(CLI::PositiveNumber);
  cmd->footer("Takes the apply lock (exit 3 if another apply holds it). Interrupt once to stop "
              "starting steps, twice to stop running ones; `apply` again resumes. "
              "Exit: 0 all done, 1 some nodes failed or interrupted, 2 bad input, 3 refused. "
              "Docs: docs/lifecycle.md");
  cmd->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunApply(ctx, *opt); }; });
}

}  // namespace racksmith::cli
