// `racksmith status [SELECTION] [--json]`: what the state store knows, grouped by lifecycle
// state. Reads only: a missing store is reported, never created. A SELECTION that is a plain
// hostlist needs no inventory (the store may know nodes the inventory no longer lists);
// selectors (@rack:, @profile:, @state:, ..., exclusions, "all") are applied to the inventory.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "hostlist/hostlist.h"
#include "inventory/inventory.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

using state::NodeSnapshot;
using state::NodeState;

struct StatusOptions {
  std::string selection;
  bool json = false;
};

// "n2" before "n10": names compare by their text and by the value of their digit runs, so
// the groups print in the order an operator counts racks.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view da = std::string_view(a).substr(i, ie - i);
      std::string_view db = std::string_view(b).substr(j, je - j);
      while (da.size() > 1 && da[0] == '0') da.remove_prefix(1);
      while (db.size() > 1 && db[0] == '0') db.remove_prefix(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      if (ie - i != je - j) return ie - i > je - j;  // more padding first: n001 < n01
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::string Compress(std::vector<std::string> names) {
  std::sort(names.begin(), names.end(), NaturalLess);
  return hostlist::Compress(names);
}

std::string StepSummary(const NodeSnapshot& s) {
  if (!s.last_step) return "no steps yet";
  const state::StepRecord& step = *s.last_step;
  std::string what = step.kind;
  if (!step.component.empty() && step.component != step.kind) what += " " + step.component;
  return "last step: " + what + " " + std::string(state::StepStatusName(step.status)) + " (run " +
         std::to_string(step.run_id) + ")";
}

nlohmann::json StepJson(const state::StepRecord& step) {
  nlohmann::json j = {{"id", step.id},
                      {"run_id", step.run_id},
                      {"kind", step.kind},
                      {"component", step.component},
                      {"status", state::StepStatusName(step.status)},
                      {"attempt", step.attempt},
                      {"started_at", state::FormatTimeIso(step.started_at)},
                      {"finished_at", nullptr},
                      {"error", step.error}};
  if (step.finished_at != 0) j["finished_at"] = state::FormatTimeIso(step.finished_at);
  return j;
}

nlohmann::json NodeJson(const NodeSnapshot& s) {
  nlohmann::json comps = nlohmann::json::array();
  for (const state::ComponentRecord& c : s.components) {
    comps.push_back({{"component", c.component},
                     {"version", c.version},
                     {"content_hash", c.content_hash},
                     {"applied_at", state::FormatTimeIso(c.applied_at)},
                     {"run_id", c.run_id}});
  }
  return {{"name", s.node.name},
          {"state", state::NodeStateName(s.node.state)},
          {"reason", s.node.reason},
          {"updated_at", state::FormatTimeIso(s.node.updated_at)},
          {"components", comps},
          {"last_step", s.last_step ? StepJson(*s.last_step) : nlohmann::json(nullptr)}};
}

nlohmann::json LockJson(const std::optional<state::LockHolder>& lock) {
  if (!lock) return nullptr;
  return {{"description", lock->description},
          {"pid", lock->pid},
          {"host", lock->host},
          {"since", state::FormatTimeIso(lock->since)},
          {"stale", state::LockHolderIsGone(*lock)}};
}

int PrintMissing(const CliContext& ctx, const StatusOptions& opt) {
  if (opt.json) {
    nlohmann::json j = {{"state_path", ctx.state_path},
                        {"exists", false},
                        {"schema_version", nullptr},
                        {"lock", nullptr},
                        {"counts", nlohmann::json::object()},
                        {"nodes", nlohmann::json::array()},
                        {"not_in_store", nlohmann::json::array()}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "no state database at " << ctx.state_path
              << ": nothing has been applied yet (use --state or $RACKSMITH_STATE to "
                 "point at another)\n";
  }
  return kExitOk;
}

// True when every term of the selection is a hostlist to include: no selector, no exclusion.
bool IsPlainHostlist(const inventory::Selection& selection) {
  for (const auto& term : selection.terms()) {
    if (term.exclude || term.kind != inventory::Selection::Term::Kind::kHosts) return false;
  }
  return true;
}

// The node names a selection stands for, or why it stands for none.
Result<std::vector<std::string>> SelectedNames(const CliContext& ctx, const std::string& text) {
  auto selection = inventory::Selection::Parse(text);
  if (!selection.ok()) return selection.error();
  if (IsPlainHostlist(*selection)) return hostlist::Expand(text);
  auto inv = inventory::LoadInventory(ctx.inventory_path);
  if (!inv.ok()) {
    return InvalidInput(
        "selectors need the inventory (-i/--inventory, $RACKSMITH_INVENTORY), "
        "which did not load from " +
        ctx.inventory_path + ":\n" + inv.error().ToString());
  }
  auto picked = selection->Apply(*inv);
  if (!picked.ok()) return picked.error();
  std::vector<std::string> names;
  for (const inventory::Node* node : *picked) names.push_back(node->name);
  return names;
}

int RunStatus(const CliContext& ctx, const StatusOptions& opt) {
  std::optional<std::set<std::string>> wanted;
  if (!opt.selection.empty()) {
    Result<std::vector<std::string>> names = SelectedNames(ctx, opt.selection);
    if (!names.ok()) {
      std::cerr << "racksmith status: selection '" << opt.selection
                << "': " << names.error().ToString() << "\n";
      return kExitUsage;
    }
    wanted.emplace(names->begin(), names->end());
  }

  SystemClock clock;
  state::StoreOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<state::Store>> store =
      state::OpenSqliteStore(ctx.state_path, clock, options);
  if (!store.ok() && store.error().code() == ErrorCode::kNotFound) return PrintMissing(ctx, opt);
  if (!store.ok()) {
    std::cerr << "racksmith status: " << store.error().ToString() << "\n";
    return ExitCodeFor(store.error());
  }
  Result<std::vector<NodeSnapshot>> loaded = (*store)->LoadSnapshots();
  Result<std::optional<state::LockHolder>> lock = (*store)->CurrentLock();
  if (!loaded.ok() || !lock.ok()) {
    const Error& e = !loaded.ok() ? loaded.error() : lock.error();
    std::cerr << "racksmith status: " << e.ToString() << "\n";
    return ExitCodeFor(e);
  }

  std::vector<NodeSnapshot> nodes;
  std::vector<std::string> not_in_store;
  if (wanted) {
    std::set<std::string> seen;
    for (NodeSnapshot& s : *loaded) {
      if (wanted->count(s.node.name)) {
        seen.insert(s.node.name);
        nodes.push_back(std::move(s));
      }
    }
    for (const std::string& n : *wanted) {
      if (!seen.count(n)) not_in_store.push_back(n);
    }
  } else {
    nodes = std::move(*loaded);
  }
  std::sort(nodes.begin(), nodes.end(), [](const NodeSnapshot& a, const NodeSnapshot& b) {
    return NaturalLess(a.node.name, b.node.name);
  });
  std::map<NodeState, std::vector<const NodeSnapshot*>> by_state;
  for (const NodeSnapshot& s : nodes) by_state[s.node.state].push_back(&s);

  if (opt.json) {
    nlohmann::json counts = nlohmann::json::object();
    for (NodeState st : state::kAllNodeStates) {
      counts[std::string(state::NodeStateName(st))] = by_state[st].size();
    }
    nlohmann::json list = nlohmann::json::array();
    for (const NodeSnapshot& s : nodes) list.push_back(NodeJson(s));
    std::sort(not_in_store.begin(), not_in_store.end(), NaturalLess);
    nlohmann::json j = {{"state_path", ctx.state_path},
                        {"exists", true},
                        {"schema_version", (*store)->SchemaVersion()},
                        {"lock", LockJson(*lock)},
                        {"counts", counts},
                        {"nodes", list},
                        {"not_in_store", not_in_store}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }

  std::string out = "state: " + ctx.state_path + "\n";
  if (*lock) {
    out += "apply lock: held by '" + (*lock)->description + "' (pid " +
           std::to_string((*lock)->pid) + " on host " + (*lock)->host + ") since " +
           state::FormatTime((*lock)->since) +
           (state::LockHolderIsGone(**lock)
                ? " (stale: that process is gone; the next apply takes the lock over)"
                : "") +
           "\n";
  }
  if (nodes.empty()) {
    out += wanted ? "none of the selected nodes is in the state store\n"
                  : "no nodes yet: nothing has been applied\n";
  } else {
    out += std::to_string(nodes.size()) + (nodes.size() == 1 ? " node\n" : " nodes\n");
    for (NodeState st : state::kAllNodeStates) {
      if (by_state[st].empty()) continue;
      std::string name(state::NodeStateName(st));
      out += "  " + name + std::string(14 - std::min<size_t>(13, name.size()), ' ') +
             std::to_string(by_state[st].size()) + "\n";
    }
    for (NodeState st : state::kAllNodeStates) {
      if (by_state[st].empty()) continue;
      out += "\n" + std::string(state::NodeStateName(st)) + " (" +
             std::to_string(by_state[st].size()) + ")\n";
      // Nodes with the same reason and last step print once, under one hostlist, in the
      // order of their first node.
      std::vector<std::pair<std::string, std::vector<std::string>>> groups;
      std::map<std::string, size_t> group_of;
      for (const NodeSnapshot* s : by_state[st]) {
        std::string detail = StepSummary(*s);
        if (!s->node.reason.empty()) detail = "reason: " + s->node.reason + "; " + detail;
        auto [it, added] = group_of.emplace(detail, groups.size());
        if (added) groups.push_back({detail, {}});
        groups[it->second].second.push_back(s->node.name);
      }
      for (const auto& [detail, names] : groups) {
        out += "  " + Compress(names) + "  " + detail + "\n";
      }
    }
  }
  if (!not_in_store.empty()) {
    out += "\nnot in the state store: " + Compress(not_in_store) + "\n";
  }
  std::cout << out;
  return kExitOk;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand(
      "status", "Show what the state store knows: nodes per lifecycle state, last step, reason");
  cmd->add_option("SELECTION", opt->selection,
                  "Only these nodes: a hostlist (gpu-r01-n[01-16]), or selectors applied to "
                  "the inventory (@rack:r01,@state:maintenance,!gpu-r01-n03)");
  cmd->add_flag("--json", opt->json, "JSON output (schema in docs/state.md)");
  cmd->footer("Reads the store given by --state; never creates one. Docs: docs/state.md");
  cmd->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunStatus(ctx, *opt); }; });
}

}  // namespace racksmith::cli
