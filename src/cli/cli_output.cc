#include "cli/cli_output.h"

#include <algorithm>
#include <iostream>

#include "cli/cli.h"

namespace racksmith::cli {

int ExitCodeFor(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
      return kExitUsage;
    case ErrorCode::kConflict:
    case ErrorCode::kRefused:
    case ErrorCode::kUnsupported:
      return kExitRefused;
    default:
      return kExitFailed;
  }
}

int FailWith(const char* command, const Error& error) {
  std::cerr << "racksmith " << command << ": " << error.ToString() << "\n";
  return ExitCodeFor(error);
}

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  return text;
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

bool LoadInventoryOrReport(const CliContext& ctx, inventory::Inventory* inventory) {
  inventory::LoadOutcome out = inventory::LoadInventoryAll(ctx.inventory_path);
  if (!out.ok()) {
    for (const Error& e : out.errors) std::cerr << e.ToString() << "\n";
    std::cerr << "invalid: " << ctx.inventory_path << ": " << out.errors.size()
              << (out.errors.size() == 1 ? " error" : " errors")
              << " (run `racksmith validate` for details)\n";
    return false;
  }
  *inventory = std::move(out.inventory);
  return true;
}

}  // namespace racksmith::cli
