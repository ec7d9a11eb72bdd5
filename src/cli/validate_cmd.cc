// `racksmith validate [PATH]`: load and check an inventory, report every error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/cli.h"
#include "inventory/inventory.h"

namespace racksmith::cli {
namespace {

// The offending line under each error, with a caret at the column (ninja's Lexer::Error).
class SourceLines {
 public:
  // `hide_value`: the error is about a secret written in the file; the value at the column is
  // replaced so that validate never prints it.
  std::string Excerpt(const SourceLoc& where, bool hide_value) {
    if (where.line <= 0) return "";
    auto [it, inserted] = files_.try_emplace(where.file);
    if (inserted) {
      std::ifstream in(where.file, std::ios::binary);
      std::string line;
      // Only files that loaded passed the size check; still stop at a sane count.
      while (in && it->second.size() < 2'000'000 && std::getline(in, line)) {
        it->second.push_back(line);
      }
    }
    const std::vector<std::string>& lines = it->second;
    if (static_cast<size_t>(where.line) > lines.size()) return "";
    std::string text = lines[static_cast<size_t>(where.line) - 1];
    if (!text.empty() && text.back() == '\r') text.pop_back();
    for (char& c : text) {
      if (c == '\t') c = ' ';
    }
    if (hide_value && where.col > 0) text = HideValue(text, static_cast<size_t>(where.col) - 1);
    constexpr size_t kWidth = 100;
    size_t col = where.col > 0 ? static_cast<size_t>(where.col) - 1 : 0;
    size_t start = col > kWidth - 20 ? col - (kWidth - 20) : 0;
    std::string shown = text.substr(std::min(start, text.size()), kWidth);
    std::string out = "  " + shown + "\n";
    if (where.col > 0) out += "  " + std::string(col - start, ' ') + "^\n";
    return out;
  }

 private:
  // Replaces the scalar starting at `col` (quoted, or up to the next ',', '}', ']' or " #").
  static std::string HideValue(const std::string& line, size_t col) {
    if (col >= line.size()) return line;
    size_t end = line.size();
    char quote = line[col];
    if (quote == '"' || quote == '\'') {
      size_t close = line.find(quote, col + 1);
      end = close == std::string::npos ? line.size() : close + 1;
    } else {
      size_t stop = line.find_first_of(",}]", col);
      size_t comment = line.find(" #", col);
      end = std::min({line.size(), stop, comment});
    }
    return line.substr(0, col) + "<not shown>" + line.substr(end);
  }

  std::map<std::string, std::vector<std::string>> files_;
};

}  // namespace

void AddValidateCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand(
      "validate", "Check an inventory (file or directory of *.yaml) and report every error");
  auto path = std::make_shared<std::string>();
  cmd->add_option("path", *path, "Inventory file or directory (default: the -i inventory)");
  cmd->callback([&ctx, path] {
    ctx.action = [&ctx, path] {
      std::string where = path->empty() ? ctx.inventory_path : *path;
      inventory::LoadOutcome out = inventory::LoadInventoryAll(where);
      if (!out.ok()) {
        SourceLines lines;
        for (const Error& e : out.errors) {
          bool secret = e.message().find("(not shown)") != std::string::npos;
          std::cerr << e.ToString() << "\n" << lines.Excerpt(e.where(), secret);
        }
        std::cerr << "invalid: " << where << ": " << out.errors.size()
                  << (out.errors.size() == 1 ? " error" : " errors") << "\n";
        return static_cast<int>(kExitUsage);
      }
      const inventory::Inventory& inv = out.inventory;
      std::cout << "ok: " << where << ": " << inv.nodes.size()
                << (inv.nodes.size() == 1 ? " node" : " nodes") << " in " << inv.racks.size()
                << (inv.racks.size() == 1 ? " rack, " : " racks, ") << inv.profiles.size()
                << (inv.profiles.size() == 1 ? " profile" : " profiles") << "\n";
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace racksmith::cli
