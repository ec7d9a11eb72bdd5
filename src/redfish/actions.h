// racksmith/redfish (internal): Redfish actions and the tasks they start.
//
// Contract:
// - FindAction reads resource.Actions[name]: the advertised "target" (never a guessed path)
//   and the values allowed for one parameter, inline (<param>@Redfish.AllowableValues) or
//   from the @Redfish.ActionInfo resource's Parameters.
// - FollowTask turns a write's answer into a final Status: 200/204 are done; 202 is followed
//   through its Location task monitor (or the Task in the body) until the task ends, calling
//   `progress` on every change; it never waits past timeout_ms.
#pragma once

#include <string>
#include <vector>

#include "bmc/bmc.h"
#include "redfish/redfish_client.h"

namespace racksmith::redfish {

struct ActionRef {
  std::string target;
  std::vector<std::string> allowed;  // empty when the BMC does not say
  bool allowed_known = false;
};

Result<ActionRef> FindAction(ResourceReader& reader, const Json& resource, const std::string& name,
                             const std::string& parameter, const std::string& describe);

/// OK when `value` is allowed (or the BMC does not list allowed values).
Status CheckAllowed(const ActionRef& action, const std::string& parameter, const std::string& value,
                    const std::string& describe);

/// True when `value` is listed (or nothing is listed).
bool IsAllowed(const ActionRef& action, const std::string& value);

struct TaskWait {
  int64_t timeout_ms = 3'600'000;
  int64_t poll_interval_ms = 2'000;
  /// How long the BMC may stop answering while a task runs (BMCs restart during their own
  /// firmware update) before following it fails; never past timeout_ms.
  int64_t away_ms = 600'000;
};

Status FollowTask(RedfishClient& client, const WriteResult& started, const TaskWait& wait,
                  const bmc::ProgressCallback& progress, const std::string& what);

}  // namespace racksmith::redfish
