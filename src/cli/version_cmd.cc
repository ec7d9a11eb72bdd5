#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli.h"

namespace racksmith::cli {

void AddVersionCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("version", "Print racksmith's version");
  cmd->callback([&ctx] {
    ctx.action = [] {
      std::cout << "racksmith " << RACKSMITH_VERSION << "\n";
      return 0;
    };
  });
}

}  // namespace racksmith::cli
