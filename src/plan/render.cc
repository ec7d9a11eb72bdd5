// The plan for people (grouped, Terraform-style) and for machines (--json, schema 1).
#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "hostlist/hostlist.h"
#include "plan/plan.h"

namespace racksmith::plan {
namespace {

const char* Symbol(NodeAction action) {
  switch (action) {
    case NodeAction::kAdd: return "+";
    case NodeAction::kChange: return "~";
    case NodeAction::kRetire: return "-";
    case NodeAction::kQuarantine: return "!";
    case NodeAction::kHeld: return "=";
    case NodeAction::kUnchanged: return " ";
  }
  return "?";
}

std::string CurrentName(const NodePlan& np) {
  return np.current ? std::string(state::NodeStateName(*np.current)) : "none";
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// Everything of a node's plan that is not about which node it is: nodes with equal
// signatures print once, under one hostlist.
std::string Signature(const NodePlan& np) {
  std::string sig = std::string(NodeActionName(np.action)) + "|" + CurrentName(np) + "|" +
                    inventory::NodeStateName(np.desired) + "\n";
  for (const Step& s : np.steps) {
    sig += StepKindName(s.kind);
    sig += '|' + s.component + '|' + s.reason + '|' + (s.destructive ? "d" : "") + "\n";
  }
  for (const std::string& n : np.notes) sig += "note|" + n + "\n";
  return sig;
}

template <typename F>
std::vector<std::pair<std::vector<std::string>, const NodePlan*>> GroupBy(const Plan& plan,
                                                                         F&& key) {
  std::vector<std::pair<std::vector<std::string>, const NodePlan*>> groups;
  std::unordered_map<std::string, size_t> index;
  for (const NodePlan& np : plan.nodes) {
    std::string k = key(np);
    if (k.empty()) continue;
    auto [it, added] = index.emplace(std::move(k), groups.size());
    if (added) groups.push_back({{}, &np});
    groups[it->second].first.push_back(np.node);
  }
  return groups;
}

std::string SummaryLine(const PlanSummary& s) {
  std::string line = "Plan: " + std::to_string(s.add) + " to add, " + std::to_string(s.change) +
                     " to change, " + std::to_string(s.retire) + " to retire, " +
                     std::to_string(s.quarantine) + " to quarantine, " + std::to_string(s.held) +
                     " held, " + std::to_string(s.unchanged) + " unchanged (" +
                     std::to_string(s.steps) + (s.steps == 1 ? " step" : " steps");
  if (s.waves > 0) line += " in " + std::to_string(s.waves) + (s.waves == 1 ? " wave" : " waves");
  return line + ").\n";
}

// Node names per wave (index 0: not limited), in inventory order.
std::vector<std::vector<std::string>> NodesByWave(const Plan& plan) {
  std::vector<std::vector<std::string>> waves(static_cast<size_t>(plan.summary.waves) + 1);
  for (const NodePlan& np : plan.nodes) {
    if (np.wave > 0 && np.wave <= plan.summary.waves) waves[np.wave].push_back(np.node);
  }
  return waves;
}

nlohmann::json OptionalState(const std::optional<NodeState>& s) {
  return s ? nlohmann::json(std::string(state::NodeStateName(*s))) : nlohmann::json(nullptr);
}

nlohmann::json StepJson(const Step& s) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : s.params) params[k] = v;
  return {{"id", s.id},
          {"kind", StepKindName(s.kind)},
          {"component", s.component},
          {"from", s.from_version},
          {"to", s.to_version},
          {"hash", s.hash},
          {"reason", s.reason},
          {"origin", s.origin},
          {"destructive", s.destructive},
          {"guard", s.guard},
          {"needs", s.needs},
          {"on_start", OptionalState(s.on_start)},
          {"on_success", OptionalState(s.on_success)},
          {"params", params}};
}

}  // namespace

Result<Limit> Limit::Parse(std::string_view text) {
  Limit limit;
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == '%') {
    limit.percent = true;
    digits.remove_suffix(1);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), limit.value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      limit.value < 0 || (limit.percent && limit.value > 100)) {
    return InvalidInput("max_unavailable '" + std::string(text) +
                        "': expected a count of nodes (\"2\") or a percentage (\"25%\")");
  }
  return limit;
}

int Limit::Allowed(int total) const {
  if (value <= 0) return 0;
  if (!percent) return value;
  return std::max(1, static_cast<int>(static_cast<int64_t>(total) * value / 100));
}

std::string Limit::ToString() const { return std::to_string(value) + (percent ? "%" : ""); }

