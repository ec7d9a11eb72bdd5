// Shared machinery of the `racksmith bmc ...` subcommands: targets, confirmation, fan-out
// over one RedfishFleet, grouped output.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "base/text.h"
#include "cli/bmc_cmd.h"
#include "exec/cluster_driver_redfish.h"
#include "hostlist/hostlist.h"
#include "inventory/inventory.h"

namespace racksmith::cli {
namespace {

std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

void AddBmcFlags(CLI::App* cmd, BmcFlags& f, bool changes_machines) {
  cmd->add_option("selection", f.selection,
                  "Nodes from the inventory: hostlist and selectors (gpu-r01-n[01-04],@rack:r01)");
  cmd->add_option("--bmc", f.bmc_url, "Talk to this BMC directly instead (https://host[:port])");
  cmd->add_option("--user", f.user, "User name for --bmc");
  cmd->add_option(
      "--password-env", f.password_env,
      "Environment variable holding the password for --bmc (never on the command line)");
  cmd->add_option("--auth", f.auth,
                  "Auth for --bmc: auto (session, Basic if no sessions), "
                  "session or basic")
      ->check(CLI::IsMember({"auto", "session", "basic"}));
  cmd->add_flag("--insecure", f.insecure, "Do not verify the --bmc TLS certificate (warned)");
  cmd->add_option("--ca-file", f.ca_file, "PEM CA bundle to verify the --bmc certificate");
  cmd->add_option("--pin", f.pin, "Pinned public key of the --bmc certificate: sha256//BASE64");
  cmd->add_option("--system", f.system_id, "ComputerSystem Id when a BMC has several");
  cmd->add_option("--timeout", f.timeout_s, "Seconds for one request to one BMC")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--parallel", f.parallel, "BMCs worked on at once")->check(CLI::Range(1, 4096));
  if (changes_machines) {
    cmd->add_flag("-y,--yes", f.yes, "Do it without asking (required when not on a terminal)");
  } else {
    cmd->add_flag("--json", f.json, "Print JSON (schema: docs/redfish.md)");
  }
}

bool ResolveBmcNodes(const CliContext& ctx, const BmcFlags& f, std::vector<BmcNode>* nodes,
                     int* exit_code) {
  auto usage = [&](const std::string& msg) {
    std::cerr << "error: " << msg << "\n";
    *exit_code = kExitUsage;
    return false;
  };
  if (!f.bmc_url.empty()) {
    if (!f.selection.empty()) return usage("give either a node selection or --bmc, not both");
    if (AddressHasCredentials(f.bmc_url, /*user_allowed=*/false)) {
      return usage(
          "--bmc: credentials in the address are not accepted (not shown: they would end up "
          "in output and logs); give --user and --password-env");
    }
    BmcNode n;
    n.target.url = f.bmc_url;
    n.name = HostOf(f.bmc_url);
    n.target.username = f.user;
    if (!f.password_env.empty()) {
      const char* pw = std::getenv(f.password_env.c_str());
      if (!pw || !*pw)
        return usage("--password-env " + f.password_env + ": the variable is unset or empty");
      n.target.password = pw;
    }
    n.target.auth = f.auth == "basic"     ? redfish::AuthMode::kBasic
                    : f.auth == "session" ? redfish::AuthMode::kSession
                                          : redfish::AuthMode::kAuto;
    n.target.tls.insecure = f.insecure;
    n.target.tls.ca_file = f.ca_file;
    n.target.tls.pinned_pubkey = f.pin;
    n.target.system_id = f.system_id;
    nodes->push_back(std::move(n));
    return true;
  }
  if (f.selection.empty())
    return usage("name the nodes (a hostlist or selectors such as @rack:r01), or give --bmc URL");
  Result<inventory::Inventory> inv = inventory::LoadInventory(ctx.inventory_path);
  if (!inv.ok()) {
    std::cerr << inv.error().ToString() << "\n";
    *exit_code = kExitUsage;
    return false;
  }
  Result<std::vector<const inventory::Node*>> picked = inventory::Select(*inv, f.selection);
  if (!picked.ok()) return usage(picked.error().ToString());
  if (picked->empty()) return usage("the selection '" + f.selection + "' matches no nodes");
  for (const inventory::Node* node : *picked) {
    BmcNode n;
    n.name = node->name;
    const inventory::Hardware& hw = node->hardware;
    // Compared only where the inventory says what the node has.
    if (!node->profile.empty() || hw.gpus.count > 0 || hw.memory_gib > 0 || hw.cpus > 0 ||
        !hw.drives.empty())
      n.expected = hw;
    n.profile = node->profile;
    Result<redfish::Target> target = BmcTargetOf(*node, f.system_id);
    if (target.ok()) {
      n.target = std::move(*target);
    } else {
      n.target.url = node->bmc.BaseUrl();
      n.error = target.error().message();
    }
    nodes->push_back(std::move(n));
  }
  return true;
}

Result<redfish::Target> BmcTargetOf(const inventory::Node& node, const std::string& system_id) {
  Result<redfish::Target> t = exec::RedfishTargetOf(node);
  if (t.ok() && !system_id.empty()) t->system_id = system_id;  // --system wins over bmc.system
  return t;
}

int ConfirmChange(const BmcFlags& f, const std::vector<BmcNode>& nodes, const std::string& what) {
  if (f.yes) return kExitOk;
  std::vector<std::string> names;
  for (const auto& n : nodes) names.push_back(n.name);
  std::string list = hostlist::Compress(names);
  if (!isatty(STDIN_FILENO)) {
    std::cerr << "refused: " << what << " " << names.size() << " node(s) (" << list
              << ") needs --yes when not run from a terminal\n";
    return kExitRefused;
  }
  std::cerr << "About to " << what << " " << names.size() << " node(s): " << list
            << "\nContinue? [y/N] ";
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return kExitOk;
  std::cerr << "refused: not confirmed\n";
  return kExitRefused;
}

int RunOnBmcs(const BmcFlags& f, const std::vector<BmcNode>& nodes, const NodeOperation& op) {
  redfish::FleetOptions options;
  options.client.request_timeout_ms = static_cast<int64_t>(f.timeout_s * 1000);
  options.client.connect_timeout_ms = std::min<int64_t>(options.client.request_timeout_ms, 10'000);
  options.client.deadline_ms = options.client.request_timeout_ms * 3;
  std::vector<NodeOutcome> outcomes(nodes.size());
  {
    redfish::RedfishFleet fleet(options);
    redfish::InterruptWatcher watcher(fleet);
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < nodes.size(); i = next++) {
        const BmcNode& node = nodes[i];
        if (!node.error.empty()) {
          outcomes[i].error = node.error;
          continue;
        }
        std::unique_ptr<bmc::Bmc> bmc = fleet.Connect(node.target);
        NodeOutcome o = op(*bmc, node);
        // Keep only what will be printed, compactly: a parsed JSON tree per node is several
        // times its text, and at 1,000 nodes that was most of the peak memory.
        if (f.json) {
          if (o.ok) o.json_text = o.json.dump();
          o.text.clear();
        }
        o.json = nullptr;
        outcomes[i] = std::move(o);
        // Log out while the connection is still open: at 1,000 BMCs most idle connections
        // are gone by the end, and a logout then costs a new TLS handshake.
        if (Status closed = bmc->Close(); !closed.ok()) spdlog::warn("{}", closed.error().message());
      }
    };
    std::vector<std::thread> workers;
    size_t n_workers = std::min<size_t>(nodes.size(), static_cast<size_t>(f.parallel));
    for (size_t i = 0; i < n_workers; ++i) workers.emplace_back(work);
    for (auto& w : workers) w.join();
    fleet.CloseAll();
  }

