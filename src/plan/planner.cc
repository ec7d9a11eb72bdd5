// The planner: per node, from (desired state, store state, component records, known
// hardware) to a DAG of steps. docs/lifecycle.md specifies every rule implemented here.
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "plan/plan.h"
#include "plan/plan_internal.h"

namespace racksmith::plan {
namespace {

using inventory::Node;
using state::ComponentRecord;
using state::NodeSnapshot;

StepKind KindOfComponent(std::string_view name) {
  if (name == "hardware") return StepKind::kDiscover;
  if (name == "bmc_firmware" || name == "bios" || name.starts_with("firmware_")) {
    return StepKind::kFirmware;
  }
  if (name == "image") return StepKind::kImage;
  if (name == "slurm") return StepKind::kConfigure;
  if (name == "mounts") return StepKind::kMount;
  if (name == "burnin") return StepKind::kBurnin;
  return StepKind::kInstall;
}

// What the executor checks before running a step again after a crash (docs/lifecycle.md).
const char* GuardOf(StepKind kind) {
  switch (kind) {
    case StepKind::kDrain:
      return "Slurm reports the node drained with no running jobs";
    case StepKind::kQuarantine:
      return "the store records the node failed";
    case StepKind::kDiscover:
      return "BMC facts recorded during this run match the expected hardware";
    case StepKind::kFirmware:
      return "the BMC reports the component at to_version (then skip the flash); not done only "
             "while no task on the BMC is unfinished";
    case StepKind::kImage:
      return "the node answers over SSH, its image marker holds this hash and no "
             "reimage-pending file is left (then do not reimage again)";
    case StepKind::kInstall:
      return "the node reports the component installed at to_version";
    case StepKind::kRemove:
      return "the component is absent on the node";
    case StepKind::kConfigure:
    case StepKind::kMount:
      return "the rendered files on the node hold this hash";
    case StepKind::kBurnin:
      return "the burn-in in flight had this hash and a result recorded since it started "
             "passed";
    case StepKind::kAdmit:
      return "Slurm reports the node idle, mixed or allocated (not drained)";
    case StepKind::kErase:
      return "the BMC's erase task started by this step completed (never start a second "
             "erase without checking it)";
    case StepKind::kPowerOff:
      return "the BMC reports power off";
    case StepKind::kRetire:
      return "the store records the node retired";
  }
  return "";
}

// Apply order: hardware, firmware (one at a time: one BMC), image, driver, CUDA, other
// software and removals, Slurm and mounts, burn-in.
int StageOf(std::string_view component) {
  if (component == "hardware") return 0;
  if (component == "bmc_firmware") return 1;
  if (component == "bios") return 2;
  if (component.starts_with("firmware_")) return 3;  // in name order, one at a time
  if (component == "image") return 10;
  if (component == "nvidia_driver") return 11;
  if (component == "cuda") return 12;
  if (component == "slurm" || component == "mounts") return 20;
  if (component == "burnin") return 30;
  return 13;  // other software, and removals (empty name)
}

bool IsDestructive(StepKind kind) {
  return kind == StepKind::kFirmware || kind == StepKind::kImage || kind == StepKind::kErase ||
         kind == StepKind::kPowerOff;
}

std::string OriginText(const Node& node, std::string_view path) {
  const SourceLoc* where = node.OriginOf(path);
  if (where == nullptr || !where->known()) return "";
  std::string out = where->file;
  if (where->line > 0) out += ":" + std::to_string(where->line);
  return out;
}

// Builds one node's DAG: a step needs every step of the stage before it.
class DagBuilder {
 public:
  explicit DagBuilder(NodePlan& plan) : plan_(plan) {}

  Step& Add(StepKind kind, const std::string& component) {
    Step step;
    step.node = plan_.node;
    step.kind = kind;
    step.component = component;
    step.id = plan_.node + "/" + StepKindName(kind);
    if (!component.empty() && component != StepKindName(kind)) step.id += "/" + component;
    step.needs = frontier_;
    step.destructive = IsDestructive(kind);
    step.guard = GuardOf(kind);
    stage_.push_back(step.id);
    plan_.steps.push_back(std::move(step));
    return plan_.steps.back();
  }
  // Closes the stage: the next steps need all of this stage's steps.
  void EndStage() {
    if (stage_.empty()) return;
    frontier_ = std::move(stage_);
    stage_.clear();
  }
  Step& Chain(StepKind kind, const std::string& component = "") {
    EndStage();
    Add(kind, component);
    EndStage();
    return plan_.steps.back();
  }

