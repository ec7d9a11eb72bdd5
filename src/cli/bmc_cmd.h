// racksmith/cli (internal to the `bmc` subcommands): which BMCs a command talks to, running
// an operation on all of them at once, and printing grouped results.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bmc/bmc.h"
#include "cli/cli.h"
#include "inventory/inventory.h"
#include "redfish/redfish.h"

namespace racksmith::cli {

/// Flags every `bmc` subcommand shares.
struct BmcFlags {
  std::string selection;      // positional: hostlist/selectors into the inventory
  std::string bmc_url;        // --bmc: talk to this BMC directly, no inventory
  std::string user;           // --user (with --bmc)
  std::string password_env;   // --password-env (with --bmc): the variable holding the password
  std::string auth = "auto";  // --auth auto|session|basic (with --bmc)
  bool insecure = false;      // --insecure (with --bmc)
  std::string ca_file;        // --ca-file (with --bmc)
  std::string pin;            // --pin sha256//BASE64 (with --bmc)
  std::string system_id;      // --system
  double timeout_s = 30;      // --timeout: one request
  int parallel = 64;          // --parallel: BMCs worked on at once
  bool json = false;
  bool yes = false;
};

/// One node to act on: its name, its BMC, or why it cannot be reached at all.
struct BmcNode {
  std::string name;
  redfish::Target target;
  std::string error;  // set when the target could not be built (e.g. a missing secret)
  /// What the inventory says the node has (from its profile); unset with --bmc URL.
  std::optional<inventory::Hardware> expected;
  std::string profile;
};

/// What one node answered: text to group and print, JSON for --json, or an error.
struct NodeOutcome {
  bool ok = false;
  std::string text;
  nlohmann::json json;
  std::string json_text;  // RunOnBmcs keeps `json` compacted here (with --json)
  std::string error;
};

/// Adds the shared flags to `cmd`.
void AddBmcFlags(CLI::App* cmd, BmcFlags& flags, bool changes_machines);

/// Resolves the nodes: --bmc (a single direct target) or the inventory selection. On a usage
/// problem prints it and returns an exit code through *exit_code.
bool ResolveBmcNodes(const CliContext& ctx, const BmcFlags& flags, std::vector<BmcNode>* nodes,
                     int* exit_code);

/// The Redfish target of an inventory node, its password resolved now (kept in memory only).
/// InvalidInput for a non-Redfish driver, a missing address or an unresolvable secret.
Result<redfish::Target> BmcTargetOf(const inventory::Node& node, const std::string& system_id);

/// For a command that changes machines: OK when --yes, or on a TTY the user says yes.
/// Returns kExitOk to go on, else the exit code to return.
int ConfirmChange(const BmcFlags& flags, const std::vector<BmcNode>& nodes,
                  const std::string& what);

using NodeOperation = std::function<NodeOutcome(bmc::Bmc& bmc, const BmcNode& node)>;

/// Runs `op` on every node at once (at most flags.parallel), with sessions closed at the end
/// and on SIGINT; prints the results grouped by identical text (or JSON) and the failures.
/// Returns kExitOk, or kExitFailed when any node failed.
int RunOnBmcs(const BmcFlags& flags, const std::vector<BmcNode>& nodes, const NodeOperation& op);

/// JSON views of the driver's values (the --json schema, docs/redfish.md).
nlohmann::json HardwareJson(const bmc::HardwareReport& r);
std::string HardwareText(const bmc::HardwareReport& r);
/// How the hardware found differs from what the inventory expects: GPU count and model,
/// memory, logical CPUs (as the planner checks them) and the number of drives. Empty when
/// it matches.
std::vector<std::string> HardwareDifferences(const inventory::Hardware& expected,
                                             const bmc::HardwareReport& found);

}  // namespace racksmith::cli
