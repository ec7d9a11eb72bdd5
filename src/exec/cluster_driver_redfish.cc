#include "exec/cluster_driver_redfish.h"

namespace racksmith::exec {

BmcFactory RedfishBmcFactory(redfish::RedfishFleet& fleet) {
  return [&fleet](const inventory::Node& node) -> Result<std::unique_ptr<bmc::Bmc>> {
    const inventory::BmcConfig& b = node.bmc;
    if (b.driver != inventory::BmcDriver::kRedfish) {
      return Error(ErrorCode::kUnsupported, node.name + ": BMC driver '" +
                                                inventory::BmcDriverName(b.driver) +
                                                "' is not supported by the cluster driver");
    }
    if (b.address.empty()) return InvalidInput(node.name + ": the inventory gives no bmc address");
    redfish::Target t;
    t.url = b.BaseUrl();
    t.username = b.username;
    t.auth =
        b.auth == inventory::BmcAuth::kBasic ? redfish::AuthMode::kBasic : redfish::AuthMode::kAuto;
    t.tls.insecure = b.tls.insecure();
    t.tls.ca_file = b.tls.ca_file;
    t.tls.cert_fingerprint = b.tls.fingerprint;
    t.system_id = b.system;
    if (!b.password.empty()) {
      // Resolved now and handed to the fleet's client; never kept here.
      Result<std::string> pw = inventory::ResolveSecret(b.password);
      if (!pw.ok()) return pw.error().WithContext(node.name + ": bmc.password");
      t.password = std::move(pw.value());
    }
    return fleet.Connect(t);
  };
}

}  // namespace racksmith::exec
