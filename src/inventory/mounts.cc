// Top-level `mounts:`: named storage mounts that profiles and nodes list by name.
#include "inventory/internal.h"

namespace racksmith::inventory::internal {

void ReadMounts(const Tree& m, std::map<std::string, Mount>* mounts, Diag& diag_) {
  if (m.IsNull()) return;
  if (!m.IsMap()) {
    diag_.Add(m.loc, "expected a mapping of mount names for 'mounts', found " + Describe(m));
    return;
  }
  for (const TreeEntry& e : m.entries) {
    auto found = (*mounts).find(e.key);
    if (found != (*mounts).end()) {
      diag_.Add(e.key_loc, "duplicate mount '" + e.key + "' (also defined at " +
                               found->second.where.ToString() + ")");
      continue;
    }
    if (!IsValidName(e.key)) {
      diag_.Add(e.key_loc, "expected a mount name ([A-Za-z0-9._-]), found \"" + e.key + "\"");
      continue;
    }
    const Tree& v = e.value;
    if (!v.IsMap()) {
      diag_.Add(v.loc, "expected a mapping {type, source, target, options} for mount '" + e.key +
                           "', found " + Describe(v));
      continue;
    }
    CheckKeys(v, {"type", "source", "target", "options"}, "a mount", diag_);
    Mount mount;
    mount.name = e.key;
    mount.where = diag_.ToSourceLoc(e.key_loc);
    std::string type;
    const Tree* t = v.Find("type");
    if (t == nullptr) {
      diag_.Add(v.loc, "expected 'type' (nfs, lustre, beegfs, gpfs or local) in mount '" + e.key +
                           "', found none");
    } else if (ReadString(*t, "type", &type, diag_)) {
      static const std::pair<const char*, MountType> kTypes[] = {{"nfs", MountType::kNfs},
                                                                 {"lustre", MountType::kLustre},
                                                                 {"beegfs", MountType::kBeegfs},
                                                                 {"gpfs", MountType::kGpfs},
                                                                 {"local", MountType::kLocal}};
      bool known = false;
      for (const auto& [name, value] : kTypes) {
        if (type == name) {
          mount.type = value;
          known = true;
        }
      }
      if (!known) {
        std::string s = DidYouMean(type, {"nfs", "lustre", "beegfs", "gpfs", "local"});
        diag_.Add(t->loc, "expected mount type nfs, lustre, beegfs, gpfs or local, found " +
                              Describe(*t) + (s.empty() ? "" : "; did you mean '" + s + "'?"));
      }
    }
    const Tree* source = v.Find("source");
    if (source != nullptr) {
      (void)ReadString(*source, "source", &mount.source, diag_);
    } else if (mount.type != MountType::kLocal) {
      diag_.Add(v.loc, "expected 'source' in mount '" + e.key + "', found none");
    }
    const Tree* target = v.Find("target");
    if (target == nullptr) {
      diag_.Add(v.loc, "expected 'target' (an absolute path) in mount '" + e.key + "', found none");
    } else if (ReadString(*target, "target", &mount.target, diag_) &&
               (mount.target.empty() || mount.target[0] != '/')) {
      diag_.Add(target->loc,
                "expected an absolute path for the mount target, found " + Describe(*target));
    }
    if (const Tree* options = v.Find("options")) {
      (void)ReadStringList(*options, "options", &mount.options, diag_);
    }
    (*mounts).emplace(e.key, std::move(mount));
  }
}

}  // namespace racksmith::inventory::internal
