#include "slurm/fake_slurm_control.h"

#include <algorithm>

namespace racksmith::slurm {

void FakeSlurmControl::AddNode(const std::string& name, const std::string& base_state, int cpus,
                               const std::string& gres) {
  std::lock_guard lock(mu_);
  NodeInfo node;
  node.name = name;
  node.base_state = base_state;
  node.cpus_total = cpus;
  node.gres = gres;
  node.partitions = {"lab"};
  nodes_[name] = std::move(node);
}

void FakeSlurmControl::SetBaseState(const std::string& name, const std::string& base_state) {
  std::lock_guard lock(mu_);
  if (NodeInfo* n = Find(name)) {
    n->base_state = base_state;
    bool busy = base_state == "ALLOCATED" || base_state == "MIXED";
    n->cpus_alloc = busy ? std::max(1, base_state == "ALLOCATED" ? n->cpus_total : 1) : 0;
  }
}

void FakeSlurmControl::SetFlags(const std::string& name, std::vector<std::string> flags) {
  std::lock_guard lock(mu_);
  if (NodeInfo* n = Find(name)) n->flags = std::move(flags);
}

void FakeSlurmControl::FailNext(const std::string& node, Error error) {
  std::lock_guard lock(mu_);
  failures_.insert_or_assign(node, Injected{std::move(error), false});
}

void FakeSlurmControl::FailAlways(const std::string& node, Error error) {
  std::lock_guard lock(mu_);
  failures_.insert_or_assign(node, Injected{std::move(error), true});
}

void FakeSlurmControl::ClearFailures(const std::string& node) {
  std::lock_guard lock(mu_);
  failures_.erase(node);
}

std::vector<std::string> FakeSlurmControl::Calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::optional<Error> FakeSlurmControl::TakeFailure(const std::string& node) {
  auto it = failures_.find(node);
  if (it == failures_.end()) return std::nullopt;
  Error e = it->second.error;
  if (!it->second.always) failures_.erase(it);
  return e;
}

NodeInfo* FakeSlurmControl::Find(const std::string& node) {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

Status FakeSlurmControl::Drain(const std::string& node, const std::string& reason) {
  std::lock_guard lock(mu_);
  calls_.push_back("drain " + node + " " + reason);
  if (auto e = TakeFailure(node)) return *e;
  NodeInfo* n = Find(node);
  if (n == nullptr) return NotFound("slurm: drain " + node + ": Slurm does not know this node");
  if (reason.empty()) return InvalidInput("slurm: drain " + node + ": expected a reason");
  if (!n->HasFlag("DRAIN")) n->flags.push_back("DRAIN");
  n->reason = reason;
  n->fields["Reason"] = reason + " [racksmith@fake]";
  return Status::Ok();
}

Status FakeSlurmControl::Resume(const std::string& node) {
  std::lock_guard lock(mu_);
  calls_.push_back("resume " + node);
  if (auto e = TakeFailure(node)) return *e;
  NodeInfo* n = Find(node);
  if (n == nullptr) return NotFound("slurm: resume " + node + ": Slurm does not know this node");
  std::erase(n->flags, "DRAIN");
  std::erase(n->flags, "FAIL");
  if (n->base_state == "DOWN") n->base_state = "IDLE";
  n->reason.clear();
  n->fields.erase("Reason");
  return Status::Ok();
}

Result<NodeInfo> FakeSlurmControl::GetNode(const std::string& node) {
  std::lock_guard lock(mu_);
  calls_.push_back("get " + node);
  if (auto e = TakeFailure(node)) return *e;
  NodeInfo* n = Find(node);
  if (n == nullptr) return NotFound("slurm: show node " + node + ": Slurm does not know this node");
  NodeInfo copy = *n;
  copy.fields["NodeName"] = copy.name;
  copy.fields["State"] = copy.StateText();
  return copy;
}

}  // namespace racksmith::slurm
