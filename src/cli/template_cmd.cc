// `racksmith template render`: renders a Jinja2-compatible template with variables from
// YAML/JSON files and --set key=value pairs, and with --node NODE the node's full inventory
// context as `node` (plus `inventory_hostname`, `nodes` and `site`), the same variables a
// playbook's template task sees.
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "inventory/inventory.h"
#include "template/template.h"

namespace racksmith::cli {
namespace {

using OJson = nlohmann::ordered_json;

OJson YamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      OJson o = OJson::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      OJson a = OJson::array();
      for (const auto& e : n) a.push_back(YamlToJson(e));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      try {
        size_t pos = 0;
        long long i = std::stoll(s, &pos);
        if (pos == s.size()) return i;
        double d = std::stod(s, &pos);
        if (pos == s.size()) return d;
      } catch (...) {
      }
      return s;
    }
    default:
      return nullptr;
  }
}

struct RenderOptions {
  std::string path, out, node;
  std::vector<std::string> vars, sets;
};

int Render(const CliContext& cli, const RenderOptions& opt) {
  const std::string& path = opt.path;
  const std::vector<std::string>& vars_files = opt.vars;
  const std::vector<std::string>& sets = opt.sets;
  const std::string& out_path = opt.out;
  OJson ctx = OJson::object();
  if (!opt.node.empty()) {
    auto inv = inventory::LoadInventory(cli.inventory_path);
    if (!inv.ok()) {
      std::cerr << "racksmith: --node needs the inventory, which did not load from "
                << cli.inventory_path << ":\n"
                << inv.error().ToString() << "\n";
      return kExitUsage;
    }
    const inventory::Node* node = inv->FindNode(opt.node);
    if (node == nullptr) {
      std::cerr << "racksmith: --node " << opt.node << ": no such node in the inventory "
                << cli.inventory_path << "\n";
      return kExitUsage;
    }
    // Secrets are references in the context, never values (inventory::NodeContext).
    // As a playbook's tasks see them: `site`, `nodes` (every node, for slurm.conf), `node`.
    ctx["site"] = inv->site;
    OJson all = OJson::array();
    for (const auto& n : inv->nodes) {
      all.push_back(OJson::parse(inventory::NodeContext(*inv, n).dump()));
    }
    ctx["nodes"] = std::move(all);
    ctx["node"] = OJson::parse(inventory::NodeContext(*inv, *node).dump());
    ctx["inventory_hostname"] = node->name;
  }
  for (const auto& f : vars_files) {
    try {
      OJson v;
      if (f.size() > 5 && f.substr(f.size() - 5) == ".json") {
        std::ifstream in(f);
        if (!in) throw std::runtime_error("cannot open");
        v = OJson::parse(in);
      } else {
        v = YamlToJson(YAML::LoadFile(f));
      }
      if (!v.is_object()) throw std::runtime_error("top level is not a mapping");
      for (auto& [k, val] : v.items()) ctx[k] = val;
    } catch (const std::exception& e) {
      std::cerr << "racksmith: " << f << ": " << e.what() << "\n";
      return kExitUsage;
    }
  }
  for (const auto& s : sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "racksmith: --set expects key=value, found '" << s << "'\n";
      return kExitUsage;
    }
    ctx[s.substr(0, eq)] = YamlToJson(YAML::Load(s.substr(eq + 1)));
  }
  auto out = tmpl::RenderFile(path, ctx);
  if (!out.ok()) {
    std::cerr << "racksmith: " << out.error().ToString() << "\n";
    return kExitUsage;
  }
  if (out_path.empty()) {
    std::cout << *out;
  } else {
    std::ofstream o(out_path, std::ios::binary);
    o << *out;
    if (!o) {
      std::cerr << "racksmith: cannot write " << out_path << "\n";
      return kExitFailed;
    }
  }
  return kExitOk;
}

}  // namespace

void AddTemplateCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("template", "Render Jinja2-compatible templates");
  cmd->require_subcommand(1);
  auto* render = cmd->add_subcommand("render", "Render TEMPLATE to stdout (docs/templates.md)");
  auto opts = std::make_shared<RenderOptions>();
  render->add_option("TEMPLATE", opts->path, "Template file")->required();
  render->add_option("--vars", opts->vars, "YAML or JSON file of variables (repeatable)");
  render->add_option("--set", opts->sets, "key=value (value parsed as YAML; repeatable)");
  render->add_option("-o,--output", opts->out, "Write to this file instead of stdout");
  render->add_option("--node", opts->node,
                     "Render for this inventory node: its full context is `node` (node.ip, "
                     "node.hardware.gpus.count, ...), `inventory_hostname` its name, `nodes` every "
                     "node and `site`, as playbooks see them; --vars and --set apply on top");
  render->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Render(ctx, *opts); }; });
}

}  // namespace racksmith::cli
