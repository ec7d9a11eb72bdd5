// `racksmith state backup|check|lock|unlock`: operating the state store itself.
// backup and check are safe while an apply runs; unlock is an operator's decision and
// refuses to break a lock whose holder is still alive on this host unless --force.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct StateOptions {
  std::string destination;
  bool force = false;
  bool json = false;
};

Result<std::unique_ptr<state::Store>> OpenExisting(const CliContext& ctx, const Clock& clock) {
  state::StoreOptions options;
  options.create_if_missing = false;
  return state::OpenSqliteStore(ctx.state_path, clock, options);
}

nlohmann::json HolderJson(const state::LockHolder& h) {
  return {{"description", h.description},
          {"pid", h.pid},
          {"host", h.host},
          {"since", state::FormatTimeIso(h.since)},
          {"gone", state::LockHolderIsGone(h)}};
}

std::string HolderText(const state::LockHolder& h) {
  return h.description + " (pid " + std::to_string(h.pid) + " on host " + h.host + ") since " +
         state::FormatTime(h.since) + (state::LockHolderIsGone(h) ? ", process gone" : "");
}

int RunBackup(const CliContext& ctx, const StateOptions& opt) {
  SystemClock clock;
  auto store = OpenExisting(ctx, clock);
  if (!store.ok()) return FailWith("state backup", store.error());
  if (Status s = (*store)->BackupTo(opt.destination); !s.ok()) {
    return FailWith("state backup", s.error());
  }
  std::cerr << "state backup: " << ctx.state_path << " -> " << opt.destination
            << " (schema v" << (*store)->SchemaVersion() << ")\n";
  return kExitOk;
}

int RunCheck(const CliContext& ctx, const StateOptions& opt) {
  SystemClock clock;
  auto store = OpenExisting(ctx, clock);
  if (!store.ok()) return FailWith("state check", store.error());
  Status integrity = (*store)->CheckIntegrity();
  if (opt.json) {
    std::cout << nlohmann::json{{"path", ctx.state_path},
                                {"schema_version", (*store)->SchemaVersion()},
                                {"ok", integrity.ok()},
                                {"error", integrity.ok() ? "" : integrity.error().message()}}
                     .dump(2)
              << "\n";
    return integrity.ok() ? kExitOk : kExitFailed;
  }
  if (!integrity.ok()) return FailWith("state check", integrity.error());
  std::cout << ctx.state_path << ": ok, schema v" << (*store)->SchemaVersion() << "\n";
  return kExitOk;
}

int RunLock(const CliContext& ctx, const StateOptions& opt) {
  SystemClock clock;
  auto store = OpenExisting(ctx, clock);
  if (!store.ok()) return FailWith("state lock", store.error());
  auto holder = (*store)->CurrentLock();
  if (!holder.ok()) return FailWith("state lock", holder.error());
  if (opt.json) {
    std::cout << (holder->has_value() ? HolderJson(**holder) : nlohmann::json(nullptr)).dump(2)
              << "\n";
  } else if (holder->has_value()) {
    std::cout << "held by " << HolderText(**holder) << "\n";
  } else {
    std::cout << "not held\n";
  }
  return kExitOk;
}

int RunUnlock(const CliContext& ctx, const StateOptions& opt) {
  SystemClock clock;
  auto store = OpenExisting(ctx, clock);
  if (!store.ok()) return FailWith("state unlock", store.error());
  auto holder = (*store)->CurrentLock();
  if (!holder.ok()) return FailWith("state unlock", holder.error());
  if (!holder->has_value()) {
    std::cout << "not held; nothing to do\n";
    return kExitOk;
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  bool here = (*holder)->host == host;
  if (!opt.force && (!here || !state::LockHolderIsGone(**holder))) {
    std::cerr << "racksmith state unlock: refused: the lock is held by " << HolderText(**holder)
              << (here ? ", which is still running"
                       : ", on another host, where racksmith cannot see whether it still runs")
              << ". Stop that run (SIGINT lets it finish its steps), or give --force if you are"
                 " sure it is gone.\n";
    return kExitRefused;
  }
  // Only the holder judged gone above: an apply that took the lock over meanwhile keeps it.
  auto broken = (*store)->BreakLock(&**holder);
  if (!broken.ok() && broken.error().code() == ErrorCode::kConflict) {
    std::cerr << "racksmith state unlock: refused: " << broken.error().message() << "\n";
    return kExitRefused;
  }
  if (!broken.ok()) return FailWith("state unlock", broken.error());
  std::cout << "removed the lock of " << (broken->has_value() ? HolderText(**broken) : "nobody")
            << "\n";
  return kExitOk;
}

}  // namespace

void AddStateCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<StateOptions>();
  auto* cmd = app.add_subcommand("state", "Operate the state store: backup, check, lock");
  cmd->require_subcommand(1);
  cmd->footer("The store is the file given by --state. Docs: docs/operations.md");

  auto* backup = cmd->add_subcommand(
      "backup", "Write a consistent copy of the store to DEST (safe while an apply runs)");
  backup->add_option("DEST", opt->destination, "The copy to write; must not exist")->required();
  backup->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunBackup(ctx, *opt); }; });

  auto* check = cmd->add_subcommand("check", "Check the store's integrity and schema version");
  check->add_flag("--json", opt->json, "JSON output");
  check->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunCheck(ctx, *opt); }; });

  auto* lock = cmd->add_subcommand("lock", "Show who holds the apply lock");
  lock->add_flag("--json", opt->json, "JSON output (null when not held)");
  lock->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunLock(ctx, *opt); }; });

  auto* unlock = cmd->add_subcommand(
      "unlock", "Remove the apply lock of a run that is gone (refused while it runs)");
  unlock->add_flag("--force", opt->force,
                   "Also remove a lock whose holder may still run (another host)");
  unlock->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunUnlock(ctx, *opt); }; });
}

}  // namespace racksmith::cli
