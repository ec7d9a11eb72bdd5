// racksmith/cli: the `racksmith` command line. One file per subcommand (<noun>_cmd.cc).
//
// Contract:
// - Every subcommand registers itself with Add<Noun>Command(app, ctx): it adds a CLI11
//   subcommand and sets ctx.action when selected. main() parses, then runs ctx.action and
//   exits with its value (see ExitCode; documented in docs/cli.md).
// - stdout carries results, stderr logs and progress. Read commands take --json.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace racksmith::cli {

enum ExitCode : int {
  kExitOk = 0,       // done
  kExitFailed = 1,   // some nodes (or checks) failed
  kExitUsage = 2,    // usage error or invalid input
  kExitRefused = 3,  // refused: lock held, interlock, confirmation missing
};

/// Options every subcommand can see, set from global flags and the environment.
struct CliContext {
  std::string inventory_path;  // -i/--inventory, $RACKSMITH_INVENTORY, else "inventory"
  std::string state_path;      // --state, $RACKSMITH_STATE, else ".racksmith/state.db"
  int verbosity = 0;           // -v count
  bool color = false;          // stdout is a TTY and NO_COLOR is unset and no --no-color
  std::vector<std::string> argv;  // as given, for the run's record (redacted before storing)
  std::function<int()> action;  // set by the selected subcommand
};

void AddVersionCommand(CLI::App& app, CliContext& ctx);
void AddHostlistCommand(CLI::App& app, CliContext& ctx);
void AddValidateCommand(CLI::App& app, CliContext& ctx);
void AddInventoryCommand(CLI::App& app, CliContext& ctx);
void AddStatusCommand(CLI::App& app, CliContext& ctx);
void AddHistoryCommand(CLI::App& app, CliContext& ctx);
void AddBmcCommand(CLI::App& app, CliContext& ctx);
void AddExecCommand(CLI::App& app, CliContext& ctx);
void AddHostkeyCommand(CLI::App& app, CliContext& ctx);
void AddLabCommand(CLI::App& app, CliContext& ctx);
void AddCopyCommand(CLI::App& app, CliContext& ctx);
void AddTemplateCommand(CLI::App& app, CliContext& ctx);
void AddPlaybookCommand(CLI::App& app, CliContext& ctx);
void AddPlanCommand(CLI::App& app, CliContext& ctx);
void AddApplyCommand(CLI::App& app, CliContext& ctx);
void AddStateCommand(CLI::App& app, CliContext& ctx);
/// Registers `completion` and `manpage`; call it last: they describe every command added before.
void AddCompletionCommand(CLI::App& app, CliContext& ctx);

}  // namespace racksmith::cli