std::string RenderPlanText(const Plan& plan, const RenderContext& ctx) {
  std::string out = "inventory: " + ctx.inventory_path + "\nstate: " + ctx.state_path +
                    (ctx.state_exists ? "\n" : " (none yet: every node is new)\n");
  out += "\n" + SummaryLine(plan.summary);
  auto groups = GroupBy(plan, [](const NodePlan& np) {
    return np.steps.empty() && np.notes.empty() ? std::string() : Signature(np);
  });
  for (const auto& [names, np] : groups) {
    out += "\n" + std::string(Symbol(np->action)) + " " + hostlist::Compress(names) + " (" +
           std::to_string(names.size()) + (names.size() == 1 ? " node" : " nodes") +
           "): " + NodeActionName(np->action) + ", " + CurrentName(*np) + " -> " +
           inventory::NodeStateName(np->desired) + "\n";
    for (const Step& s : np->steps) {
      out += "    " + Pad(StepKindName(s.kind), 11) + Pad(s.component, 15) + s.reason;
      if (s.destructive) out += "  [destructive]";
      out += "\n";
    }
    for (const std::string& n : np->notes) out += "    note: " + n + "\n";
  }
  if (plan.summary.waves > 0) {
    out += "\nRolling waves (max_unavailable: partition " +
           plan.policy.max_unavailable_per_partition.ToString() + ", rack " +
           plan.policy.max_unavailable_per_rack.ToString() + "):\n";
    std::vector<std::vector<std::string>> waves = NodesByWave(plan);
    for (int w = 1; w <= plan.summary.waves; ++w) {
      out += "  wave " + std::to_string(w) + "  " + hostlist::Compress(waves[w]) + "\n";
    }
    out +=
        "  apply starts them in this order, each node as soon as its partitions and rack "
        "have room\n";
  }
  std::vector<std::string> unchanged;
  for (const NodePlan& np : plan.nodes) {
    if (np.steps.empty() && np.notes.empty()) unchanged.push_back(np.node);
  }
  if (!unchanged.empty()) out += "\nUnchanged: " + hostlist::Compress(unchanged) + "\n";
  if (!plan.unknown_nodes.empty()) {
    out += "\nIn the state store but not in the inventory (left alone): " +
           hostlist::Compress(plan.unknown_nodes) + "\n";
  }
  if (plan.summary.steps == 0) out += "\nNo changes: the cluster matches the inventory.\n";
  return out;
}

std::string RenderPlanJson(const Plan& plan, const RenderContext& ctx) {
  const PlanSummary& s = plan.summary;
  nlohmann::json nodes = nlohmann::json::array();
  std::vector<std::string> unchanged;
  for (const NodePlan& np : plan.nodes) {
    if (np.steps.empty() && np.notes.empty()) {
      unchanged.push_back(np.node);
      continue;
    }
    nlohmann::json steps = nlohmann::json::array();
    for (const Step& st : np.steps) steps.push_back(StepJson(st));
    nlohmann::json groups = nlohmann::json::array();
    for (int g : np.rolling_groups) groups.push_back(plan.rolling_groups.at(g).name);
    nodes.push_back({{"name", np.node},
                     {"rack", np.rack},
                     {"partitions", np.partitions},
                     {"current", OptionalState(np.current)},
                     {"desired", inventory::NodeStateName(np.desired)},
                     {"action", NodeActionName(np.action)},
                     {"wave", np.wave},
                     {"rolling_groups", std::move(groups)},
                     {"returning", np.returning},
                     {"notes", np.notes},
                     {"steps", std::move(steps)}});
  }
  nlohmann::json waves = nlohmann::json::array();
  std::vector<std::vector<std::string>> by_wave = NodesByWave(plan);
  for (int w = 1; w <= s.waves; ++w) {
    waves.push_back({{"wave", w}, {"nodes", hostlist::Compress(by_wave[w])}});
  }
  nlohmann::json rolling = nlohmann::json::array();
  for (const RollingGroup& g : plan.rolling_groups) {
    rolling.push_back({{"group", g.name},
                       {"nodes", g.nodes},
                       {"max_unavailable", g.max_unavailable},
                       {"already_out", g.already_out},
                       {"returning", g.returning},
                       {"budget", g.budget}});
  }
  nlohmann::json j = {
      {"schema", 1},
      {"inventory", ctx.inventory_path},
      {"state_path", ctx.state_path},
      {"state_exists", ctx.state_exists},
      {"policy",
       {{"max_unavailable_per_partition", plan.policy.max_unavailable_per_partition.ToString()},
        {"max_unavailable_per_rack", plan.policy.max_unavailable_per_rack.ToString()},
        {"confirm_erase", plan.policy.confirm_erase},
        {"retry_failed", plan.policy.retry_failed}}},
      {"summary",
       {{"add", s.add},
        {"change", s.change},
        {"retire", s.retire},
        {"quarantine", s.quarantine},
        {"held", s.held},
        {"unchanged", s.unchanged},
        {"steps", s.steps},
        {"waves", s.waves}}},
      {"nodes", std::move(nodes)},
      {"waves", std::move(waves)},
      {"rolling_groups", std::move(rolling)},
      {"unchanged", hostlist::Compress(unchanged)},
      {"unknown_nodes", plan.unknown_nodes}};
  return j.dump(2) + "\n";
}

}  // namespace racksmith::plan
