// The loader: files -> trees -> (site, defaults, profiles, mounts, racks) -> resolved nodes.
//
// Work is per node *entry*, not per node: an entry's settings are merged once and the result is
// copied to each name its hostlist expands to, so 10,000 nodes in 100 entries cost 100 merges.
// Profiles are resolved once each (memoised) and their origins shared by pointer.
#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "hostlist/hostlist.h"
#include "inventory/internal.h"

namespace racksmith::inventory {
namespace internal {
namespace {

namespace fs = std::filesystem;

struct ProfileSource {
  std::string name;
  const Tree* tree = nullptr;
  Loc loc;
  enum class Mark { kNew, kActive, kDone, kFailed } mark = Mark::kNew;
  Draft draft;
  std::shared_ptr<const OriginMap> origins;
};

struct Seen {
  Loc loc;
  std::string node;
};

class Loader {
 public:
  Loader() : diag_(&files_) {}

  LoadOutcome LoadPath(const std::string& path) {
    inv_.path = path;
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return Fail(path, "expected an inventory file or directory, found nothing at this path");
    }
    std::vector<std::string> paths;
    if (fs::is_directory(st)) {
      for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
        std::string ext = e.path().extension().string();
        if ((ext == ".yaml" || ext == ".yml") && e.is_regular_file(ec)) {
          paths.push_back(e.path().string());
        }
      }
      if (ec) return Fail(path, "expected a readable directory, found: " + ec.message());
      std::sort(paths.begin(), paths.end());
      if (paths.empty()) return Fail(path, "expected *.yaml files in this directory, found none");
    } else {
      paths.push_back(path);
    }
    for (const std::string& p : paths) {
      uint32_t index = static_cast<uint32_t>(files_.size());
      files_.push_back(p);
      std::string text;
      if (!ReadFile(p, index, &text)) continue;
      Parse(text, index);
    }
    return Finish();
  }

  LoadOutcome LoadText(std::string_view text, const std::string& filename) {
    inv_.path = filename;
    files_.push_back(filename);
    Parse(text, 0);
    return Finish();
  }

 private:
  LoadOutcome Fail(const std::string& path, std::string message) {
    LoadOutcome out;
    out.inventory.path = path;
    out.errors.push_back(InvalidInput(std::move(message), SourceLoc{path, 0, 0}));
    return out;
  }

