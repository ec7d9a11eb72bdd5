#include <strings.h>

#include "base/text.h"

#include "redfish/resource_reader.h"

namespace racksmith::redfish {
namespace {

std::string LastSegment(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string FirstMember(ResourceReader& reader, const std::string& collection) {
  if (collection.empty()) return {};
  Result<Json> coll = reader.Get(collection);
  if (!coll.ok()) return {};
  std::vector<std::string> ids = Links(*coll, "Members");
  return ids.empty() ? std::string() : ids.front();
}

// The host system among the members of the Systems collection: the one named `system_id`
// (its last path segment, case-insensitively), else the first that is not a DPU.
Status FindSystem(ResourceReader& reader, const std::string& systems, const std::string& system_id,
                  const std::string& describe, ServiceMap& map) {
  Result<Json> coll = reader.Get(systems);
  if (!coll.ok()) return coll.error();
  std::vector<std::string> ids = Links(*coll, "Members");
  if (ids.empty()) return NotFound(describe + ": " + systems + " lists no systems");

  std::vector<std::string> names;
  for (const auto& id : ids) {
    if (!system_id.empty()) {
      if (strcasecmp(LastSegment(id).c_str(), system_id.c_str()) != 0) {
        names.push_back(LastSegment(id));
        continue;
      }
    }
    Result<Json> sys = reader.Get(id);
    if (!sys.ok()) {
      if (!system_id.empty()) return sys.error();
      continue;
    }
    // A SmartNIC/DPU shows up as a second ComputerSystem; it is not the node's host.
    if (system_id.empty() && Str(*sys, "SystemType") == "DPU") continue;
    map.system_path = id;
    map.system = std::move(sys.value());
    break;
  }
  if (map.system_path.empty()) {
    if (!system_id.empty()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      return NotFound(describe + ": no system '" + system_id + "' under " + systems +
                      " (found: " + list + ")");
    }
    return NotFound(describe + ": no readable host system under " + systems);
  }
  return Status::Ok();
}

}  // namespace

Result<ServiceMap> Discover(ResourceReader& reader, const std::string& system_id,
                            const std::string& describe) {
  ServiceMap map;
  Result<Json> root = reader.Get("/redfish/v1/");
  if (!root.ok()) return root.error();
  map.root = std::move(root.value());
  std::string systems = Link(map.root, "Systems");
  if (systems.empty())
    return Error(ErrorCode::kUnsupported,
                 describe + ": the service root has no Systems link; is this a Redfish BMC?");
  if (IsPlainPathSegment(system_id)) {
    // A named system is read at the URI Redfish defines for it (Systems/{Id}; DSP0266 and
    // the schemas' @Redfish.Uris) without listing the collection: one request less. A BMC
    // that answers anything but that system there (another id's case, a 404) gets the walk
    // through the collection's Members below, which matching and the errors rely on.
    std::string base = systems;
    while (!base.empty() && base.back() == '/') base.pop_back();
    Result<Json> sys = reader.Get(base + "/" + system_id);
    if (sys.ok() && Str(*sys, "Id") == system_id) {
      std::string self = Str(*sys, "@odata.id");
      map.system_path = self.empty() ? base + "/" + system_id : self;
      map.system = std::move(sys.value());
    }
  }
  if (map.system_path.empty()) {
    if (Status s = FindSystem(reader, systems, system_id, describe, map); !s.ok()) return s.error();
  }
  const Json* links = Field(map.system, "Links");
  if (links) {
    auto managed = Links(*links, "ManagedBy");
    if (!managed.empty()) map.manager_path = managed.front();
    auto chassis = Links(*links, "Chassis");
    if (!chassis.empty()) map.chassis_path = chassis.front();
  }
  if (map.manager_path.empty()) map.manager_path = FirstMember(reader, Link(map.root, "Managers"));
  if (map.chassis_path.empty()) map.chassis_path = FirstMember(reader, Link(map.root, "Chassis"));
  map.update_service_path = Link(map.root, "UpdateService");
  map.task_service_path = Link(map.root, "Tasks");
  if (map.task_service_path.empty()) map.task_service_path = Link(map.root, "TaskService");
  return map;
}

}  // namespace racksmith::redfish