 private:
  NodePlan& plan_;
  std::vector<std::string> frontier_;
  std::vector<std::string> stage_;
};

const ComponentRecord* FindRecord(const NodeSnapshot* snap, std::string_view name) {
  if (snap == nullptr) return nullptr;
  for (const ComponentRecord& r : snap->components) {
    if (r.component == name) return &r;
  }
  return nullptr;
}

std::string WithOrigin(std::string text, const std::string& origin) {
  if (!origin.empty()) text += " (" + origin + ")";
  return text;
}

std::string Versioned(const std::string& name, const std::string& version) {
  return version.empty() ? name : name + " " + version;
}

class NodePlanner {
 public:
  NodePlanner(const inventory::Inventory& inv, const Node& node, const NodeSnapshot* snap,
              const DiscoveredHardware* hw, const LiveFacts* live, const Policy& policy,
              NodePlan& out)
      : inv_(inv), node_(node), snap_(snap), hw_(hw), live_(live), policy_(policy), out_(out),
        dag_(out) {}

  // Returns true when the node is an active node taken out of service (rolled in waves).
  bool Run() {
    // A node in service whose last BMC report does not match its profile is quarantined
    // first, whatever the inventory wants next, and never waits for a rolling wave.
    if (InService() && hw_ != nullptr) {
      if (std::optional<std::string> mismatch = HardwareMismatch(node_.hardware, *hw_)) {
        Quarantine(*mismatch);
        quarantined_ = true;  // drained and failed: retirement goes on from there
        if (node_.state == inventory::NodeState::kRetired) PlanRetire();
        return false;
      }
    }
    switch (node_.state) {
      case inventory::NodeState::kRetired:
        return PlanRetire();
      case inventory::NodeState::kMaintenance:
        return PlanMaintenance();
      case inventory::NodeState::kActive:
        return PlanActive();
    }
    return false;
  }

 private:
  std::optional<NodeState> current() const { return out_.current; }
  bool Is(NodeState s) const { return out_.current == s; }
  bool InService() const {
    return !quarantined_ && (Is(NodeState::kActive) || Is(NodeState::kDraining));
  }

  void AddDrain(NodeState after, const std::string& why) {
    Step& s = dag_.Chain(StepKind::kDrain);
    s.reason = "drain from Slurm: " + why;
    s.on_start = NodeState::kDraining;
    s.on_success = after;
    s.params["slurm_reason"] = "racksmith: " + why;
  }

  bool PlanRetire() {
    if (!current() || Is(NodeState::kRetired)) return false;
    if (Is(NodeState::kFailed) && !policy_.retry_failed) {
      // Failed may mean a step that could not tell what it did (an erase or a power-off
      // in flight when a run stopped): retiring plans the erase again, so it waits for
      // the operator as any failed node does.
      out_.action = NodeAction::kHeld;
      std::string why = snap_->node.reason.empty() ? "no reason recorded" : snap_->node.reason;
      const bool erased = snap_->erased_by_step > 0;
      out_.notes.push_back("failed (" + why + "); retiring it " +
                           (erased ? "powers it off (its disks are erased already)"
                                   : "erases its disks") +
                           ": check the node, then plan with --retry-failed");
      return false;
    }
    out_.action = NodeAction::kRetire;
    bool rolled = false;
    const std::string origin = OriginText(node_, "state");
    if (InService()) {
      AddDrain(NodeState::kRetiring, WithOrigin("retired in the inventory", origin));
      rolled = Is(NodeState::kActive);
    }
    // Erased already in this retirement (it stopped after the erase: a power-off that
    // failed, a kill) and not imaged since: its disks are not erased again (nor could they
    // be, with the OS gone); it is powered off and recorded retired.
    const bool erased = snap_ != nullptr && snap_->erased_by_step > 0;
    if (erased) {
      out_.notes.push_back("disks erased already (step " + std::to_string(snap_->erased_by_step) +
                           "); not erased again");
    } else if (!policy_.confirm_erase) {
      out_.notes.push_back("held in retiring: erasing its disks needs --confirm-erase");
      if (out_.steps.empty()) out_.action = NodeAction::kHeld;
      return rolled;
    } else {
      Step& erase = dag_.Chain(StepKind::kErase);
      erase.reason =
          WithOrigin("erase the disks: retired in the inventory, erase confirmed", origin);
      erase.on_start = NodeState::kRetiring;
    }
    Step& off = dag_.Chain(StepKind::kPowerOff);
    off.reason = "power off for retirement";
    if (erased) off.on_start = NodeState::kRetiring;
    Step& rec = dag_.Chain(StepKind::kRetire);
    rec.reason = WithOrigin("record the node retired", origin);
    rec.on_success = NodeState::kRetired;
    return rolled;
  }

