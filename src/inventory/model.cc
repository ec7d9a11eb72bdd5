// The resolved model's small behaviours: names, secrets, lookups, origins, JSON context.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "inventory/inventory.h"

namespace racksmith::inventory {

std::string SecretRef::ToString() const {
  switch (kind) {
    case Kind::kEnv:
      return "{env: " + ref + "}";
    case Kind::kFile:
      return "{file: " + ref + "}";
    case Kind::kNone:
      break;
  }
  return "";
}

Result<std::string> ResolveSecret(const SecretRef& secret) {
  switch (secret.kind) {
    case SecretRef::Kind::kNone:
      return NotFound("no secret is configured");
    case SecretRef::Kind::kEnv: {
      const char* v = std::getenv(secret.ref.c_str());
      if (v == nullptr || *v == '\0') {
        return NotFound("secret " + secret.ToString() + ": environment variable " + secret.ref +
                        " is not set or is empty");
      }
      return std::string(v);
    }
    case SecretRef::Kind::kFile:
      break;
  }
  std::string path = secret.ref;
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home == nullptr) return NotFound("secret " + secret.ToString() + ": $HOME is not set");
    path = std::string(home) + path.substr(1);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("secret " + secret.ToString() + ": cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string value = buf.str();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (value.empty()) return NotFound("secret " + secret.ToString() + ": the file is empty");
  return value;
}

const char* NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kActive:
      return "active";
    case NodeState::kMaintenance:
      return "maintenance";
    case NodeState::kRetired:
      return "retired";
  }
  return "active";
}

bool ParseNodeState(std::string_view text, NodeState* out) {
  for (NodeState s : {NodeState::kActive, NodeState::kMaintenance, NodeState::kRetired}) {
    if (text == NodeStateName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

const char* BmcDriverName(BmcDriver driver) {
  return driver == BmcDriver::kLibvirt ? "libvirt" : "redfish";
}

const char* BmcAuthName(BmcAuth auth) { return auth == BmcAuth::kBasic ? "basic" : "session"; }

const char* MountTypeName(MountType type) {
  switch (type) {
    case MountType::kNfs:
      return "nfs";
    case MountType::kLustre:
      return "lustre";
    case MountType::kBeegfs:
      return "beegfs";
    case MountType::kGpfs:
      return "gpfs";
    case MountType::kLocal:
      return "local";
  }
  return "nfs";
}

std::string BmcConfig::BaseUrl() const {
  if (address.find("://") != std::string::npos) return address;
  std::string url = "https://" + address;
  // "host:port" already has a port; a bare IPv6 literal would need brackets, which the
  // inventory writer adds ("[fd00::1]:443").
  bool has_port = address.find(':') != std::string::npos;
  if (port != 0 && !has_port) url += ":" + std::to_string(port);
  return url;
}

const SourceLoc* Node::OriginOf(std::string_view path) const {
  std::string key(path);
  while (true) {
    for (const auto& map : {origins, profile_origins}) {
      if (!map) continue;
      auto it = map->find(key);
      if (it != map->end()) return &it->second;
    }
    size_t dot = key.rfind('.');
    if (dot == std::string::npos) return nullptr;
    key.resize(dot);
  }
}

OriginMap Node::AllOrigins() const {
  OriginMap all;
  if (origins) all = *origins;
  if (profile_origins) {
    for (const auto& [path, where] : *profile_origins) {
      // A path the entry replaced (it or a parent) hides what the profile had below it.
      bool hidden = false;
      std::string key = path;
      while (!hidden) {
        if (origins && origins->count(key)) hidden = true;
        size_t dot = key.rfind('.');
        if (dot == std::string::npos) break;
        key.resize(dot);
      }
      if (!hidden) all.emplace(path, where);
    }
  }
  return all;
}

const Node* Inventory::FindNode(std::string_view name) const {
  if (by_name_.size() == nodes.size()) {
    auto it = by_name_.find(std::string(name));
    return it == by_name_.end() ? nullptr : &nodes[it->second];
  }
  for (const Node& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const Rack* Inventory::FindRack(std::string_view name) const {
  for (const Rack& r : racks) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const Profile* Inventory::FindProfile(std::string_view name) const {
  for (const Profile& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void Inventory::Reindex() {
  by_name_.clear();
  by_name_.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) by_name_.emplace(nodes[i].name, i);
}

nlohmann::json NodeContext(const Inventory& inventory, const Node& node) {
  using json = nlohmann::json;
  json rack = {{"name", node.rack},
               {"position", node.position},
               {"unit", node.unit},
               {"height", node.height}};
  if (const Rack* r = inventory.FindRack(node.rack)) rack["location"] = r->location;
  const BmcConfig& b = node.bmc;
  json tls = {{"verify", b.tls.verify},
              {"insecure", b.tls.insecure()},
              {"ca_file", b.tls.ca_file},
              {"fingerprint", b.tls.fingerprint}};
  json bmc = {{"driver", BmcDriverName(b.driver)},
              {"address", b.address},
              {"port", b.port},
              {"username", b.username},
              {"password", b.password.ToString()},
              {"auth", BmcAuthName(b.auth)},
              {"tls", tls},
              {"system", b.system}};
  json ssh = {{"user", node.ssh.user},
              {"port", node.ssh.port},
              {"key", node.ssh.key.empty() ? node.ssh.key_path : node.ssh.key.ToString()},
              {"agent", node.ssh.agent}};
  json drives = json::array();
  for (const Drive& d : node.hardware.drives) {
    drives.push_back({{"type", d.type}, {"count", d.count}, {"size_gb", d.size_gb}});
  }
  json hardware = {
      {"gpus", {{"model", node.hardware.gpus.model}, {"count", node.hardware.gpus.count}}},
      {"nvswitch", node.hardware.nvswitch},
      {"memory_gib", node.hardware.memory_gib},
      {"cpus", node.hardware.cpus},
      {"drives", drives}};
  json mounts = json::array();
  for (const Mount& m : node.mounts) {
    mounts.push_back({{"name", m.name},
                      {"type", MountTypeName(m.type)},
                      {"source", m.source},
                      {"target", m.target},
                      {"options", m.options}});
  }
  json j = json::object();
  j["name"] = node.name;
  j["site"] = inventory.site;
  j["rack"] = rack;
  j["profile"] = node.profile;
  j["state"] = NodeStateName(node.state);
  j["reason"] = node.reason;
  j["ip"] = node.ip;
  j["mac"] = node.mac;
  j["bmc"] = bmc;
  j["ssh"] = ssh;
  j["hardware"] = hardware;
  j["image"] = node.image;
  j["firmware"] = node.firmware;
  j["software"] = node.software;
  j["slurm"] = {{"partitions", node.slurm.partitions}, {"features", node.slurm.features}};
  j["mounts"] = mounts;
  j["burnin"] = node.burnin;
  j["vars"] = node.vars.is_object() ? node.vars : json::object();
  return j;
}

}  // namespace racksmith::inventory
