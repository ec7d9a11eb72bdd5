// racksmith/redfish (internal): bmc::Bmc over one RedfishClient.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "bmc/bmc.h"
#include "redfish/actions.h"
#include "redfish/redfish_client.h"
#include "redfish/resource_reader.h"

namespace racksmith::redfish {

class RedfishBmc final : public bmc::Bmc {
 public:
  /// `system_id`: this node's ComputerSystem Id ("" = the first host system). It is the
  /// Bmc's own, not the client's: the client (session, connection) is shared by every Bmc
  /// the fleet hands out for one endpoint.
  RedfishBmc(std::shared_ptr<RedfishClient> client, std::string system_id)
      : client_(std::move(client)), system_id_(std::move(system_id)) {}

  std::string Describe() const override { return client_->endpoint(); }
  Result<bmc::PowerState> GetPowerState() override;
  Status Reset(bmc::ResetType type, const bmc::ResetOptions& options) override;
  Result<bmc::BootSettings> GetBoot() override;
  Status SetBootOverride(const bmc::BootOverride& boot) override;
  Result<std::vector<bmc::VirtualMediaSlot>> ListVirtualMedia() override;
  Status InsertMedia(const std::string& image_url, const std::string& slot) override;
  Status EjectMedia(const std::string& slot) override;
  Result<std::vector<bmc::FirmwareComponent>> ListFirmware() override;
  Status UpdateFirmware(const bmc::FirmwareUpdate& update,
                        const bmc::ProgressCallback& progress) override;
  Result<std::vector<bmc::BmcTask>> ListTasks() override;
  Result<bmc::HardwareReport> GetHardware() override;
  Result<std::vector<bmc::LogEntry>> GetLogEntries(int max_entries) override;
  Status SecureEraseDrive(const std::string& drive_odata_id,
                          const bmc::ProgressCallback& progress) override;
  Status Close() override { return client_->Logout(); }

 private:
  Result<ServiceMap*> Map();
  Result<Json> FreshSystem();
  Status PostReset(const ActionRef& action, const std::string& value);
  Status WaitPower(bmc::PowerState want, int64_t timeout_ms, int64_t poll_ms);
  Result<std::vector<Json>> MediaSlots();

  std::shared_ptr<RedfishClient> client_;
  std::string system_id_;
  std::optional<ServiceMap> map_;
  bool map_just_read_ = false;  // the last Map() discovered, so map_->system is fresh
};

}  // namespace racksmith::redfish
