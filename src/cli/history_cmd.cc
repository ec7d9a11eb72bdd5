// `racksmith history NODE [--json]`: every journaled step of one node, oldest first.
// Reads only: a missing store is reported, never created.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct HistoryOptions {
  std::string node;
  bool json = false;
};

int Fail(const Error& e) { return FailWith("history", e); }

nlohmann::json ParsedOrText(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

int RunHistory(const CliContext& ctx, const HistoryOptions& opt) {
  SystemClock clock;
  state::StoreOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<state::Store>> store =
      state::OpenSqliteStore(ctx.state_path, clock, options);
  if (!store.ok()) return Fail(store.error());
  Result<state::NodeRecord> node = (*store)->GetNode(opt.node);
  if (!node.ok()) return Fail(node.error());
  Result<std::vector<state::StepRecord>> steps = (*store)->StepsOfNode(opt.node);
  if (!steps.ok()) return Fail(steps.error());

  if (opt.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const state::StepRecord& s : *steps) {
      list.push_back(
          {{"id", s.id},
           {"run_id", s.run_id},
           {"kind", s.kind},
           {"component", s.component},
           {"status", state::StepStatusName(s.status)},
           {"attempt", s.attempt},
           {"started_at", state::FormatTimeIso(s.started_at)},
           {"finished_at", s.finished_at ? nlohmann::json(state::FormatTimeIso(s.finished_at))
                                         : nlohmann::json(nullptr)},
           {"intent", ParsedOrText(s.intent_json)},
           {"error", s.error},
           {"output_tail", s.output_tail}});
    }
    nlohmann::json j = {{"node", node->name},
                        {"state", state::NodeStateName(node->state)},
                        {"reason", node->reason},
                        {"steps", list}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }

  std::string out = node->name + ": " + std::string(state::NodeStateName(node->state));
  if (!node->reason.empty()) out += " (" + node->reason + ")";
  out += " since " + state::FormatTime(node->updated_at) + "\n";
  if (steps->empty()) {
    out += "no steps journaled yet\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"RUN", "STARTED", "STEP", "COMPONENT", "TRY", "STATUS", "ERROR"}};
    for (const state::StepRecord& s : *steps) {
      rows.push_back({std::to_string(s.run_id), state::FormatTime(s.started_at), s.kind,
                      s.component.empty() ? "-" : s.component, std::to_string(s.attempt),
                      std::string(state::StepStatusName(s.status)), OneLine(s.error)});
    }
    out += Table(rows);
  }
  std::cout << out;
  return kExitOk;
}

}  // namespace

void AddHistoryCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<HistoryOptions>();
  auto* cmd = app.add_subcommand("history", "Show every step ever run on a node, oldest first");
  cmd->add_option("NODE", opt->node, "The node's name")->required();
  cmd->add_flag("--json", opt->json, "JSON output (schema in docs/state.md)");
  cmd->footer("Reads the store given by --state; never creates one. Docs: docs/state.md");
  cmd->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunHistory(ctx, *opt); }; });
}

}  // namespace racksmith::cli
