// racksmith/inventory (internal): the loader's state, shared by loader.cc (files, sections,
// profiles) and racks.cc (racks and node entries). Not a public header.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inventory/internal.h"

namespace racksmith::inventory::internal {

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
  Loader();
  LoadOutcome LoadPath(const std::string& path);
  LoadOutcome LoadText(std::string_view text, const std::string& filename);

 private:
  LoadOutcome Fail(const std::string& path, std::string message);
  bool ReadFile(const std::string& path, uint32_t index, std::string* text);
  void Parse(std::string_view text, uint32_t file);
  // Gathers one file's top-level sections; merging rules are in docs/inventory.md.
  void Collect(const Tree& root, uint32_t file);
  void CollectProfiles(const Tree& p);
  // Resolves a profile (its chain first), once; a cycle is reported where it closes.
  ProfileSource* ResolveProfile(size_t index, std::vector<size_t>* chain);
  LoadOutcome Finish();
  // Turns mount names into mounts; unknown names are errors at the name.
  void ResolveMounts(const Draft& draft, std::vector<Mount>* out);

  // racks.cc
  // Expands an address-valued key (ip, mac, bmc) in step with the entry's names.
  bool Zip(const Tree& value, const std::string& key, size_t count, bool allow_one,
           std::vector<std::string>* out);
  void Unique(std::unordered_map<std::string, Seen>& seen, const std::string& what,
              const std::string& value, const Loc& loc, const std::string& node);
  void ReadRack(const Tree& r);
  void ReadEntry(const Tree& e, size_t rack_index, const std::string& rack_profile,
                 const Tree* rack_profile_tree, std::vector<int>* units);

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

}  // namespace racksmith::inventory::internal
