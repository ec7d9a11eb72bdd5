// racksmith/bmc: test doubles for code that drives BMCs (the executor, the planner's
// discovery, the CLI): an in-memory FakeBmc and a forwarding BmcWrapper.
//
// Contract:
// - FakeBmc keeps power, boot, media and firmware in memory; power changes happen at once.
//   Every call is appended to calls() ("Reset ForceOff", "SetBootOverride Pxe once", ...),
//   and FailNext(call, error) makes the next call of that name return the error.
// - BmcWrapper forwards every call to another Bmc; a test derives from it and overrides one
//   method to inject a fault (a 5xx, a timeout, a dropped connection), as leveldb's
//   EnvWrapper does. It does not own the wrapped Bmc.
// - Both are thread-safe to the same degree as Bmc: one caller at a time per object.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bmc/bmc.h"

namespace racksmith::bmc {

class FakeBmc : public Bmc {
 public:
  explicit FakeBmc(std::string name = "fake://bmc") : name_(std::move(name)) {}

  // State, readable and settable by tests.
  PowerState power = PowerState::kOff;
  BootSettings boot{"Disabled", "None", "UEFI", {"None", "Pxe", "Cd", "Hdd", "Usb"}};
  std::vector<VirtualMediaSlot> media{{"CD1", "/fake/VirtualMedia/CD1", {"CD", "DVD"}, "", false}};
  std::vector<FirmwareComponent> firmware{{"BIOS", "BIOS", "1.0", true, "OK"},
                                          {"BMC", "BMC", "1.0", true, "OK"}};
  HardwareReport hardware;
  std::vector<LogEntry> log;
  std::vector<BmcTask> tasks;

  /// The next call to `method` ("GetPowerState", "Reset", ...) returns `error`.
  void FailNext(const std::string& method, Error error);
  const std::vector<std::string>& calls() const { return calls_; }
  bool closed() const { return closed_; }

  std::string Describe() const override { return name_; }
  Result<PowerState> GetPowerState() override;
  Status Reset(ResetType type, const ResetOptions& options) override;
  Result<BootSettings> GetBoot() override;
  Status SetBootOverride(const BootOverride& boot) override;
  Result<std::vector<VirtualMediaSlot>> ListVirtualMedia() override;
  Status InsertMedia(const std::string& image_url, const std::string& slot) override;
  Status EjectMedia(const std::string& slot) override;
  Result<std::vector<FirmwareComponent>> ListFirmware() override;
  Status UpdateFirmware(const FirmwareUpdate& update, const ProgressCallback& progress) override;
  Result<std::vector<BmcTask>> ListTasks() override;
  Result<HardwareReport> GetHardware() override;
  Result<std::vector<LogEntry>> GetLogEntries(int max_entries) override;
  Status SecureEraseDrive(const std::string& drive_odata_id,
                          const ProgressCallback& progress) override;
  Status Close() override;

 private:
  std::optional<Error> Called(const std::string& method, const std::string& detail = "");

  std::string name_;
  std::vector<std::string> calls_;
  std::map<std::string, Error> fail_next_;
  bool closed_ = false;
};

class BmcWrapper : public Bmc {
 public:
  explicit BmcWrapper(Bmc& target) : target_(target) {}
  Bmc& target() { return target_; }

  std::string Describe() const override { return target_.Describe(); }
  Result<PowerState> GetPowerState() override { return target_.GetPowerState(); }
  Status Reset(ResetType type, const ResetOptions& options) override {
    return target_.Reset(type, options);
  }
  Result<BootSettings> GetBoot() override { return target_.GetBoot(); }
  Status SetBootOverride(const BootOverride& boot) override {
    return target_.SetBootOverride(boot);
  }
  Result<std::vector<VirtualMediaSlot>> ListVirtualMedia() override {
    return target_.ListVirtualMedia();
  }
  Status InsertMedia(const std::string& image_url, const std::string& slot) override {
    return target_.InsertMedia(image_url, slot);
  }
  Status EjectMedia(const std::string& slot) override { return target_.EjectMedia(slot); }
  Result<std::vector<FirmwareComponent>> ListFirmware() override { return target_.ListFirmware(); }
  Status UpdateFirmware(const FirmwareUpdate& update, const ProgressCallback& progress) override {
    return target_.UpdateFirmware(update, progress);
  }
  Result<std::vector<BmcTask>> ListTasks() override { return target_.ListTasks(); }
  Result<HardwareReport> GetHardware() override { return target_.GetHardware(); }
  Result<std::vector<LogEntry>> GetLogEntries(int max_entries) override {
    return target_.GetLogEntries(max_entries);
  }
  Status SecureEraseDrive(const std::string& drive_odata_id,
                          const ProgressCallback& progress) override {
    return target_.SecureEraseDrive(drive_odata_id, progress);
  }
  Status Close() override { return target_.Close(); }

 private:
  Bmc& target_;
};

}  // namespace racksmith::bmc
