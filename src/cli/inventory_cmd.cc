// `racksmith inventory list|show`: the resolved inventory, as a table, per node, or as JSON.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "cli/cli.h"
#include "cli/cli_output.h"
#include "inventory/inventory.h"

namespace racksmith::cli {
namespace {

using inventory::Inventory;
using inventory::Node;
using json = nlohmann::json;

bool Load(const CliContext& ctx, Inventory* inv) { return LoadInventoryOrReport(ctx, inv); }

std::string Gpus(const Node& n) {
  if (n.hardware.gpus.count == 0) return "-";
  return std::to_string(n.hardware.gpus.count) + "x " + n.hardware.gpus.model;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

int List(const CliContext& ctx, const std::string& selection, bool as_json) {
  Inventory inv;
  if (!Load(ctx, &inv)) return kExitUsage;
  Result<std::vector<const Node*>> nodes =
      inventory::Select(inv, selection.empty() ? "all" : selection);
  if (!nodes.ok()) {
    std::cerr << "racksmith: " << nodes.error().ToString() << "\n";
    return kExitUsage;
  }
  if (as_json) {
    // One node at a time, laid out exactly as dump(2) of the whole array would be, so that
    // memory stays flat however many nodes there are.
    if (nodes->empty()) {
      std::cout << "[]\n";
      return kExitOk;
    }
    std::string text = "[\n";
    for (size_t i = 0; i < nodes->size(); ++i) {
      std::string one = inventory::NodeContext(inv, *(*nodes)[i]).dump(2);
      text += "  ";
      for (char c : one) {
        text += c;
        if (c == '\n') text += "  ";
      }
      text += i + 1 < nodes->size() ? ",\n" : "\n";
      if (text.size() > (1 << 16)) {
        std::cout << text;
        text.clear();
      }
    }
    std::cout << text << "]\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "RACK", "PROFILE", "STATE", "BMC", "IP", "GPUS"}};
  for (const Node* n : *nodes) {
    rows.push_back({n->name, n->rack, n->profile.empty() ? "-" : n->profile,
                    inventory::NodeStateName(n->state),
                    n->bmc.address.empty() ? "-" : n->bmc.address, n->ip, Gpus(*n)});
  }
  PrintTable(rows);
  return kExitOk;
}

// Flattens the node context to (path, value) lines; lists of scalars stay on one line.
void Flatten(const json& j, const std::string& path,
             std::vector<std::pair<std::string, json>>* out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) Flatten(v, path.empty() ? k : path + "." + k, out);
    return;
  }
  if (j.is_array() &&
      std::any_of(j.begin(), j.end(), [](const json& x) { return x.is_structured(); })) {
    for (size_t i = 0; i < j.size(); ++i)
      out->emplace_back(path + "[" + std::to_string(i) + "]", j[i]);
    return;
  }
  out->emplace_back(path, j);
}

std::string OriginText(const Inventory& inv, const Node& n, const std::string& path) {
  if (path == "name") return n.where.ToString();
  if (path.rfind("rack.", 0) == 0) {
    if (path == "rack.unit" || path == "rack.height") {
      const SourceLoc* loc = n.OriginOf(path.substr(5));
      return loc ? loc->ToString() : "default";
    }
    const inventory::Rack* r = inv.FindRack(n.rack);
    return r ? r->where.ToString() : "";
  }
  if (path == "site") return inv.site_where.ToString();
  std::string key = path.substr(0, path.find('['));
  const SourceLoc* loc = n.OriginOf(key);
  return loc ? loc->ToString() : "default";
}

int Show(const CliContext& ctx, const std::string& name, bool as_json) {
  Inventory inv;
  if (!Load(ctx, &inv)) return kExitUsage;
  const Node* n = inv.FindNode(name);
  if (n == nullptr) {
    std::cerr << "racksmith: unknown node '" << name << "' in " << ctx.inventory_path << "\n";
    return kExitUsage;
  }
  json context = inventory::NodeContext(inv, *n);
  std::vector<std::pair<std::string, json>> values;
  Flatten(context, "", &values);
  if (as_json) {
    json origins = json::object();
    for (const auto& [path, value] : values) origins[path] = OriginText(inv, *n, path);
    std::cout << json{{"node", context}, {"origins", origins}}.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"KEY", "VALUE", "FROM"}};
  for (const auto& [path, value] : values) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (text.empty()) text = "\"\"";
    std::string from = OriginText(inv, *n, path);
    rows.push_back({path, text, from.empty() ? "-" : from});
  }
  PrintTable(rows);
  return kExitOk;
}

}  // namespace

void AddInventoryCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("inventory", "Show the resolved inventory");
  cmd->require_subcommand(1);

  struct ListArgs {
    std::string selection;
    bool json = false;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list = cmd->add_subcommand("list", "List nodes (all, or a selection) as a table or JSON");
  list->add_option("selection", list_args->selection,
                   "Nodes: hostlist, all, @rack:R, @profile:P, @state:S, @partition:P, "
                   "@feature:F; comma = union, !term excludes");
  list->add_flag("--json", list_args->json, "A JSON array of fully resolved nodes");
  list->callback([&ctx, list_args] {
    ctx.action = [&ctx, list_args] { return List(ctx, list_args->selection, list_args->json); };
  });

  struct ShowArgs {
    std::string node;
    bool json = false;
  };
  auto show_args = std::make_shared<ShowArgs>();
  auto* show =
      cmd->add_subcommand("show", "Every resolved value of one node, with where it was set");
  show->add_option("node", show_args->node, "Node name")->required();
  show->add_flag("--json", show_args->json, "JSON: {node, origins}");
  show->callback([&ctx, show_args] {
    ctx.action = [&ctx, show_args] { return Show(ctx, show_args->node, show_args->json); };
  });
}

}  // namespace racksmith::cli
