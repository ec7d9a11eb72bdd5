// `racksmith template render`: renders a Jinja2-compatible template with variables from
// YAML/JSON files and --set key=value pairs.
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
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

int Render(const std::string& path, const std::vector<std::string>& vars_files,
           const std::vector<std::string>& sets, const std::string& out_path) {
  OJson ctx = OJson::object();
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
  struct Opts {
    std::string path, out;
    std::vector<std::string> vars, sets;
  };
  auto opts = std::make_shared<Opts>();
  render->add_option("TEMPLATE", opts->path, "Template file")->required();
  render->add_option("--vars", opts->vars, "YAML or JSON file of variables (repeatable)");
  render->add_option("--set", opts->sets, "key=value (value parsed as YAML; repeatable)");
  render->add_option("-o,--output", opts->out, "Write to this file instead of stdout");
  render->callback([&ctx, opts] {
    ctx.action = [opts] { return Render(opts->path, opts->vars, opts->sets, opts->out); };
  });
}

}  // namespace racksmith::cli
