// `racksmith hostlist`: expand, compress and count Slurm hostlists, like
// `scontrol show hostnames` / `scontrol show hostlist`.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "hostlist/hostlist.h"

namespace racksmith::cli {
namespace {

struct HostlistOptions {
  bool expand = false;
  bool compress = false;
  bool count = false;
  bool json = false;
  std::vector<std::string> args;
};

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// The expression with a caret under `col` (1-based), cut to a window around it when long.
std::string CaretDisplay(std::string_view expression, int col) {
  constexpr size_t kWidth = 72;
  size_t at = col > 0 ? static_cast<size_t>(col - 1) : 0;
  size_t begin = 0;
  if (expression.size() > kWidth && at > kWidth / 2) {
    begin = std::min(at - kWidth / 2, expression.size() - std::min(expression.size(), kWidth));
  }
  std::string shown(expression.substr(begin, kWidth));
  for (char& c : shown) {  // one byte, one column: keeps the caret under the column
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = (c == '\t' || c == '\n' || c == '\r') ? ' ' : '?';
  }
  std::string lead = begin > 0 ? "  ..." : "  ";
  std::string out = lead + shown + (begin + kWidth < expression.size() ? "...\n" : "\n");
  out += std::string(lead.size() + (at - begin), ' ') + "^\n";
  return out;
}

int ReportError(const Error& error, std::string_view expression, const std::string& origin) {
  std::string out = "racksmith hostlist: ";
  if (!origin.empty()) out += origin + ": ";
  out += error.message() + "\n";
  if (error.where().col > 0) out += CaretDisplay(expression, error.where().col);
  std::cerr << out;
  return kExitUsage;
}

// One input expression: where it came from (for messages) and its text.
struct Input {
  std::string origin;
  std::string text;
};

std::vector<Input> CollectInputs(const HostlistOptions& opt) {
  std::vector<Input> inputs;
  for (const std::string& arg : opt.args) {
    if (arg != "-") {
      inputs.push_back({"", arg});
      continue;
    }
    std::string line;
    int line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      inputs.push_back({"stdin line " + std::to_string(line_no), line});
    }
  }
  return inputs;
}

int Run(const HostlistOptions& opt) {
  std::vector<Input> inputs = CollectInputs(opt);
  // Each input is checked on its own so that an error's column points into that input.
  size_t total = 0;
  for (const Input& in : inputs) {
    auto n = hostlist::Count(in.text);
    if (!n.ok()) return ReportError(n.error(), in.text, in.origin);
    total += *n;
    if (total > hostlist::kMaxHosts) {
      std::cerr << "racksmith hostlist: expected at most " << hostlist::kMaxHosts
                << " names in all, found more\n";
      return kExitUsage;
    }
  }
  std::vector<std::string> names;
  if (!opt.count && !opt.compress) {
    names.reserve(total);
    for (const Input& in : inputs) {
      auto expanded = hostlist::Expand(in.text);
      if (!expanded.ok()) return ReportError(expanded.error(), in.text, in.origin);
      names.insert(names.end(), std::make_move_iterator(expanded->begin()),
                   std::make_move_iterator(expanded->end()));
    }
  }

  std::string out;
  if (opt.count) {
    out = opt.json ? "{\"count\": " + std::to_string(total) + "}\n" : std::to_string(total) + "\n";
  } else if (opt.compress) {
    // As `scontrol show hostlist a,b,c`: the inputs are one comma-separated expression.
    // No input at all (an empty stdin) is the empty hostlist, as scontrol prints it.
    std::string joined;
    for (const Input& in : inputs) joined += (joined.empty() ? "" : ",") + in.text;
    std::string list;
    if (!inputs.empty()) {
      auto compressed = hostlist::CompressExpression(joined);
      if (!compressed.ok()) return ReportError(compressed.error(), joined, "");
      list = std::move(compressed).value();
    }
    if (opt.json) {
      out = "{\"hostlist\": ";
      AppendJsonString(out, list);
      out += ", \"count\": " + std::to_string(total) + "}\n";
    } else {
      out = list + "\n";
    }
  } else if (opt.json) {
    out = "[";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ", ";
      AppendJsonString(out, names[i]);
    }
    out += "]\n";
  } else {
    for (const std::string& n : names) {
      out += n;
      out += '\n';
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace

void AddHostlistCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<HostlistOptions>();
  auto* cmd = app.add_subcommand(
      "hostlist",
      "Expand, compress or count Slurm hostlists (as scontrol show hostnames/hostlist)");
  auto* e = cmd->add_flag("-e,--expand", opt->expand,
                          "Print every name, one per line, in Slurm's order (the default)");
  auto* c = cmd->add_flag("-c,--compress", opt->compress,
                          "Print the names (or hostlists) as one hostlist, as Slurm prints it");
  auto* n = cmd->add_flag("-n,--count", opt->count, "Print how many names the hostlists hold");
  e->excludes(c)->excludes(n);
  c->excludes(n);
  cmd->add_flag("--json", opt->json,
                "JSON output: an array of names; {\"hostlist\", \"count\"}; or {\"count\"}");
  cmd->add_option("HOSTLIST", opt->args,
                  "Hostlist expressions, e.g. gpu-r01-n[01-16]; '-' reads names or hostlists "
                  "from stdin, one per line or comma separated")
      ->required();
  cmd->footer(
      "Examples:\n"
      "  racksmith hostlist -e 'gpu-r01-n[01-04],login1'\n"
      "  printf 'n1\\nn2\\nn3\\n' | racksmith hostlist -c -\n"
      "  racksmith hostlist -n '10.1.0.[11-26]'\n"
      "Malformed input exits 2 and shows the column. Syntax: docs/hostlist.md");
  cmd->callback([&ctx, opt] { ctx.action = [opt] { return Run(*opt); }; });
}

}  // namespace racksmith::cli
