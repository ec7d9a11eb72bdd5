// racksmith/exec: the production BmcFactory for ClusterDriver, over Redfish.
//
// Contract: each call builds a redfish::Target from the node's `bmc` settings (URL, user,
// auth, TLS CA file, pinned certificate fingerprint, explicit insecure) and resolves the
// password from its reference ({env:}/{file:}) at that moment; the value lives only in the
// Target inside the fleet's client, never in a message or log. Bmcs for one BMC share the
// fleet's Redfish session. The fleet must outlive the factory and every Bmc it made.
#pragma once

#include "exec/cluster_driver.h"
#include "redfish/redfish.h"

namespace racksmith::exec {

/// The Redfish target for a node's `bmc` settings (bmc.system included), its password
/// resolved now. Fails (kUnsupported) for a node whose BMC driver is not redfish,
/// (kInvalidInput) for one without a BMC address, and (kNotFound) when its password
/// reference does not resolve. The one place a Target is built from the inventory: the
/// factory below and the CLI (cli/bmc_cmd.h BmcTargetOf) both use it.
Result<redfish::Target> RedfishTargetOf(const inventory::Node& node);

/// Connect(RedfishTargetOf(node)); errors carry the node's name.
BmcFactory RedfishBmcFactory(redfish::RedfishFleet& fleet);

}  // namespace racksmith::exec
