// racksmith/redfish (internal): a node's hardware, read from its Redfish tree.
//
// Contract:
// - CollectHardware follows links only (never guessed paths): the system, its Processors,
//   Memory (only when MemorySummary is missing), Storage -> Drives, EthernetInterfaces,
//   PCIeDevices -> PCIeFunctions, the chassis' vendor Devices (HPE iLO), and the manager's
//   firmware version. GPUs come from the first of these that has any: Processors with
//   ProcessorType GPU; PCIe devices with a display/accelerator function or NVIDIA's vendor
//   id; the chassis' Devices with DeviceType GPU (boards and NVSwitches not counted).
// - Parts that cannot be read become warnings in the report, not a failure; only an
//   unreadable system is an error. Never throws, whatever the JSON holds.
#pragma once

#include "bmc/bmc.h"
#include "redfish/resource_reader.h"

namespace racksmith::redfish {

Result<bmc::HardwareReport> CollectHardware(ResourceReader& reader, const ServiceMap& map);

/// The pieces, exposed for tests and the fuzzer.
void ReadSystemSummary(const Json& system, bmc::HardwareReport& report);
bool IsGpuProcessor(const Json& processor);
/// A GPU from a PCIe device and its functions, or nothing if it is not a GPU.
bool GpuFromPcie(const Json& device, const std::vector<Json>& functions, bmc::Gpu& gpu);
/// A GPU from an HPE Chassis/<id>/Devices member, or nothing.
bool GpuFromVendorDevice(const Json& device, bmc::Gpu& gpu);
bmc::Drive DriveFrom(const Json& drive);
bmc::Nic NicFrom(const Json& eth);

}  // namespace racksmith::redfish