  bool PlanMaintenance() {
    if (!InService()) return false;
    out_.action = NodeAction::kChange;
    AddDrain(NodeState::kMaintenance,
             WithOrigin("maintenance in the inventory", OriginText(node_, "state")));
    return Is(NodeState::kActive);
  }

  void Quarantine(const std::string& mismatch) {
    out_.action = NodeAction::kQuarantine;
    Step& q = dag_.Chain(StepKind::kQuarantine, "hardware");
    std::string profile = node_.profile.empty() ? "its inventory entry" : "profile " + node_.profile;
    q.reason = "hardware does not match " + profile + ": " + mismatch;
    q.origin = OriginText(node_, "hardware.gpus");
    q.on_success = NodeState::kFailed;
    q.params["failed_reason"] = q.reason;
  }

  bool PlanActive() {
    const bool failed = Is(NodeState::kFailed);
    std::optional<std::string> mismatch;
    if (hw_ != nullptr) mismatch = HardwareMismatch(node_.hardware, *hw_);
    if (failed && !policy_.retry_failed) {
      out_.action = NodeAction::kHeld;
      std::string why = snap_->node.reason.empty() ? "no reason recorded" : snap_->node.reason;
      out_.notes.push_back("quarantined (failed: " + why +
                           "); repair it, then plan with --retry-failed");
      return false;
    }
    if (failed && mismatch) {
      // The last report still shows the fault: a repair is proven by a new report first.
      out_.action = NodeAction::kHeld;
      out_.notes.push_back("quarantined: hardware still does not match: " + *mismatch);
      return false;
    }
    if (mismatch) {
      Quarantine(*mismatch);
      return false;
    }
    if (live_ != nullptr) {
      for (const std::string& u : live_->unreadable) out_.notes.push_back("refresh: " + u);
      if (live_->power == "Off" && Is(NodeState::kActive)) {
        // Off while recorded in service: an outage or someone's decision. Powering it on
        // is not racksmith's guess to make.
        out_.action = NodeAction::kHeld;
        out_.notes.push_back("drift: the BMC reports power Off (" + live_->power_evidence +
                             "), the record says active; find out why, then power it on "
                             "(`racksmith bmc power on " + node_.name +
                             "`) or set it to maintenance");
        return false;
      }
    }

    // Records say what the node has; a node never provisioned (or erased) has nothing.
    const bool fresh = !current() || Is(NodeState::kNew) || Is(NodeState::kRetired);
    const NodeSnapshot* records = fresh ? nullptr : snap_;
    std::vector<DesiredComponent> desired = ComponentsOf(inv_, node_);
    std::vector<const DesiredComponent*> changed;
    std::unordered_set<std::string> changed_names;
    for (const DesiredComponent& d : desired) {
      const ComponentRecord* r = FindRecord(records, d.name);
      bool force = failed && d.name == "hardware";  // a repair re-verifies the hardware
      if (r == nullptr || r->content_hash != d.hash || force) {
        changed.push_back(&d);
        changed_names.insert(d.name);
        continue;
      }
      if (live_ == nullptr) continue;
      auto lc = live_->components.find(d.name);
      if (lc == live_->components.end()) continue;
      if (std::optional<std::string> why = DriftOf(*r, lc->second)) {
        drift_[d.name] = *why;
        changed.push_back(&d);
        changed_names.insert(d.name);
      }
    }
    // Records of components the inventory no longer lists are removed even on a fresh node,
    // so that no stale record outlives a reprovisioning.
    std::vector<const ComponentRecord*> removed;
    if (snap_ != nullptr) {
      for (const ComponentRecord& r : snap_->components) {
        bool wanted = std::any_of(desired.begin(), desired.end(),
                                  [&](const DesiredComponent& d) { return d.name == r.component; });
        if (!wanted) removed.push_back(&r);
      }
    }
    // Burn-in proves the node after any change, even one whose record alone was stale.
    if ((!changed.empty() || !removed.empty()) && !changed_names.count("burnin")) {
      for (const DesiredComponent& d : desired) {
        if (d.name == "burnin") {
          changed.push_back(&d);
          changed_names.insert(d.name);
        }
      }
    }
    const bool changes = !changed.empty() || !removed.empty();
    if (!changes && Is(NodeState::kActive)) return false;

    out_.action = fresh ? NodeAction::kAdd : NodeAction::kChange;
    bool rolled = false;
    if (changes && InService()) {
      std::string what;
      for (const DesiredComponent* d : changed) what += (what.empty() ? "" : ", ") + d->name;
      for (const ComponentRecord* r : removed) what += (what.empty() ? "" : ", ") + r->component;
      AddDrain(NodeState::kMaintenance, "change " + what);
      rolled = Is(NodeState::kActive);
    }

    // Stages in apply order (StageOf); steps of one stage may run in parallel.
    struct Item {
      int stage;
      const DesiredComponent* add;
      const ComponentRecord* remove;
    };
    std::vector<Item> items;
    for (const DesiredComponent* d : changed) items.push_back({StageOf(d->name), d, nullptr});
    for (const ComponentRecord* r : removed) items.push_back({StageOf(""), nullptr, r});
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& a, const Item& b) { return a.stage < b.stage; });
    int stage = -1;
    for (const Item& item : items) {
      if (item.stage != stage || item.stage == 3) dag_.EndStage();  // firmware: one by one
      stage = item.stage;
      if (item.add != nullptr) {
        AddComponentStep(*item.add, changed_names);
      } else {
        Step& s = dag_.Add(StepKind::kRemove, item.remove->component);
        s.from_version = item.remove->version;
        s.reason = Versioned(item.remove->component, item.remove->version) +
                   " -> none: no longer in the inventory";
        s.on_start = NodeState::kProvisioning;
      }
    }
    dag_.EndStage();
    Step& admit = dag_.Chain(StepKind::kAdmit);
    admit.reason = changes ? "resume in Slurm after the changes" : "resume in Slurm: " +
                   std::string(current() ? state::NodeStateName(*current()) : "new") +
                   " -> active";
    admit.on_success = NodeState::kActive;
    if (!node_.slurm.partitions.empty()) {
      std::string parts;
      for (const std::string& p : node_.slurm.partitions) parts += (parts.empty() ? "" : ",") + p;
      admit.params["partitions"] = parts;
    }
    return rolled;
  }

