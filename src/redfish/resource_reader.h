// racksmith/redfish (internal): what tree walkers need from a BMC connection, so discovery and
// hardware parsing can run against a live BMC, a map of JSON documents (tests) or fuzz input.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "redfish/json_fields.h"

namespace racksmith::redfish {

class ResourceReader {
 public:
  virtual ~ResourceReader() = default;
  /// The resource at an @odata.id path.
  virtual Result<Json> Get(const std::string& path) = 0;
  /// The members of a collection (paging followed); unreadable members go to *warnings.
  virtual Result<std::vector<Json>> GetMembers(const std::string& collection_path,
                                               std::vector<std::string>* warnings) = 0;
  /// Several resources; the default reads them one after another.
  virtual std::vector<Result<Json>> GetMany(const std::vector<std::string>& paths) {
    std::vector<Result<Json>> out;
    for (const auto& p : paths) out.push_back(Get(p));
    return out;
  }
};

/// Where the interesting resources of one BMC are, found from the service root by links only.
struct ServiceMap {
  Json root;
  std::string system_path;
  Json system;
  std::string manager_path;  // the system's Links.ManagedBy[0], else the first manager
  std::string chassis_path;  // the system's Links.Chassis[0], else the first chassis
  std::string update_service_path;
  std::string task_service_path;
};

/// Walks root -> Systems -> the host system (the one named `system_id`, matched against Id
/// or the last path segment case-insensitively; else the first that is not a DPU). A named
/// system is first read at Systems/{system_id} directly; the collection is listed only when
/// that does not answer with a system of exactly that Id.
Result<ServiceMap> Discover(ResourceReader& reader, const std::string& system_id,
                            const std::string& describe);

}  // namespace racksmith::redfish
