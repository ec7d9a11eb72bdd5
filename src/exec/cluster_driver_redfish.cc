#include "exec/cluster_driver_redfish.h"

namespace racksmith::exec {

Result<redfish::Target> RedfishTargetOf(const inventory::Node& node) {
  const inventory::BmcConfig& b = node.bmc;
  if (b.driver != inventory::BmcDriver::kRedfish) {
    return Error(ErrorCode::kUnsupported, std::string("BMC driver '") +
                                              inventory::BmcDriverName(b.driver) +
                                              "' is not handled by the Redfish driver");
  }
  if (b.address.empty()) return InvalidInput("the inventory gives no bmc address");
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
    // Resolved at the last moment, held in the Target only, never printed.
    Result<std::string> pw = inventory::ResolveSecret(b.password);
    if (!pw.ok()) return pw.error();
    t.password = std::move(pw.value());
  }
  return t;
}

BmcFactory RedfishBmcFactory(redfish::RedfishFleet& fleet) {
  return [&fleet](const inventory::Node& node) -> Result<std::unique_ptr<bmc::Bmc>> {
    Result<redfish::Target> t = RedfishTargetOf(node);
    if (!t.ok()) return t.error().WithContext(node.name);
    return fleet.Connect(*t);
  };
}

}  // namespace racksmith::exec