  void AddComponentStep(const DesiredComponent& d,
                        const std::unordered_set<std::string>& changed_names) {
    const ComponentRecord* r = FindRecord(Records(), d.name);
    Step& s = dag_.Add(KindOfComponent(d.name), d.name);
    s.to_version = d.version;
    s.hash = d.hash;
    s.origin = OriginText(node_, d.origin_path);
    if (r != nullptr) s.from_version = r->version;
    std::vector<std::string> upstream;
    for (const std::string& dep : d.depends_on) {
      if (changed_names.count(dep)) upstream.push_back(dep);
    }
    if (d.name == "burnin" && upstream.empty()) upstream.push_back("removed components");
    if (auto drift = drift_.find(d.name); drift != drift_.end()) {
      s.reason = Versioned(d.name, d.version) + " again: drift: " + drift->second;
    } else if (d.name == "hardware") {
      s.reason = WithOrigin("verify hardware: " + d.version, s.origin);
    } else if (r == nullptr) {
      s.reason = WithOrigin(d.name + ": none -> " + (d.version.empty() ? "configured" : d.version),
                            s.origin);
    } else if (r->version != d.version) {
      s.reason = WithOrigin(d.name + " " + (r->version.empty() ? "none" : r->version) + " -> " +
                                (d.version.empty() ? "none" : d.version),
                            s.origin);
    } else if (!upstream.empty()) {
      std::string list;
      for (const std::string& u : upstream) list += (list.empty() ? "" : ", ") + u;
      s.reason = Versioned(d.name, d.version) +
                 (d.name == "burnin" ? ": after changes to " : ": again after changes to ") + list;
    } else {
      s.reason = WithOrigin(Versioned(d.name, d.version) + ": settings changed", s.origin);
    }
    switch (s.kind) {
      case StepKind::kDiscover:
        s.params["gpu_model"] = node_.hardware.gpus.model;
        s.params["gpu_count"] = std::to_string(node_.hardware.gpus.count);
        s.params["memory_gib"] = std::to_string(node_.hardware.memory_gib);
        s.params["cpus"] = std::to_string(node_.hardware.cpus);
        if (!current() || Is(NodeState::kNew) || Is(NodeState::kRetired) ||
            Is(NodeState::kFailed)) {
          s.on_success = NodeState::kDiscovered;
        }
        break;
      case StepKind::kBurnin:
        s.on_start = NodeState::kBurnin;
        s.params["profile"] = node_.burnin;
        break;
      default:
        s.on_start = NodeState::kProvisioning;
        if (!d.version.empty()) s.params["version"] = d.version;
        break;
    }
  }

