// Racks and node entries: hostlist names zipped with their addresses, units, uniqueness.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "base/text.h"
#include "hostlist/hostlist.h"
#include "inventory/loader.h"

namespace racksmith::inventory::internal {
// Expands a hostlist-valued key (ip, mac, bmc) in step with the entry's names.
bool Loader::Zip(const Tree& value, const std::string& key, size_t count, bool allow_one,
                 std::vector<std::string>* out) {
  std::string text;
  if (!ReadString(value, key, &text, diag_)) return false;
  std::vector<std::string> expanded;
  std::string error;
  if (!ExpandAddresses(text, key == "mac", &expanded, &error)) {
    diag_.Add(value.loc, "expected a hostlist of addresses for '" + key + "', found \"" + text +
                             "\": " + error);
    return false;
  }
  if (expanded.size() != count && !(allow_one && expanded.size() == 1)) {
    diag_.Add(value.loc, "expected '" + key + "' to expand to " + std::to_string(count) + " value" +
                             (count == 1 ? "" : "s") + " (one per node name), found " +
                             std::to_string(expanded.size()) + " in \"" + text + "\"");
    return false;
  }
  *out = std::move(expanded);
  return true;
}

void Loader::Unique(std::unordered_map<std::string, Seen>& seen, const std::string& what,
                    const std::string& value, const Loc& loc, const std::string& node) {
  auto [it, inserted] = seen.emplace(value, Seen{loc, node});
  if (inserted) return;
  std::string msg = "duplicate " + what + " '" + value + "'";
  if (what != "node name") msg += " of node " + node;
  msg += " (also " + (what != "node name" ? "node " + it->second.node + " at " : "at ") +
         diag_.ToSourceLoc(it->second.loc).ToString() + ")";
  diag_.Add(loc, std::move(msg));
}

void Loader::ReadRack(const Tree& r) {
  if (!r.IsMap()) {
    diag_.Add(r.loc, "expected a rack mapping {name, nodes, ...}, found " + Describe(r));
    return;
  }
  CheckKeys(r, {"name", "location", "position", "height", "profile", "nodes"}, "a rack", diag_);
  inventory::Rack rack;
  rack.where = diag_.ToSourceLoc(r.loc);
  const Tree* name = r.Find("name");
  if (name == nullptr) {
    diag_.Add(r.loc, "expected 'name' in a rack, found none");
    return;
  }
  if (!ReadString(*name, "name", &rack.name, diag_)) return;
  if (!IsValidName(rack.name)) {
    diag_.Add(name->loc, "expected a rack name ([A-Za-z0-9._-]), found " + Describe(*name));
    return;
  }
  auto [it, inserted] = rack_index_.emplace(rack.name, inv_.racks.size());
  if (!inserted) {
    diag_.Add(name->loc, "duplicate rack '" + rack.name + "' (also at " +
                             inv_.racks[it->second].where.ToString() + ")");
    return;
  }
  int64_t n = 0;
  if (const Tree* loc = r.Find("location"))
    (void)ReadString(*loc, "location", &rack.location, diag_);
  if (const Tree* p = r.Find("position"); p && ReadInt(*p, "position", 0, 100000, &n, diag_)) {
    rack.position = static_cast<int>(n);
  }
  if (const Tree* h = r.Find("height"); h && ReadInt(*h, "height", 1, 100, &n, diag_)) {
    rack.height = static_cast<int>(n);
  }
  std::string rack_profile;
  const Tree* rack_profile_tree = r.Find("profile");
  if (rack_profile_tree) (void)ReadString(*rack_profile_tree, "profile", &rack_profile, diag_);
  size_t rack_index = inv_.racks.size();
  inv_.racks.push_back(std::move(rack));
  const Tree* nodes = r.Find("nodes");
  if (nodes == nullptr || nodes->IsNull()) return;
  if (!nodes->IsSeq()) {
    diag_.Add(nodes->loc, "expected a list of node entries for 'nodes', found " + Describe(*nodes));
    return;
  }
  std::vector<int> units(static_cast<size_t>(inv_.racks[rack_index].height) + 1, -1);
  for (const Tree& e : nodes->items) {
    if (diag_.full()) return;
    ReadEntry(e, rack_index, rack_profile, rack_profile_tree, &units);
  }
}

void Loader::ReadEntry(const Tree& e, size_t rack_index, const std::string& rack_profile,
                       const Tree* rack_profile_tree, std::vector<int>* units) {
  if (!e.IsMap()) {
    diag_.Add(e.loc, "expected a node entry {name, ip, bmc, profile, ...}, found " + Describe(e));
    return;
  }
  const Tree* name = e.Find("name");
  if (name == nullptr) {
    diag_.Add(e.loc, "expected 'name' (a node name or hostlist) in a node entry, found none");
    return;
  }
  std::string pattern;
  if (!ReadString(*name, "name", &pattern, diag_)) return;
  Result<size_t> count = hostlist::Count(pattern);
  if (!count.ok()) {
    diag_.Add(name->loc, "expected a node name or hostlist, found \"" + pattern +
                             "\": " + count.error().message());
    return;
  }
  if (total_nodes_ + *count > kMaxNodes) {
    diag_.Add(name->loc, "expected at most " + std::to_string(kMaxNodes) +
                             " nodes in an inventory, found more");
    total_nodes_ = kMaxNodes + 1;
    return;
  }
  total_nodes_ += *count;
  Result<std::vector<std::string>> names = hostlist::Expand(pattern);
  if (!names.ok()) {
    diag_.Add(name->loc, "expected a node name or hostlist, found \"" + pattern +
                             "\": " + names.error().message());
    return;
  }
  // Profile: the entry's, else the rack's.
  std::string profile = rack_profile;
  const Tree* profile_tree = rack_profile_tree;
  if (const Tree* p = e.Find("profile")) {
    profile_tree = p;
    if (!ReadString(*p, "profile", &profile, diag_)) return;
  }
  Draft draft;
  if (!profile.empty()) {
    auto it = profile_index_.find(profile);
    if (it == profile_index_.end()) {
      std::string s = DidYouMean(profile, profile_names_);
      diag_.Add(profile_tree->loc,
                "expected a profile defined under 'profiles', found unknown "
                "profile '" +
                    profile + "'" + (s.empty() ? "" : "; did you mean '" + s + "'?"));
      return;
    }
    const ProfileSource& ps = profiles_[it->second];
    if (ps.mark != ProfileSource::Mark::kDone) return;  // its error is already reported
    draft.node = ps.draft.node;
    draft.mount_names = ps.draft.mount_names;
    draft.node.profile_origins = ps.origins;
  } else {
    draft.node = base_.node;
    draft.mount_names = base_.mount_names;
    draft.node.profile_origins = base_origins_;
  }
  draft.node.where = diag_.ToSourceLoc(e.loc);
  draft.node.rack = inv_.racks[rack_index].name;
  ApplySettings(e, Layer::kNode, {"name", "profile", "ip", "mac", "unit", "height"}, &draft, diag_);
  draft.origins["name"] = diag_.ToSourceLoc(name->loc);
  if (e.Find("profile")) draft.origins["profile"] = diag_.ToSourceLoc(e.Find("profile")->loc);

  size_t n = names->size();
  std::vector<std::string> ips, macs, bmcs;
  bool ok = true;
  const Tree* ip = e.Find("ip");
  if (ip == nullptr) {
    diag_.Add(e.loc, "expected 'ip' (the management address) in the node entry for \"" + pattern +
                         "\", found none");
    ok = false;
  } else if (Zip(*ip, "ip", n, false, &ips)) {
    draft.origins["ip"] = diag_.ToSourceLoc(ip->loc);
    for (const std::string& a : ips) {
      unsigned char buf[16];
      if (inet_pton(AF_INET, a.c_str(), buf) != 1 && inet_pton(AF_INET6, a.c_str(), buf) != 1) {
        diag_.Add(ip->loc, "expected an IPv4 or IPv6 address for 'ip', found \"" + a + "\"");
        ok = false;
        break;
      }
    }
  } else {
    ok = false;
  }
  if (const Tree* mac = e.Find("mac"); mac && !mac->IsNull()) {
    if (Zip(*mac, "mac", n, false, &macs)) {
      draft.origins["mac"] = diag_.ToSourceLoc(mac->loc);
      for (std::string& m : macs) {
        if (!NormalizeMac(&m)) {
          diag_.Add(mac->loc,
                    "expected a MAC address like aa:bb:cc:dd:ee:ff for 'mac', found \"" + m + "\"");
          ok = false;
          break;
        }
      }
    } else {
      ok = false;
    }
  }
  const Tree* bmc = e.Find("bmc");
  const Tree* bmc_address = bmc == nullptr    ? nullptr
                            : bmc->IsScalar() ? bmc
                            : bmc->IsMap()    ? bmc->Find("address")
                                              : nullptr;
  if (bmc_address && !bmc_address->IsNull()) {
    bool shared = draft.node.bmc.driver == BmcDriver::kLibvirt;
    // A libvirt URI names its SSH user (qemu+ssh://root@host/system); a password is never
    // accepted in an address, nor any user for a BMC (bmc.username is). Checked on the text
    // as written, before anything (the hostlist expansion's errors) could quote it.
    if (bmc_address->IsScalar() && AddressHasCredentials(bmc_address->text, shared)) {
      diag_.Add(bmc_address->loc,
                "expected a BMC address without credentials (user[:password]@), found one "
                "with them (not shown); write bmc.username and bmc.password ({env: VARIABLE} "
                "or {file: PATH}) instead");
      ok = false;
    } else if (Zip(*bmc_address, "bmc", n, shared, &bmcs)) {
      draft.origins["bmc.address"] = diag_.ToSourceLoc(bmc_address->loc);
      for (const std::string& b : bmcs) {
        if (b.find_first_of(" \t") != std::string::npos) {
          diag_.Add(bmc_address->loc,
                    "expected a BMC address (host, host:port or URL), found \"" + b + "\"");
          ok = false;
          break;
        }
      }
    } else {
      ok = false;
    }
  }
  if (!bmcs.empty() && draft.node.bmc.driver == BmcDriver::kRedfish &&
      draft.node.bmc.password.empty()) {
    diag_.Add(bmc_address->loc,
              "expected bmc.password ({env: VARIABLE} or {file: PATH}) for the redfish BMC" +
                  std::string(n == 1 ? "" : "s") + " of \"" + pattern +
                  "\" (in defaults, the profile or the entry), found none");
    ok = false;
  }
  int64_t unit = 0, height = 1;
  if (const Tree* u = e.Find("unit")) {
    if (ReadInt(*u, "unit", 1, inv_.racks[rack_index].height, &unit, diag_)) {
      draft.origins["unit"] = diag_.ToSourceLoc(u->loc);
    }
  }
  if (const Tree* h = e.Find("height")) {
    if (ReadInt(*h, "height", 1, 16, &height, diag_)) {
      draft.origins["height"] = diag_.ToSourceLoc(h->loc);
    }
  }
  size_t first_bad_name = n;
  for (size_t i = 0; i < n; ++i) {
    if (!IsValidName((*names)[i])) first_bad_name = std::min(first_bad_name, i);
  }
  if (first_bad_name < n) {
    diag_.Add(name->loc, "expected node names of letters, digits, '.', '-' and '_', found \"" +
                             (*names)[first_bad_name] + "\"");
    ok = false;
  }
  draft.node.name = (*names)[0];
  CheckResolved(draft, diag_);
  std::vector<Mount> mounts;
  ResolveMounts(draft, &mounts);
  if (!ok) return;
  draft.node.mounts = std::move(mounts);
  draft.node.origins = std::make_shared<const OriginMap>(std::move(draft.origins));

  inventory::Rack& rack = inv_.racks[rack_index];
  for (size_t i = 0; i < n; ++i) {
    Node node = draft.node;
    node.name = std::move((*names)[i]);
    node.ip = ips[i];
    if (!macs.empty()) node.mac = macs[i];
    if (!bmcs.empty()) node.bmc.address = bmcs.size() == 1 ? bmcs[0] : bmcs[i];
    node.position = static_cast<int>(rack.nodes.size()) + 1;
    node.height = static_cast<int>(height);
    Unique(names_, "node name", node.name, name->loc, node.name);
    Unique(ips_, "ip", node.ip, ip->loc, node.name);
    if (!node.mac.empty()) Unique(macs_, "mac", node.mac, e.Find("mac")->loc, node.name);
    if (!node.bmc.address.empty() && node.bmc.driver != BmcDriver::kLibvirt) {
      std::string key = node.bmc.address;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      Unique(bmcs_, "bmc address", key, bmc_address->loc, node.name);
    }
    if (unit > 0) {
      node.unit = static_cast<int>(unit + static_cast<int64_t>(i) * height);
      int top = node.unit + node.height - 1;
      if (top > rack.height) {
        diag_.Add(e.Find("unit")->loc, "expected node " + node.name + " (units " +
                                           std::to_string(node.unit) + "-" + std::to_string(top) +
                                           ") to fit in rack " + rack.name + " of height " +
                                           std::to_string(rack.height) + ", found it does not");
      } else {
        for (int u = node.unit; u <= top; ++u) {
          int& owner = (*units)[static_cast<size_t>(u)];
          if (owner >= 0) {
            diag_.Add(e.Find("unit")->loc, "expected rack unit " + std::to_string(u) + " of rack " +
                                               rack.name + " to be free for node " + node.name +
                                               ", found it taken by node " +
                                               inv_.nodes[static_cast<size_t>(owner)].name);
            break;
          }
          owner = static_cast<int>(inv_.nodes.size());
        }
      }
    }
    rack.nodes.push_back(inv_.nodes.size());
    inv_.nodes.push_back(std::move(node));
  }
}

}  // namespace racksmith::inventory::internal