  bool ReadFile(const std::string& path, uint32_t index, std::string* text) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      diag_.Add(Loc{index, 0, 0}, "expected a readable file, found none");
      return false;
    }
    if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
      diag_.Add(Loc{index, 0, 0}, "expected a file of at most " + std::to_string(kMaxFileBytes) +
                                      " bytes, found " + std::to_string(st.st_size) + " bytes");
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diag_.Add(Loc{index, 0, 0}, "expected a readable file, found one that cannot be opened");
      return false;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    *text = buf.str();
    return true;
  }

  void Parse(std::string_view text, uint32_t file) {
    trees_.push_back(std::make_unique<Tree>());
    Tree* root = trees_.back().get();
    std::vector<ReadError> errors;
    bool ok = ReadYaml(text, file, root, &errors);
    for (ReadError& e : errors) diag_.Add(e.loc, std::move(e.message));
    if (!ok) return;
    if (root->IsNull()) return;  // an empty file adds nothing
    if (!root->IsMap()) {
      diag_.Add(root->loc,
                "expected a mapping with site, defaults, profiles, mounts and racks at "
                "the top of the file, found " +
                    Describe(*root));
      return;
    }
    Collect(*root, file);
  }

  // Gathers one file's top-level sections; merging rules are in docs/inventory.md.
  void Collect(const Tree& root, uint32_t file) {
    CheckKeys(root, {"site", "defaults", "profiles", "mounts", "racks"}, "the top level", diag_);
    if (const Tree* site = root.Find("site")) {
      std::string name;
      if (ReadString(*site, "site", &name, diag_)) {
        if (!have_site_) {
          have_site_ = true;
          inv_.site = name;
          site_loc_ = site->loc;
        } else if (name != inv_.site) {
          diag_.Add(site->loc, "expected the same site as " +
                                   diag_.ToSourceLoc(site_loc_).ToString() + " (\"" + inv_.site +
                                   "\"), found \"" + name + "\"");
        }
      }
    }
    if (const Tree* d = root.Find("defaults")) {
      if (defaults_ != nullptr) {
        diag_.Add(d->loc, "expected 'defaults' in one file only, found it also at " +
                              diag_.ToSourceLoc(defaults_->loc).ToString());
      } else if (!d->IsMap() && !d->IsNull()) {
        diag_.Add(d->loc, "expected a mapping for 'defaults', found " + Describe(*d));
      } else {
        defaults_ = d;
      }
    }
    if (const Tree* p = root.Find("profiles")) CollectProfiles(*p);
    if (const Tree* m = root.Find("mounts")) ReadMounts(*m, &inv_.mounts, diag_);
    if (const Tree* r = root.Find("racks")) {
      if (r->IsSeq()) {
        for (const Tree& rack : r->items) racks_.push_back(&rack);
      } else if (!r->IsNull()) {
        diag_.Add(r->loc, "expected a list of racks for 'racks', found " + Describe(*r));
      }
    }
    (void)file;
  }

  void CollectProfiles(const Tree& p) {
    if (p.IsNull()) return;
    if (!p.IsMap()) {
      diag_.Add(p.loc, "expected a mapping of profile names for 'profiles', found " + Describe(p));
      return;
    }
    for (const TreeEntry& e : p.entries) {
      if (!IsValidName(e.key)) {
        diag_.Add(e.key_loc, "expected a profile name ([A-Za-z0-9._-]), found \"" + e.key + "\"");
        continue;
      }
      if (!e.value.IsMap() && !e.value.IsNull()) {
        diag_.Add(e.value.loc,
                  "expected a mapping for profile '" + e.key + "', found " + Describe(e.value));
        continue;
      }
      auto [it, inserted] = profile_index_.emplace(e.key, profiles_.size());
      if (!inserted) {
        diag_.Add(e.key_loc, "duplicate profile '" + e.key + "' (also defined at " +
                                 diag_.ToSourceLoc(profiles_[it->second].loc).ToString() + ")");
        continue;
      }
      ProfileSource src;
      src.name = e.key;
      src.tree = &e.value;
      src.loc = e.key_loc;
      profiles_.push_back(std::move(src));
    }
  }

  // Resolves a profile (its chain first), once; a cycle is reported where it closes.
  ProfileSource* ResolveProfile(size_t index, std::vector<size_t>* chain) {
    ProfileSource& p = profiles_[index];
    if (p.mark == ProfileSource::Mark::kDone) return &p;
    if (p.mark == ProfileSource::Mark::kFailed) return nullptr;
    if (p.mark == ProfileSource::Mark::kActive) {
      std::string cycle;
      auto start = std::find(chain->begin(), chain->end(), index);
      for (auto it = start; it != chain->end(); ++it) cycle += profiles_[*it].name + " -> ";
      cycle += p.name;
      const Tree* ext = profiles_[chain->back()].tree->Find("extends");
      diag_.Add(ext ? ext->loc : p.loc,
                "expected profiles to extend without a cycle, found " + cycle);
      return nullptr;
    }
    p.mark = ProfileSource::Mark::kActive;
    chain->push_back(index);
    const Draft* parent = &base_;
    Profile profile;
    profile.name = p.name;
    profile.where = diag_.ToSourceLoc(p.loc);
    bool ok = true;
    const Tree* tree = p.tree;
    if (const Tree* ext = tree->Find("extends"); ext && !ext->IsNull()) {
      std::string parent_name;
      if (!ReadString(*ext, "extends", &parent_name, diag_)) {
        ok = false;
      } else if (auto it = profile_index_.find(parent_name); it == profile_index_.end()) {
        std::string s = DidYouMean(parent_name, profile_names_);
        diag_.Add(ext->loc, "expected an existing profile to extend, found unknown profile '" +
                                parent_name + "'" +
                                (s.empty() ? "" : "; did you mean '" + s + "'?"));
        ok = false;
      } else {
        profile.extends = parent_name;
        ProfileSource* ps = ResolveProfile(it->second, chain);
        if (ps == nullptr) {
          ok = false;
        } else {
          parent = &ps->draft;
        }
      }
    }
    if (const Tree* desc = tree->Find("description")) {
      (void)ReadString(*desc, "description", &profile.description, diag_);
    }
    chain->pop_back();
    p.draft = *parent;
    p.draft.node.profile = p.name;
    if (tree->IsMap()) {
      ApplySettings(*tree, Layer::kProfile, {"extends", "description"}, &p.draft, diag_);
    }
    p.origins = std::make_shared<const OriginMap>(p.draft.origins);
    p.mark = ok ? ProfileSource::Mark::kDone : ProfileSource::Mark::kFailed;
    profile_infos_[index] = std::move(profile);
    return ok ? &p : nullptr;
  }

  LoadOutcome Finish() {
    if (!have_site_ && !trees_.empty() && diag_.count() == 0) {
      diag_.Add(Loc{0, 1, 1}, "expected a top-level 'site' (the site's name), found none");
    }
    if (defaults_ != nullptr && defaults_->IsMap()) {
      ApplySettings(*defaults_, Layer::kDefaults, {}, &base_, diag_);
    }
    base_origins_ = std::make_shared<const OriginMap>(base_.origins);
    for (const ProfileSource& p : profiles_) profile_names_.push_back(p.name);
    profile_infos_.resize(profiles_.size());
    for (size_t i = 0; i < profiles_.size(); ++i) {
      std::vector<size_t> chain;
      ResolveProfile(i, &chain);
      // Profiles nobody uses still get their errors reported, here.
      if (profiles_[i].mark == ProfileSource::Mark::kDone) {
        Draft check = profiles_[i].draft;
        check.node.profile_origins = profiles_[i].origins;
        check.origins.clear();
        ResolveMounts(check, nullptr);
      }
    }
    for (Profile& p : profile_infos_) inv_.profiles.push_back(std::move(p));
    for (const Tree* rack : racks_) {
      if (diag_.full()) break;
      ReadRack(*rack);
    }
    LoadOutcome out;
    inv_.files = files_;
    inv_.Reindex();
    out.errors = diag_.Take();
    out.inventory = std::move(inv_);
    return out;
  }

  // Turns mount names into mounts; unknown names are errors at the name.
  void ResolveMounts(const Draft& draft, std::vector<Mount>* out) {
    for (const auto& [name, loc] : draft.mount_names) {
      auto it = inv_.mounts.find(name);
      if (it == inv_.mounts.end()) {
        std::vector<std::string> names;
        for (const auto& [n, m] : inv_.mounts) names.push_back(n);
        std::string s = DidYouMean(name, names);
        diag_.Add(loc, "expected a mount defined under top-level 'mounts', found unknown mount '" +
                           name + "'" + (s.empty() ? "" : "; did you mean '" + s + "'?"));
      } else if (out != nullptr) {
        out->push_back(it->second);
      }
    }
  }

  // Expands a hostlist-valued key (ip, mac, bmc) in step with the entry's names.
  bool Zip(const Tree& value, const std::string& key, size_t count, bool allow_one,
           std::vector<std::string>* out) {
    std::string text;
    if (!ReadString(value, key, &text, diag_)) return false;
    Result<std::vector<std::string>> expanded = hostlist::Expand(text);
    if (!expanded.ok()) {
      diag_.Add(value.loc, "expected a hostlist of addresses for '" + key + "', found \"" + text +
                               "\": " + expanded.error().message());
      return false;
    }
    if (expanded->size() != count && !(allow_one && expanded->size() == 1)) {
      diag_.Add(value.loc, "expected '" + key + "' to expand to " + std::to_string(count) +
                               " value" + (count == 1 ? "" : "s") + " (one per node name), found " +
                               std::to_string(expanded->size()) + " in \"" + text + "\"");
      return false;
    }
    *out = std::move(*expanded);
    return true;
  }

  void Unique(std::unordered_map<std::string, Seen>& seen, const std::string& what,
              const std::string& value, const Loc& loc, const std::string& node) {
    auto [it, inserted] = seen.emplace(value, Seen{loc, node});
    if (inserted) return;
    std::string msg = "duplicate " + what + " '" + value + "'";
    if (what != "node name") msg += " of node " + node;
    msg += " (also " + (what != "node name" ? "node " + it->second.node + " at " : "at ") +
           diag_.ToSourceLoc(it->second.loc).ToString() + ")";
    diag_.Add(loc, std::move(msg));
  }

  void ReadRack(const Tree& r) {
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
      diag_.Add(nodes->loc,
                "expected a list of node entries for 'nodes', found " + Describe(*nodes));
      return;
    }
    std::vector<int> units(static_cast<size_t>(inv_.racks[rack_index].height) + 1, -1);
    for (const Tree& e : nodes->items) {
      if (diag_.full()) return;
      ReadEntry(e, rack_index, rack_profile, rack_profile_tree, &units);
    }
  }

  void ReadEntry(const Tree& e, size_t rack_index, const std::string& rack_profile,
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
    ApplySettings(e, Layer::kNode, {"name", "profile", "ip", "mac", "unit", "height"}, &draft,
                  diag_);
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
            diag_.Add(
                mac->loc,
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
      if (Zip(*bmc_address, "bmc", n, shared, &bmcs)) {
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
              diag_.Add(e.Find("unit")->loc, "expected rack unit " + std::to_string(u) +
                                                 " of rack " + rack.name + " to be free for node " +
                                                 node.name + ", found it taken by node " +
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

  static bool NormalizeMac(std::string* mac) {
    std::string out;
    int digits = 0;
    for (char c : *mac) {
      if (c == ':' || c == '-') {
        if (digits % 2 != 0 || digits == 0) return false;
        out += ':';
        continue;
      }
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++digits;
    }
    if (digits != 12 || out.size() != 17) return false;
    *mac = out;
    return true;
  }

  std::vector<std::string> files_;
  Diag diag_;
  Inventory inv_;
  std::vector<std::unique_ptr<Tree>> trees_;
  bool have_site_ = false;
  Loc site_loc_;
  const Tree* defaults_ = nullptr;
  std::vector<ProfileSource> profiles_;
  std::vector<Profile> profile_infos_;
  std::vector<std::string> profile_names_;
  std::unordered_map<std::string, size_t> profile_index_;
  std::vector<const Tree*> racks_;
  Draft base_;
  std::shared_ptr<const OriginMap> base_origins_;
  std::unordered_map<std::string, size_t> rack_index_;
  std::unordered_map<std::string, Seen> names_, bmcs_, ips_, macs_;
  size_t total_nodes_ = 0;
};

std::string JoinErrors(const std::vector<Error>& errors) {
  std::string text;
  for (const Error& e : errors) {
    if (!text.empty()) text += "\n";
    text += e.ToString();
  }
  return text;
}

}  // namespace
}  // namespace internal

LoadOutcome LoadInventoryAll(const std::string& path) {
  try {
    return internal::Loader().LoadPath(path);
  } catch (const std::exception& e) {
    LoadOutcome out;
    out.errors.push_back(Internal(std::string("loading the inventory failed: ") + e.what()));
    return out;
  }
}

LoadOutcome LoadInventoryFromStringAll(std::string_view yaml, const std::string& filename) {
  try {
    return internal::Loader().LoadText(yaml, filename);
  } catch (const std::exception& e) {
    LoadOutcome out;
    out.errors.push_back(Internal(std::string("loading the inventory failed: ") + e.what()));
    return out;
  }
}

Result<Inventory> LoadInventory(const std::string& path) {
  LoadOutcome out = LoadInventoryAll(path);
  if (!out.ok()) return InvalidInput(internal::JoinErrors(out.errors));
  return std::move(out.inventory);
}

Result<Inventory> LoadInventoryFromString(std::string_view yaml, const std::string& filename) {
  LoadOutcome out = LoadInventoryFromStringAll(yaml, filename);
  if (!out.ok()) return InvalidInput(internal::JoinErrors(out.errors));
  return std::move(out.inventory);
}

}  // namespace racksmith::inventory
