// Small pieces every subcommand's output shares: the exit code for an error, plain-text
// tables, one-line cells. Kept here so every command formats the same way.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cli/cli.h"
#include "inventory/inventory.h"

namespace racksmith::cli {

/// The exit code an error means: 2 for bad input or an unknown name, 3 for a refusal (lock
/// held, host key changed, unsupported database), 1 otherwise.
int ExitCodeFor(const Error& error);

/// Prints "racksmith COMMAND: <error>" on stderr and returns ExitCodeFor(error).
int FailWith(const char* command, const Error& error);

/// A cell on one line: newlines and tabs become spaces (errors may span lines, tables not).
std::string OneLine(std::string text);

/// Loads ctx.inventory_path; on errors prints every one and a count on stderr and returns
/// false (exit kExitUsage).
bool LoadInventoryOrReport(const CliContext& ctx, inventory::Inventory* inventory);

/// Left-aligned columns separated by two spaces, trailing spaces trimmed, one row per line.
std::string Table(const std::vector<std::vector<std::string>>& rows);

}  // namespace racksmith::cli
