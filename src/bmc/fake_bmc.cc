#include "bmc/fake_bmc.h"

namespace racksmith::bmc {

void FakeBmc::FailNext(const std::string& method, Error error) {
  fail_next_.insert_or_assign(method, std::move(error));
}

std::optional<Error> FakeBmc::Called(const std::string& method, const std::string& detail) {
  calls_.push_back(detail.empty() ? method : method + " " + detail);
  auto it = fail_next_.find(method);
  if (it == fail_next_.end()) return std::nullopt;
  Error e = it->second;
  fail_next_.erase(it);
  return e;
}

Result<PowerState> FakeBmc::GetPowerState() {
  if (auto e = Called("GetPowerState")) return *e;
  return power;
}

Status FakeBmc::Reset(ResetType type, const ResetOptions&) {
  if (auto e = Called("Reset", ResetTypeName(type))) return *e;
  switch (type) {
    case ResetType::kForceOff:
    case ResetType::kGracefulShutdown:
      power = PowerState::kOff;
      break;
    default:
      power = PowerState::kOn;
  }
  return Status::Ok();
}

Result<BootSettings> FakeBmc::GetBoot() {
  if (auto e = Called("GetBoot")) return *e;
  return boot;
}

Status FakeBmc::SetBootOverride(const BootOverride& b) {
  std::string target = BootDeviceName(b.device);
  if (auto e = Called("SetBootOverride", target + (b.persistent ? " persistent" : " once")))
    return *e;
  boot.target = target;
  boot.enabled = b.persistent ? "Continuous" : "Once";
  if (b.mode != BootMode::kUnchanged) boot.mode = b.mode == BootMode::kUefi ? "UEFI" : "Legacy";
  return Status::Ok();
}

Result<std::vector<VirtualMediaSlot>> FakeBmc::ListVirtualMedia() {
  if (auto e = Called("ListVirtualMedia")) return *e;
  return media;
}

Status FakeBmc::InsertMedia(const std::string& image_url, const std::string& slot) {
  if (auto e = Called("InsertMedia", image_url)) return *e;
  for (auto& m : media) {
    if (slot.empty() || m.id == slot) {
      m.image = image_url;
      m.inserted = true;
      return Status::Ok();
    }
  }
  return NotFound(name_ + ": no virtual media slot '" + slot + "'");
}

Status FakeBmc::EjectMedia(const std::string& slot) {
  if (auto e = Called("EjectMedia", slot)) return *e;
  for (auto& m : media) {
    if (slot.empty() || m.id == slot) {
      m.image.clear();
      m.inserted = false;
    }
  }
  return Status::Ok();
}

Result<std::vector<FirmwareComponent>> FakeBmc::ListFirmware() {
  if (auto e = Called("ListFirmware")) return *e;
  return firmware;
}

Result<std::vector<BmcTask>> FakeBmc::ListTasks() {
  if (auto e = Called("ListTasks")) return *e;
  return tasks;
}

Status FakeBmc::UpdateFirmware(const FirmwareUpdate& update, const ProgressCallback& progress) {
  if (auto e =
          Called("UpdateFirmware", update.image_uri.empty() ? update.local_file : update.image_uri))
    return *e;
  if (progress) progress({"Completed", 100, ""});
  return Status::Ok();
}

Result<HardwareReport> FakeBmc::GetHardware() {
  if (auto e = Called("GetHardware")) return *e;
  HardwareReport r = hardware;
  r.power = power;
  return r;
}

Result<std::vector<LogEntry>> FakeBmc::GetLogEntries(int max_entries) {
  if (auto e = Called("GetLogEntries")) return *e;
  if (static_cast<int>(log.size()) <= max_entries) return log;
  return std::vector<LogEntry>(log.end() - max_entries, log.end());
}

Status FakeBmc::SecureEraseDrive(const std::string& drive, const ProgressCallback& progress) {
  if (auto e = Called("SecureEraseDrive", drive)) return *e;
  if (progress) progress({"Completed", 100, ""});
  return Status::Ok();
}

Status FakeBmc::Close() {
  if (auto e = Called("Close")) return *e;
  closed_ = true;
  return Status::Ok();
}

}  // namespace racksmith::bmc
