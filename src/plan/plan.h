// racksmith/plan: the planner, a pure function of (inventory, observed state, policy) -> Plan.
//
// Contract:
// - BuildPlan does no I/O, reads no clock, uses no randomness: the same input gives the same
//   Plan, and RenderPlanText/RenderPlanJson of it are byte-identical. It is linear in nodes.
// - Each node's plan is a DAG of Steps (each lists the ids of the steps it needs), so an
//   executor can run it concurrently and stop a node at its first failing step. Each step
//   carries its reason (what changed, and the inventory file:line that set it), whether it
//   is destructive, the guard an executor checks before re-running it after a crash, and the
//   lifecycle state the node takes when it starts and when it succeeds.
// - What a node has had applied is compared per component by content hash (ComponentsOf);
//   an unchanged hash plans nothing.
// - Safety: erase only for nodes the inventory retires AND Policy::confirm_erase; changes to
//   active nodes drain first and are rolled: each such node carries the groups (partitions,
//   rack) it counts against, each group its budget (max_unavailable resolved to a count, less
//   the nodes that stay out of service), so that an executor can keep max_unavailable per
//   partition and per rack as a sliding window; waves are the order and the first batches.
//   A node whose known hardware does not match its profile is quarantined (failed) and never
//   admitted. docs/lifecycle.md is the full specification.
// - ReadObserved (observed.cc) is the one function here that reads (the store); it is not
//   part of the planner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/encoding.h"  // Sha256Hex, for component hashes
#include "base/status.h"
#include "inventory/inventory.h"
#include "state/node_state.h"
#include "state/records.h"

namespace racksmith::state {
class Store;
}

