// racksmith/cli: `racksmith hooks list` (hooks_cmd.cc).
#pragma once

#include "cli/cli.h"

namespace racksmith::cli {

void AddHooksCommand(CLI::App& app, CliContext& ctx);

}  // namespace racksmith::cli
