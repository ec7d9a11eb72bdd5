// The racksmith binary: parses the command line and runs the selected subcommand.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "cli/logging.h"

namespace racksmith::cli {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

int Main(int argc, char** argv) {
  CliContext ctx;
  ctx.argv.assign(argv, argv + argc);
  ctx.inventory_path = EnvOr("RACKSMITH_INVENTORY", "inventory");
  ctx.state_path = EnvOr("RACKSMITH_STATE", ".racksmith/state.db");

  CLI::App app{"racksmith: declarative provisioning and node lifecycle for GPU/HPC clusters",
               "racksmith"};
  app.set_version_flag("--version", std::string("racksmith ") + RACKSMITH_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  bool no_color = false;
  app.add_option("-i,--inventory", ctx.inventory_path,
                 "Inventory file or directory of *.yaml ($RACKSMITH_INVENTORY)");
  app.add_option("--state", ctx.state_path, "State database ($RACKSMITH_STATE)");
  app.add_flag("-v,--verbose", ctx.verbosity, "More log output on stderr (repeat for more)");
  app.add_flag("--no-color", no_color, "Never colour output (also: NO_COLOR)");
  app.footer("Exit codes: 0 done, 1 some nodes failed, 2 usage or invalid input, 3 refused.\n"
             "Docs: docs/cli.md");

  AddVersionCommand(app, ctx);
  AddHostlistCommand(app, ctx);
  AddValidateCommand(app, ctx);
  AddInventoryCommand(app, ctx);
  AddStatusCommand(app, ctx);
  AddPlanCommand(app, ctx);
  AddApplyCommand(app, ctx);
  AddHistoryCommand(app, ctx);
  AddBmcCommand(app, ctx);
  AddTemplateCommand(app, ctx);
  AddExecCommand(app, ctx);
  AddHostkeyCommand(app, ctx);
  AddLabCommand(app, ctx);
  AddCopyCommand(app, ctx);
  AddPlaybookCommand(app, ctx);
  AddStateCommand(app, ctx);
  AddCompletionCommand(app, ctx);  // last: it walks every command added above

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  ctx.color = !no_color && std::getenv("NO_COLOR") == nullptr && isatty(STDOUT_FILENO);
  SetUpLogging(ctx.verbosity);
  if (!ctx.action) {
    std::cerr << app.help();
    return kExitUsage;
  }
  return ctx.action();
}

}  // namespace
}  // namespace racksmith::cli

int main(int argc, char** argv) { return racksmith::cli::Main(argc, argv); }
