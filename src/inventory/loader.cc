// The loader: files -> trees -> (site, defaults, profiles, mounts, racks) -> resolved nodes.
//
// Work is per node *entry*, not per node: an entry's settings are merged once and the result is
// copied to each name its hostlist expands to, so 10,000 nodes in 100 entries cost 100 merges.
// Profiles are resolved once each (memoised) and their origins shared by pointer.
// Racks and node entries are read in racks.cc.
#include "inventory/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace racksmith::inventory {
namespace internal {

namespace fs = std::filesystem;

Loader::Loader() : diag_(&files_) {}

LoadOutcome Loader::LoadPath(const std::string& path) {
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

LoadOutcome Loader::LoadText(std::string_view text, const std::string& filename) {
  inv_.path = filename;
  files_.push_back(filename);
  Parse(text, 0);
  return Finish();
}

LoadOutcome Loader::Fail(const std::string& path, std::string message) {
  LoadOutcome out;
  out.inventory.path = path;
  out.errors.push_back(InvalidInput(std::move(message), SourceLoc{path, 0, 0}));
  return out;
}

bool Loader::ReadFile(const std::string& path, uint32_t index, std::string* text) {
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

void Loader::Parse(std::string_view text, uint32_t file) {
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
void Loader::Collect(const Tree& root, uint32_t file) {
  CheckKeys(root, {"site", "defaults", "profiles", "mounts", "racks"}, "the top level", diag_);
  if (const Tree* site = root.Find("site")) {
    std::string name;
    if (ReadString(*site, "site", &name, diag_)) {
      if (!have_site_) {
        have_site_ = true;
        inv_.site = name;
        site_loc_ = site->loc;
        inv_.site_where = diag_.ToSourceLoc(site->loc);
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

void Loader::CollectProfiles(const Tree& p) {
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
ProfileSource* Loader::ResolveProfile(size_t index, std::vector<size_t>* chain) {
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
                              parent_name + "'" + (s.empty() ? "" : "; did you mean '" + s + "'?"));
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

LoadOutcome Loader::Finish() {
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
  // One node per entry is the usual layout at scale: size the node list and the uniqueness
  // indexes once instead of growing and rehashing them 10,000 times.
  size_t entries = 0;
  for (const Tree* rack : racks_) {
    if (const Tree* nodes = rack->IsMap() ? rack->Find("nodes") : nullptr) {
      entries += nodes->items.size();
    }
  }
  entries = std::min(entries, kMaxNodes);
  inv_.racks.reserve(racks_.size());
  inv_.nodes.reserve(entries);
  for (auto* index : {&names_, &ips_, &macs_, &bmcs_}) index->reserve(entries);
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
void Loader::ResolveMounts(const Draft& draft, std::vector<Mount>* out) {
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

namespace {

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