  const NodeSnapshot* Records() const {
    const bool fresh = !current() || Is(NodeState::kNew) || Is(NodeState::kRetired);
    return fresh ? nullptr : snap_;
  }

  const inventory::Inventory& inv_;
  const Node& node_;
  const NodeSnapshot* snap_;
  const DiscoveredHardware* hw_;
  const LiveFacts* live_;  // null without --refresh
  std::unordered_map<std::string, std::string> drift_;  // component -> why it drifted
  const Policy& policy_;
  NodePlan& out_;
  DagBuilder dag_;
  bool quarantined_ = false;
};

}  // namespace

bool GuardAsksNode(StepKind kind) {
  switch (kind) {
    case StepKind::kImage:
    case StepKind::kInstall:
    case StepKind::kRemove:
    case StepKind::kConfigure:
    case StepKind::kMount:
      return true;
    default:
      return false;
  }
}

const char* StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kDrain: return "drain";
    case StepKind::kQuarantine: return "quarantine";
    case StepKind::kDiscover: return "discover";
    case StepKind::kFirmware: return "firmware";
    case StepKind::kImage: return "image";
    case StepKind::kInstall: return "install";
    case StepKind::kRemove: return "remove";
    case StepKind::kConfigure: return "configure";
    case StepKind::kMount: return "mount";
    case StepKind::kBurnin: return "burnin";
    case StepKind::kAdmit: return "admit";
    case StepKind::kErase: return "erase";
    case StepKind::kPowerOff: return "power_off";
    case StepKind::kRetire: return "retire";
  }
  return "?";
}

const char* NodeActionName(NodeAction action) {
  switch (action) {
    case NodeAction::kAdd: return "add";
    case NodeAction::kChange: return "change";
    case NodeAction::kRetire: return "retire";
    case NodeAction::kQuarantine: return "quarantine";
    case NodeAction::kHeld: return "held";
    case NodeAction::kUnchanged: return "unchanged";
  }
  return "?";
}

Plan BuildPlan(const inventory::Inventory& inventory, const Observed& observed,
               const Policy& policy, const std::vector<const inventory::Node*>* selected) {
  Plan plan;
  plan.policy = policy;
  std::unordered_map<std::string_view, const NodeSnapshot*> by_name;
  by_name.reserve(observed.nodes.size());
  for (const NodeSnapshot& s : observed.nodes) by_name.emplace(s.node.name, &s);

  std::vector<const Node*> nodes;
  if (selected != nullptr) {
    nodes = *selected;
  } else {
    nodes.reserve(inventory.nodes.size());
    for (const Node& n : inventory.nodes) nodes.push_back(&n);
  }
  std::vector<bool> rolled(nodes.size(), false);
  plan.nodes.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = *nodes[i];
    NodePlan& np = plan.nodes[i];
    np.node = node.name;
    np.rack = node.rack;
    np.partitions = node.slurm.partitions;
    np.desired = node.state;
    auto it = by_name.find(node.name);
    const NodeSnapshot* snap = it == by_name.end() ? nullptr : it->second;
    if (snap != nullptr) np.current = snap->node.state;
    auto hw = observed.hardware.find(node.name);
    auto live = observed.live.find(node.name);
    NodePlanner planner(inventory, node, snap,
                        hw == observed.hardware.end() ? nullptr : &hw->second,
                        live == observed.live.end() ? nullptr : &live->second, policy, np);
    rolled[i] = planner.Run();
  }
  AssignWaves(inventory, by_name, policy, rolled, plan);

  for (const NodeSnapshot& s : observed.nodes) {
    if (inventory.FindNode(s.node.name) == nullptr) plan.unknown_nodes.push_back(s.node.name);
  }
  for (const NodePlan& np : plan.nodes) {
    PlanSummary& sum = plan.summary;
    switch (np.action) {
      case NodeAction::kAdd: ++sum.add; break;
      case NodeAction::kChange: ++sum.change; break;
      case NodeAction::kRetire: ++sum.retire; break;
      case NodeAction::kQuarantine: ++sum.quarantine; break;
      case NodeAction::kHeld: ++sum.held; break;
      case NodeAction::kUnchanged: ++sum.unchanged; break;
    }
    sum.steps += static_cast<int>(np.steps.size());
    sum.waves = std::max(sum.waves, np.wave);
  }
  return plan;
}

}  // namespace racksmith::plan