  bool any_failed = false;
  if (f.json) {
    // Streamed row by row, exactly as dump(2) of the whole array would print it, so only one
    // node's tree is in memory at a time.
    std::cout << (nodes.empty() ? "[]\n" : "[\n");
    for (size_t i = 0; i < nodes.size(); ++i) {
      nlohmann::json row{
          {"node", nodes[i].name}, {"bmc", nodes[i].target.url}, {"ok", outcomes[i].ok}};
      if (outcomes[i].ok)
        row["result"] = nlohmann::json::parse(outcomes[i].json_text);
      else
        row["error"] = outcomes[i].error;
      any_failed |= !outcomes[i].ok;
      std::string text = row.dump(2);
      std::cout << "  ";
      for (char c : text) {
        std::cout << c;
        if (c == '\n') std::cout << "  ";
      }
      std::cout << (i + 1 < nodes.size() ? ",\n" : "\n]\n");
      outcomes[i] = NodeOutcome{};
    }
    return any_failed ? kExitFailed : kExitOk;
  }
  // Identical answers print once, under the hostlist of the nodes that gave them.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> groups;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!outcomes[i].ok) continue;
    auto [it, fresh] = groups.try_emplace(outcomes[i].text);
    if (fresh) order.push_back(outcomes[i].text);
    it->second.push_back(nodes[i].name);
  }
  for (const auto& text : order) {
    std::string hosts = hostlist::Compress(groups[text]);
    if (text.find('\n') == std::string::npos) {
      std::cout << hosts << ": " << text << "\n";
    } else {
      std::cout << hosts << ":\n";
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::cout << "  " << text.substr(start, end - start) << "\n";
        start = end + 1;
      }
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (outcomes[i].ok) continue;
    any_failed = true;
    std::cout << "FAILED " << nodes[i].name << " (" << nodes[i].target.url
              << "): " << outcomes[i].error << "\n";
  }
  return any_failed ? kExitFailed : kExitOk;
}

}  // namespace racksmith::cli
