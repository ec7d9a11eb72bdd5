// `racksmith hostkey list [NODE]` and `racksmith hostkey forget NODE`: the SSH host keys
// recorded in the state store (first contact records; a changed key refuses the node).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "cli/cli.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct HostkeyOptions {
  std::string node;
  bool json = false;
};

int RunHostkey(const CliContext& ctx, const HostkeyOptions& opt, bool forget) {
  SystemClock clock;
  auto store = state::OpenSqliteStore(ctx.state_path, clock);
  if (!store.ok()) {
    std::cerr << "racksmith hostkey: " << store.error().ToString() << "\n";
    return kExitFailed;
  }
  if (forget) {
    auto n = (*store)->ForgetHostKeys(opt.node);
    if (!n.ok()) {
      std::cerr << "racksmith hostkey forget: " << n.error().ToString() << "\n";
      return kExitFailed;
    }
    std::cout << "forgot " << *n << " host key(s) of " << opt.node << "\n";
    return kExitOk;
  }
  auto keys = (*store)->HostKeys(opt.node);
  if (!keys.ok()) {
    std::cerr << "racksmith hostkey list: " << keys.error().ToString() << "\n";
    return kExitFailed;
  }
  if (opt.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& k : *keys) {
      arr.push_back({{"node", k.node},
                     {"address", k.address},
                     {"key_type", k.key_type},
                     {"key", k.key},
                     {"first_seen", k.first_seen},
                     {"last_seen", k.last_seen}});
    }
    std::cout << arr.dump(2) << "\n";
  } else {
    for (const auto& k : *keys) {
      std::cout << k.node << " " << k.address << " " << k.key_type << " " << k.key << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

void AddHostkeyCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand("hostkey", "SSH host keys recorded for nodes");
  cmd->require_subcommand(1);
  auto opt = std::make_shared<HostkeyOptions>();
  CLI::App* list = cmd->add_subcommand("list", "Show the recorded host keys of a node");
  list->add_option("node", opt->node, "Node name")->required();
  list->add_flag("--json", opt->json, "Print as JSON");
  list->callback(
      [&ctx, opt] { ctx.action = [&ctx, opt] { return RunHostkey(ctx, *opt, false); }; });
  CLI::App* forget = cmd->add_subcommand(
      "forget", "Forget a node's host keys so a legitimately new key is recorded next time");
  forget->add_option("node", opt->node, "Node name")->required();
  forget->callback(
      [&ctx, opt] { ctx.action = [&ctx, opt] { return RunHostkey(ctx, *opt, true); }; });
}

}  // namespace racksmith::cli