namespace racksmith::plan {

using state::NodeState;

// ---- Policy ------------------------------------------------------------------------------

/// How many nodes of a group (partition, rack) may be out of service at once.
struct Limit {
  bool percent = false;
  int value = 0;
  /// "2" (a count) or "25%" (of the group's nodes). InvalidInput otherwise.
  static Result<Limit> Parse(std::string_view text);
  /// Nodes allowed out of service in a group of `total`: the count, or floor(total*value/100)
  /// but at least 1 when value > 0. A value of 0 allows none (a freeze).
  int Allowed(int total) const;
  std::string ToString() const;  // "2", "25%"
};

struct Policy {
  Limit max_unavailable_per_partition{true, 25};
  Limit max_unavailable_per_rack{true, 50};
  /// Erase the disks of nodes the inventory retires. Without it they are drained and held.
  bool confirm_erase = false;
  /// Re-verify and re-provision failed (quarantined) nodes the inventory wants active.
  bool retry_failed = false;
};

// ---- Observed state ----------------------------------------------------------------------

/// Hardware as a BMC reported it (the `racksmith bmc inventory --json` schema: "gpus"[].model,
/// "memory_gib", "cpu_count").
struct DiscoveredHardware {
  std::vector<std::string> gpu_models;  // one entry per GPU
  double memory_gib = 0;
  int cpus = 0;
};

/// Parses a BMC facts report; InvalidInput if it is not that shape.
Result<DiscoveredHardware> ParseHardwareFacts(std::string_view facts_json);

/// Each way `found` differs from `expected` ("3 GPUs, expected 4 x NVIDIA A100-SXM4-80GB");
/// empty when it matches. Memory may read up to 5 % low (firmware reservations).
std::vector<std::string> HardwareMismatches(const inventory::Hardware& expected,
                                            const DiscoveredHardware& found);
/// The same differences joined with "; ", or nullopt when it matches.
std::optional<std::string> HardwareMismatch(const inventory::Hardware& expected,
                                            const DiscoveredHardware& found);

/// A component as read on the node or its BMC just now (`plan --refresh`).
struct LiveComponent {
  std::string version;   // as reported ("550.127.05"); empty: no version read
  std::string hash;      // the hash in the node's component marker; empty: not read
  bool missing = false;  // the probe found it absent (no marker, no driver answering)
  std::string evidence;  // where it was read: "nvidia-smi", "/etc/racksmith/components/slurm"
  /// Files the component's playbooks own whose content is no longer what they wrote:
  /// "/etc/slurm/slurm.conf (sha256 1f2e..., racksmith wrote 9a8b...)" or "... (missing)".
  std::vector<std::string> changed_files;
};

/// What `plan --refresh` read from a node and its BMC (docs/lifecycle.md, "Drift").
struct LiveFacts {
  std::string power;  // the BMC's power state ("On", "Off"); empty: not read
  std::string power_evidence;
  std::map<std::string, LiveComponent> components;  // by component name
  std::vector<std::string> unreadable;  // what could not be read, and why
};

struct Observed {
  std::vector<state::NodeSnapshot> nodes;  // as Store::LoadSnapshots gives them
  std::unordered_map<std::string, DiscoveredHardware> hardware;  // node -> latest BMC facts
  /// Live facts of refreshed nodes (empty without --refresh): drift from the records.
  std::unordered_map<std::string, LiveFacts> live;
};

/// Why `live` shows the node has moved away from its record of `component` (the evidence,
/// "nvidia_driver is 535.104.05 on the node (nvidia-smi), the record says 550.127.05"), or
/// nullopt when it agrees or says nothing.
std::optional<std::string> DriftOf(const state::ComponentRecord& record, const LiveComponent& live);

/// Reads snapshots and the latest BMC facts from the store (facts that do not parse are
/// skipped: they say nothing about the hardware).
Result<Observed> ReadObserved(state::Store& store);

// ---- Components --------------------------------------------------------------------------

/// One thing applied to a node, with the hash of everything it is rendered from.
struct DesiredComponent {
  std::string name;     // "hardware", "bmc_firmware", "bios", "image", "nvidia_driver", ...
  std::string version;  // human-readable; may be empty
  std::string hash;     // hex SHA-256 of the canonical serialisation
  std::string origin_path;  // inventory path whose origin the reason names ("software.cuda")
  std::vector<std::string> depends_on;  // components whose hash is part of this one's
};

/// The node's components in apply order. Hashes chain: what an image wipes (driver, CUDA,
/// other software, Slurm, mounts) includes the image's hash; burn-in includes every other.
std::vector<DesiredComponent> ComponentsOf(const inventory::Inventory& inventory,
                                           const inventory::Node& node);

// ---- The plan ----------------------------------------------------------------------------

enum class StepKind {
  kDrain,       // drain from Slurm and wait for its jobs
  kQuarantine,  // hardware does not match: drain if admitted, mark failed
  kDiscover,    // read the hardware from the BMC, check it against the profile
  kFirmware,    // flash BMC/BIOS/other firmware (resets the node)
  kImage,       // reimage (boot override + install)
  kInstall,     // install/upgrade a software component
  kRemove,      // remove a component the inventory no longer lists
  kConfigure,   // render Slurm's node configuration
  kMount,       // configure storage mounts
  kBurnin,      // burn-in run
  kAdmit,       // resume in Slurm
  kErase,       // erase the disks
  kPowerOff,    // power off through the BMC
  kRetire,      // record the node retired
};
const char* StepKindName(StepKind kind);  // "drain", "quarantine", ...
// Whether the guard of a step of this kind asks the node itself (over SSH), which has no
// answer while the node has no system to answer with (a new node before its image); the
// others ask the BMC, Slurm or the store.
bool GuardAsksNode(StepKind kind);

struct Step {
  std::string id;  // "<node>/<kind>[/<component>]", unique in the plan
  std::string node;
  StepKind kind = StepKind::kDrain;
  std::string component;     // empty for drain, admit, erase, power_off, retire, quarantine
  std::string from_version;  // what the store records; empty if none
  std::string to_version;    // what the inventory wants; empty if none
  std::string hash;          // content hash to record on success; empty: record nothing
  std::string reason;        // "nvidia_driver 550.54.15 -> 560.35.03 (inventory/site.yaml:42)"
  std::string origin;        // "inventory/site.yaml:42"; empty if a built-in default
  bool destructive = false;  // powers off, resets, reimages or erases
  const char* guard = "";    // what the executor checks before re-running it after a crash
  std::vector<std::string> needs;          // ids of steps of the same node it waits for
  std::optional<NodeState> on_start;       // state recorded when the step starts
  std::optional<NodeState> on_success;     // state recorded when it succeeds
  std::map<std::string, std::string> params;  // what the executor needs (expected GPUs, ...)
};

enum class NodeAction {
  kAdd,        // not provisioned yet: everything from discovery
  kChange,     // provisioned: some components change, or it moves to/from maintenance
  kRetire,     // the inventory retires it
  kQuarantine, // its hardware does not match: it goes to failed
  kHeld,       // something should happen but may not (see notes)
  kUnchanged,  // nothing to do
};
const char* NodeActionName(NodeAction action);  // "add", "change", ...

struct NodePlan {
  std::string node;
  std::string rack;
  std::vector<std::string> partitions;
  std::optional<NodeState> current;  // nullopt: not in the state store
  inventory::NodeState desired = inventory::NodeState::kActive;
  NodeAction action = NodeAction::kUnchanged;
  /// 0: not limited (not in service now). k >= 1: a rolling change, in wave k. Waves are the
  /// order in which rolled nodes start and the batches that could run one after another;
  /// the executor does not wait for a wave to finish: it starts the next rolled node in
  /// (wave, plan) order as soon as each of its rolling_groups has fewer nodes out of service
  /// than its budget (docs/lifecycle.md, "Rolling changes").
  int wave = 0;
  /// Indices into Plan::rolling_groups of the groups this node counts against while it is
  /// out of service: every partition and the rack of a rolled node (wave >= 1) and of a
  /// returning one; empty otherwise.
  std::vector<int> rolling_groups;
  /// Out of service now (draining, maintenance, failed) and brought back by this plan: it
  /// counts against its rolling_groups from the start of the run until it is finished.
  /// A rolled node counts from its first step until it is finished. Either one, if it
  /// fails, counts for the rest of the run: it stays out of service.
  bool returning = false;
  std::vector<Step> steps;          // a DAG in a valid topological order
  std::vector<std::string> notes;   // why it is held, warnings
};

/// A group (a partition or a rack) that a rolling change counts against.
struct RollingGroup {
  std::string name;         // "partition gpu", "rack r01"
  int nodes = 0;            // its inventory nodes, selected or not (retired and gone excepted)
  int max_unavailable = 0;  // the policy's limit for it, as a count (Limit::Allowed(nodes))
  int already_out = 0;      // out of service now or quarantined by this plan, not brought back
  int returning = 0;        // out of service now and brought back (NodePlan::returning)
  /// max_unavailable - already_out (>= 1): how many of this plan's nodes of the group may be
  /// out of service at once, returning ones included. The executor starts a rolled node only
  /// while each of its groups has fewer than this out.
  int budget = 0;
};

struct PlanSummary {
  int add = 0, change = 0, retire = 0, quarantine = 0, held = 0, unchanged = 0;
  int steps = 0;
  int waves = 0;
};

struct Plan {
  Policy policy;
  std::vector<NodePlan> nodes;  // selected nodes, inventory order
  /// The groups rolled nodes count against (first seen in inventory order); empty when
  /// nothing is rolled.
  std::vector<RollingGroup> rolling_groups;
  /// Nodes in the store the inventory does not name (never touched), sorted by name.
  std::vector<std::string> unknown_nodes;
  PlanSummary summary;
};

/// The plan for `selected` (nullptr: every node of the inventory). Rolling limits count all
/// inventory nodes of a group, selected or not.
Plan BuildPlan(const inventory::Inventory& inventory, const Observed& observed,
               const Policy& policy,
               const std::vector<const inventory::Node*>* selected = nullptr);

// ---- Output ------------------------------------------------------------------------------

struct RenderContext {
  std::string inventory_path;
  std::string state_path;
  bool state_exists = false;
};

/// Summary, then steps grouped by identical per-node plans under hostlists, then waves.
std::string RenderPlanText(const Plan& plan, const RenderContext& context);
/// The stable JSON schema of docs/lifecycle.md ("schema": 1), pretty-printed with a newline.
std::string RenderPlanJson(const Plan& plan, const RenderContext& context);

}  // namespace racksmith::plan
