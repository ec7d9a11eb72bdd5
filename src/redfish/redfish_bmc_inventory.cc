// Firmware, hardware inventory, event logs and drive erase of RedfishBmc.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "redfish/hardware.h"
#include "redfish/redfish_bmc.h"

namespace racksmith::redfish {

Result<std::vector<bmc::FirmwareComponent>> RedfishBmc::ListFirmware() {
  Result<ServiceMap*> m = Map();
  if (!m.ok()) return m.error();
  const std::string& ep = client_->endpoint();
  if ((*m)->update_service_path.empty())
    return Error(ErrorCode::kUnsupported, ep + ": the service root has no UpdateService");
  Result<Json> us = client_->Get((*m)->update_service_path);
  if (!us.ok()) return us.error();
  std::string inv = Link(*us, "FirmwareInventory");
  if (inv.empty())
    return Error(ErrorCode::kUnsupported,
                 ep + ": " + (*m)->update_service_path + " has no FirmwareInventory");
  std::vector<std::string> warnings;
  Result<std::vector<Json>> items = client_->GetMembers(inv, &warnings);
  if (!items.ok()) return items.error();
  for (const auto& w : warnings) spdlog::warn("{}", w);
  std::vector<bmc::FirmwareComponent> out;
  for (const auto& j : *items) {
    bmc::FirmwareComponent c;
    c.id = Str(j, "Id");
    c.name = Str(j, "Name");
    c.version = Str(j, "Version");
    c.updateable = Bool(j, "Updateable", false);
    c.health = Health(j);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<bmc::BmcTask>> RedfishBmc::ListTasks() {
  Result<ServiceMap*> m = Map();
  if (!m.ok()) return m.error();
  std::vector<bmc::BmcTask> out;
  if ((*m)->task_service_path.empty()) return out;  // no TaskService: no tasks to show
  Result<Json> ts = client_->Get((*m)->task_service_path);
  if (!ts.ok()) return ts.error();
  std::string tasks = Link(*ts, "Tasks");
  if (tasks.empty()) return out;
  std::vector<std::string> warnings;
  Result<std::vector<Json>> items = client_->GetMembers(tasks, &warnings);
  if (!items.ok()) return items.error();
  for (const auto& w : warnings) spdlog::warn("{}", w);
  for (const auto& j : *items) {
    bmc::BmcTask t;
    t.id = Str(j, "Id");
    t.name = Str(j, "Name");
    t.state = Str(j, "TaskState");
    t.percent = static_cast<int>(Int(j, "PercentComplete", -1));
    out.push_back(std::move(t));
  }
  return out;
}

Status RedfishBmc::UpdateFirmware(const bmc::FirmwareUpdate& update,
                                  const bmc::ProgressCallback& progress) {
  Result<ServiceMap*> m = Map();
  if (!m.ok()) return m.error();
  const std::string& ep = client_->endpoint();
  if ((*m)->update_service_path.empty())
    return Error(ErrorCode::kUnsupported, ep + ": the service root has no UpdateService");
  Result<Json> us = client_->Get((*m)->update_service_path);
  if (!us.ok()) return us.error();
  TaskWait wait{update.timeout_ms, client_->options().task_poll_interval_ms};
  Json targets = Json::array();
  for (const auto& t : update.targets) targets.push_back(t);

  if (!update.image_uri.empty()) {
    Result<ActionRef> action =
        FindAction(*client_, *us, "#UpdateService.SimpleUpdate", "TransferProtocol", ep);
    if (!action.ok()) return action.error();
    Json body{{"ImageURI", update.image_uri}};
    size_t colon = update.image_uri.find("://");
    if (colon != std::string::npos && action->allowed_known) {
      std::string proto = update.image_uri.substr(0, colon);
      std::transform(proto.begin(), proto.end(), proto.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      if (Status s = CheckAllowed(*action, "TransferProtocol", proto, ep); !s.ok()) return s;
      body["TransferProtocol"] = proto;
    }
    if (!targets.empty()) body["Targets"] = targets;
    Result<WriteResult> w = client_->Post(action->target, body);
    if (!w.ok()) return w.error();
    return FollowTask(*client_, *w, wait, progress, "firmware update");
  }
  if (update.local_file.empty())
    return InvalidInput(ep + ": a firmware update needs an image URI or a local file");
  std::string multipart = Str(*us, "MultipartHttpPushUri");
  std::string push = Str(*us, "HttpPushUri");
  if (multipart.empty() && push.empty())
    return Error(ErrorCode::kUnsupported,
                 ep + ": " + (*m)->update_service_path +
                     " offers neither MultipartHttpPushUri nor HttpPushUri for an upload");
  Json params = Json::object();
  if (!targets.empty()) params["Targets"] = targets;
  Result<WriteResult> w = multipart.empty()
                              ? client_->PushFile(push, update.local_file, false, Json())
                              : client_->PushFile(multipart, update.local_file, true, params);
  if (!w.ok()) return w.error();
  return FollowTask(*client_, *w, wait, progress, "firmware update");
}

Result<bmc::HardwareReport> RedfishBmc::GetHardware() {
  Result<Json> sys = FreshSystem();  // the map's copy may be from an earlier call
  if (!sys.ok()) return sys.error();
  return CollectHardware(*client_, *map_);
}

Result<std::vector<bmc::LogEntry>> RedfishBmc::GetLogEntries(int max_entries) {
  Result<ServiceMap*> m = Map();
  if (!m.ok()) return m.error();
  std::vector<std::string> service_collections;
  std::string sys_logs = Link((*m)->system, "LogServices");
  if (!sys_logs.empty()) service_collections.push_back(sys_logs);
  if (!(*m)->manager_path.empty()) {
    Result<Json> mgr = client_->Get((*m)->manager_path);
    if (mgr.ok() && !Link(*mgr, "LogServices").empty())
      service_collections.push_back(Link(*mgr, "LogServices"));
  }
  if (service_collections.empty())
    return Error(ErrorCode::kUnsupported,
                 client_->endpoint() + ": neither the system nor the manager has LogServices");
  std::vector<bmc::LogEntry> out;
  for (const auto& coll : service_collections) {
    Result<std::vector<Json>> services = client_->GetMembers(coll, nullptr);
    if (!services.ok()) return services.error();
    for (const auto& svc : *services) {
      std::string entries = Link(svc, "Entries");
      if (entries.empty()) continue;
      Result<Json> page = client_->Get(entries);
      if (!page.ok()) {
        spdlog::warn("{}", page.error().message());
        continue;
      }
      const Json* list = Field(*page, "Members");
      if (!list || !list->is_array()) continue;
      // Logs grow at the end; keep the newest max_entries of the first page.
      size_t start = list->size() > static_cast<size_t>(max_entries)
                         ? list->size() - static_cast<size_t>(max_entries)
                         : 0;
      std::vector<Json> items;
      std::vector<std::string> to_fetch;
      for (size_t i = start; i < list->size(); ++i) {
        const Json& e = (*list)[i];
        if (e.is_object() && e.size() > 1)
          items.push_back(e);
        else if (!CleanPath(Str(e, "@odata.id")).empty())
          to_fetch.push_back(Str(e, "@odata.id"));
      }
      for (auto& r : client_->GetMany(to_fetch))
        if (r.ok()) items.push_back(std::move(r.value()));
      for (const auto& e : items) {
        bmc::LogEntry le;
        le.log = Str(svc, "Id");
        le.id = Str(e, "Id");
        le.created = Str(e, "Created");
        le.severity = Str(e, "Severity");
        le.message = Str(e, "Message");
        if (le.message.empty()) le.message = Str(e, "MessageId");
        out.push_back(std::move(le));
      }
    }
  }
  return out;
}

Status RedfishBmc::SecureEraseDrive(const std::string& drive_path,
                                    const bmc::ProgressCallback& progress) {
  const std::string& ep = client_->endpoint();
  Result<Json> drive = client_->Get(drive_path);
  if (!drive.ok()) return drive.error();
  Result<ActionRef> action = FindAction(*client_, *drive, "#Drive.SecureErase", "", ep);
  if (!action.ok()) return action.error();
  spdlog::warn("{}: secure erase of {}", ep, drive_path);
  Result<WriteResult> w = client_->Post(action->target, Json::object());
  if (!w.ok()) return w.error();
  return FollowTask(*client_, *w,
                    TaskWait{24 * 3'600'000LL, client_->options().task_poll_interval_ms}, progress,
                    "secure erase of " + drive_path);
}

}  // namespace racksmith::redfish
