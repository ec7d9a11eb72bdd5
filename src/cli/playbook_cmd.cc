// `racksmith playbook check PLAYBOOK` and `racksmith playbook run PLAYBOOK SELECTION`:
// validate a playbook completely, then run it on inventory nodes (or raw --hosts) over SSH.
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/ssh_targets.h"
#include "inventory/inventory.h"
#include "playbook/playbook.h"

namespace racksmith::cli {
namespace {

using playbook::Json;

struct PlaybookOptions {
  std::string path;
  SshTargetFlags targets;
  bool check = false;
  bool diff = false;
  bool json = false;
  std::vector<std::string> tags;
  std::vector<std::string> extra;
  int fanout = 64;
  double connect_timeout_s = 10;
};

// -e key=value: the value is read as YAML (3 is a number, [a, b] a list), like --set.
bool ParseExtraVars(const std::vector<std::string>& pairs, Json* out) {
  for (const auto& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "racksmith playbook: -e expects key=value, found '" << p << "'\n";
      return false;
    }
    std::string value = p.substr(eq + 1);
    Json v = value;
    try {
      YAML::Node n = YAML::Load(value);
      if (n.IsScalar() && n.Tag() != "!") {
        // Only plain numbers and booleans change type; everything else stays text.
        Json parsed = Json::parse(value, nullptr, false);
        if (!parsed.is_discarded() && (parsed.is_number() || parsed.is_boolean())) v = parsed;
      } else if (n.IsSequence() || n.IsMap()) {
        Json parsed = Json::parse(value, nullptr, false);
        if (!parsed.is_discarded()) v = parsed;
      }
    } catch (const YAML::Exception&) {
    }
    (*out)[p.substr(0, eq)] = v;
  }
  return true;
}

std::optional<playbook::Playbook> LoadOrReport(const std::string& path) {
  playbook::LoadOutcome out = playbook::LoadPlaybookAll(path);
  if (out.ok()) return std::move(out.playbook);
  for (const auto& e : out.errors) std::cerr << e.ToString() << "\n";
  std::cerr << "racksmith playbook: " << path << ": " << out.errors.size()
            << (out.errors.size() == 1 ? " error" : " errors") << "\n";
  return std::nullopt;
}

int RunCheck(const PlaybookOptions& opt) {
  auto pb = LoadOrReport(opt.path);
  if (!pb) return kExitUsage;
  if (opt.json) {
    std::cout << nlohmann::json({{"playbook", opt.path},
                                 {"valid", true},
                                 {"tasks", pb->tasks.size()},
                                 {"handlers", pb->handlers.size()}})
                     .dump(2)
              << "\n";
  } else {
    std::cout << opt.path << ": ok (" << pb->tasks.size() << " tasks, " << pb->handlers.size()
              << " handlers)\n";
  }
  return kExitOk;
}

int RunRun(const CliContext& ctx, const PlaybookOptions& opt) {
  auto pb = LoadOrReport(opt.path);
  if (!pb) return kExitUsage;
  playbook::RunOptions run;
  run.check = opt.check;
  run.diff = opt.diff;
  run.fanout = opt.fanout;
  for (const auto& t : opt.tags) {
    size_t pos = 0;
    while (pos <= t.size()) {
      size_t comma = t.find(',', pos);
      if (comma == std::string::npos) comma = t.size();
      if (comma > pos) run.tags.push_back(t.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  if (!ParseExtraVars(opt.extra, &run.extra_vars)) return kExitUsage;

  SshTargets resolved;
  int exit_code = kExitOk;
  if (!ResolveSshTargets(ctx, opt.targets, "playbook run", &resolved, &exit_code)) {
    return exit_code;
  }
  if (exit_code != kExitOk) return exit_code;
  // Templates see the whole inventory (slurm.conf lists every node), and each node its own.
  std::optional<inventory::Inventory> inv;
  if (opt.targets.hosts.empty()) {
    auto loaded = inventory::LoadInventory(ctx.inventory_path);
    if (!loaded.ok()) {
      std::cerr << "racksmith playbook: " << loaded.error().ToString() << "\n";
      return kExitUsage;
    }
    inv = std::move(loaded).value();
  }
  std::vector<playbook::Target> targets;
  bool unresolved = false;
  for (const auto& t : resolved.nodes) {
    if (!t.error.empty()) {
      std::cerr << "racksmith playbook: " << t.error << "\n";
      unresolved = true;
      continue;
    }
    playbook::Target target;
    target.endpoint = t.endpoint;
    const inventory::Node* node = inv ? inv->FindNode(t.endpoint.node) : nullptr;
    if (node != nullptr) {
      target.node = Json(inventory::NodeContext(*inv, *node));
    } else {
      target.node = {{"name", t.endpoint.node}, {"ip", t.endpoint.address}};
    }
    targets.push_back(std::move(target));
  }
  if (unresolved) return kExitUsage;
  Json nodes = Json::array();
  if (inv) {
    run.globals["site"] = inv->site;
    for (const auto& n : inv->nodes) nodes.push_back(Json(inventory::NodeContext(*inv, n)));
  } else {
    for (const auto& t : targets) nodes.push_back(t.node);
  }
  run.globals["nodes"] = std::move(nodes);

  std::unique_ptr<SshSession> session = OpenSshSession(ctx, "playbook", opt.connect_timeout_s);
  if (!session) return kExitFailed;
  transport::Transport& transport = *session->transport;
  std::mutex progress_mu;
  if (ctx.verbosity > 0) {
    run.progress = [&](const std::string& node, const std::string& line) {
      std::lock_guard<std::mutex> lock(progress_mu);
      std::cerr << node << ": " << line << "\n";
    };
  }
  playbook::RunReport report = playbook::RunPlaybook(*pb, targets, transport, run);
  if (opt.json) {
    std::cout << playbook::ReportJson(*pb, report).dump(2) << "\n";
  } else {
    std::cout << playbook::FormatReport(*pb, report, opt.diff || opt.check);
  }
  return report.AllSucceeded() ? kExitOk : kExitFailed;
}

}  // namespace

void AddPlaybookCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<PlaybookOptions>();
  CLI::App* pb = app.add_subcommand("playbook", "Validate and run playbooks (docs/playbooks.md)");
  pb->require_subcommand(1);

  CLI::App* check = pb->add_subcommand("check", "Validate a playbook completely; touch nothing");
  check->add_option("playbook", opt->path, "Playbook file")->required();
  check->add_flag("--json", opt->json, "Print the result as JSON");
  check->callback([&ctx, opt] { ctx.action = [opt] { return RunCheck(*opt); }; });

  CLI::App* run = pb->add_subcommand(
      "run", "Run a playbook on nodes: SELECTION from the inventory, or --hosts ADDRESSES");
  run->add_option("playbook", opt->path, "Playbook file")->required();
  run->add_option("selection", opt->targets.selection,
                  "Inventory nodes: hostlist and selectors (lab-n[01-04], @rack:r01, all)");
  AddSshTargetFlags(run, opt->targets);
  run->add_flag("--check", opt->check, "Change nothing; show what would change, with diffs");
  run->add_flag("--diff", opt->diff, "Show unified diffs of changed files");
  run->add_option("--tags", opt->tags, "Run only tasks with these tags (comma-separated)");
  run->add_option("-e,--extra-vars", opt->extra, "key=value (repeatable; beats playbook vars)");
  run->add_flag("--json", opt->json, "Print results as JSON");
  run->add_option("-f,--fanout", opt->fanout, "Nodes in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  run->add_option("--connect-timeout", opt->connect_timeout_s, "Connect timeout in seconds")
      ->capture_default_str();
  run->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunRun(ctx, *opt); }; });
}

}  // namespace racksmith::cli
