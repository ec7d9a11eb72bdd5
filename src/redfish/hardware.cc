#include "redfish/hardware.h"

#include <strings.h>

#include <algorithm>
#include <set>

namespace racksmith::redfish {
namespace {

bool ContainsNoCase(const std::string& hay, const std::string& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool Absent(const Json& j) { return StateOf(j) == "Absent"; }

// "0x10DE", "10de", "0x10de" -> true.
bool IsNvidiaVendorId(const std::string& id) {
  std::string v = id;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) v = v.substr(2);
  return strcasecmp(v.c_str(), "10de") == 0;
}

// The first vendor's Oem.<Vendor>.Links.<key>, e.g. HPE's Oem.Hpe.Links.Devices.
std::string OemLink(const Json& j, const std::string& key) {
  const Json* oem = Field(j, "Oem");
  if (!oem || !oem->is_object()) return {};
  for (const auto& vendor : oem->items()) {
    const Json* links = Field(vendor.value(), "Links");
    if (!links) continue;
    std::string l = Link(*links, key);
    if (!l.empty()) return l;
  }
  return {};
}

std::string FirmwareString(const Json& j) {
  const Json* fw = Field(j, "FirmwareVersion");
  if (!fw) return {};
  if (fw->is_string()) return fw->get<std::string>();
  if (const Json* cur = Field(*fw, "Current")) return Str(*cur, "VersionString");
  return {};
}

}  // namespace

void ReadSystemSummary(const Json& s, bmc::HardwareReport& r) {
  r.system_id = Str(s, "Id");
  r.manufacturer = Trim(Str(s, "Manufacturer"));
  r.model = Trim(Str(s, "Model"));
  r.serial = Trim(Str(s, "SerialNumber"));
  r.sku = Str(s, "SKU");
  r.uuid = Str(s, "UUID");
  r.bios_version = Str(s, "BiosVersion");
  r.power = bmc::ParsePowerState(Str(s, "PowerState"));
  r.health = Health(s);
  r.health_rollup = HealthRollup(s);
  if (const Json* ps = Field(s, "ProcessorSummary")) {
    r.cpu_count = static_cast<int>(std::clamp<int64_t>(Int(*ps, "Count"), 0, 1 << 20));
    r.cpu_model = Trim(Str(*ps, "Model"));
    r.logical_cpus =
        static_cast<int>(std::clamp<int64_t>(Int(*ps, "LogicalProcessorCount"), 0, 1 << 24));
  }
  if (const Json* ms = Field(s, "MemorySummary"))
    r.memory_gib = std::max(0.0, Num(*ms, "TotalSystemMemoryGiB"));
}

bool IsGpuProcessor(const Json& p) {
  std::string type = Str(p, "ProcessorType");
  return type == "GPU";
}

bool GpuFromPcie(const Json& device, const std::vector<Json>& functions, bmc::Gpu& gpu) {
  bool is_gpu = false;
  for (const auto& f : functions) {
    std::string cls = Str(f, "DeviceClass");
    bool nvidia = IsNvidiaVendorId(Str(f, "VendorId"));
    if (cls == "DisplayController" || cls == "ProcessingAccelerators" ||
        (nvidia && cls != "NetworkController" && cls != "Bridge" && cls != "MassStorageController"))
      is_gpu = true;
  }
  if (!is_gpu) return false;
  gpu.id = Str(device, "Id");
  gpu.model = Trim(Str(device, "Model"));
  if (gpu.model.empty()) gpu.model = Trim(Str(device, "Name"));
  gpu.manufacturer = Trim(Str(device, "Manufacturer"));
  gpu.serial = Trim(Str(device, "SerialNumber"));
  gpu.part_number = Trim(Str(device, "PartNumber"));
  gpu.firmware = FirmwareString(device);
  gpu.health = Health(device);
  gpu.source = "PCIeDevices";
  return true;
}

bool GpuFromVendorDevice(const Json& d, bmc::Gpu& gpu) {
  if (Str(d, "DeviceType") != "GPU" || Absent(d)) return false;
  std::string name = Trim(Str(d, "Name"));
  // HPE lists the HGX baseboard and each NVSwitch as DeviceType GPU too: they are not GPUs.
  if (ContainsNoCase(name, "NVSwitch") || ContainsNoCase(name, "NV Switch") ||
      ContainsNoCase(name, "HGX") || ContainsNoCase(name, "baseboard"))
    return false;
  gpu.id = Str(d, "Id");
  gpu.model = name;
  gpu.manufacturer = Trim(Str(d, "Manufacturer"));
  gpu.serial = Trim(Str(d, "SerialNumber"));
  gpu.part_number = Trim(Str(d, "PartNumber"));
  gpu.firmware = FirmwareString(d);
  gpu.health = Health(d);
  gpu.source = "Chassis/Devices";
  return true;
}

bmc::Drive DriveFrom(const Json& d) {
  bmc::Drive out;
  out.id = Str(d, "Id");
  out.model = Trim(Str(d, "Model"));
  out.serial = Trim(Str(d, "SerialNumber"));
  out.capacity_bytes = std::max<int64_t>(0, Int(d, "CapacityBytes"));
  out.media_type = Str(d, "MediaType");
  out.protocol = Str(d, "Protocol");
  out.health = Health(d);
  out.odata_id = CleanPath(Str(d, "@odata.id"));
  if (const Json* actions = Field(d, "Actions"))
    out.secure_erase = Field(*actions, "#Drive.SecureErase");
  return out;
}

bmc::Nic NicFrom(const Json& e) {
  bmc::Nic n;
  n.id = Str(e, "Id");
  n.mac = Str(e, "MACAddress");
  if (n.mac.empty()) n.mac = Str(e, "PermanentMACAddress");
  n.speed_mbps = static_cast<int>(std::clamp<int64_t>(Int(e, "SpeedMbps"), 0, 1 << 30));
  n.link_status = Str(e, "LinkStatus");
  if (const Json* v4 = Field(e, "IPv4Addresses"); v4 && v4->is_array() && !v4->empty())
    n.ipv4 = Str((*v4)[0], "Address");
  return n;
}

Result<bmc::HardwareReport> CollectHardware(ResourceReader& reader, const ServiceMap& map) {
  bmc::HardwareReport r;
  const Json& s = map.system;
  ReadSystemSummary(s, r);
  std::vector<std::string>& warn = r.warnings;

  auto members = [&](const std::string& path) -> std::vector<Json> {
    if (path.empty()) return {};
    Result<std::vector<Json>> m = reader.GetMembers(path, &warn);
    if (!m.ok()) {
      warn.push_back(m.error().message());
      return {};
    }
    return std::move(m.value());
  };

  std::vector<bmc::Gpu> processor_gpus;
  for (const Json& p : members(Link(s, "Processors"))) {
    if (Absent(p)) continue;
    if (IsGpuProcessor(p)) {
      bmc::Gpu g;
      g.id = Str(p, "Id");
      g.model = Trim(Str(p, "Model"));
      g.manufacturer = Trim(Str(p, "Manufacturer"));
      g.serial = Trim(Str(p, "SerialNumber"));
      g.part_number = Trim(Str(p, "PartNumber"));
      g.health = Health(p);
      if (const Json* mem = Field(p, "MemorySummary"))
        g.memory_mib = std::max<int64_t>(0, Int(*mem, "TotalMemorySizeMiB"));
      g.source = "Processors";
      processor_gpus.push_back(std::move(g));
    } else if (Str(p, "ProcessorType") == "CPU" || Str(p, "ProcessorType").empty()) {
      bmc::Processor c;
      c.id = Str(p, "Id");
      c.model = Trim(Str(p, "Model"));
      c.manufacturer = Trim(Str(p, "Manufacturer"));
      c.serial = Trim(Str(p, "SerialNumber"));
      c.cores = static_cast<int>(std::clamp<int64_t>(Int(p, "TotalCores"), 0, 1 << 20));
      c.threads = static_cast<int>(std::clamp<int64_t>(Int(p, "TotalThreads"), 0, 1 << 20));
      c.health = Health(p);
      r.cpus.push_back(std::move(c));
    }
  }
  if (r.cpu_count == 0) r.cpu_count = static_cast<int>(r.cpus.size());
  if (r.logical_cpus == 0) {
    for (const bmc::Processor& c : r.cpus) r.logical_cpus += c.threads;
  }
  if (r.cpu_model.empty() && !r.cpus.empty()) r.cpu_model = r.cpus.front().model;

  if (r.memory_gib <= 0) {
    int64_t mib = 0;
    for (const Json& dimm : members(Link(s, "Memory")))
      if (!Absent(dimm)) mib += std::max<int64_t>(0, Int(dimm, "CapacityMiB"));
    r.memory_gib = static_cast<double>(mib) / 1024.0;
  }

  // GPUs: the most standard source that has any, so one card is never counted twice.
  if (!processor_gpus.empty()) {
    r.gpus = std::move(processor_gpus);
  } else {
    std::vector<std::string> pcie = Links(s, "PCIeDevices");
    std::vector<Json> devices;
    if (!pcie.empty()) {
      for (const auto& path : pcie) {
        Result<Json> d = reader.Get(path);
        if (d.ok())
          devices.push_back(std::move(d.value()));
        else
          warn.push_back(d.error().message());
      }
    } else {
      std::string coll = Link(s, "PCIeDevices");
      if (coll.empty() && !map.chassis_path.empty()) {
        Result<Json> chassis = reader.Get(map.chassis_path);
        if (chassis.ok()) coll = Link(*chassis, "PCIeDevices");
      }
      devices = members(coll);
    }
    for (const Json& d : devices) {
      if (Absent(d)) continue;
      std::vector<Json> functions;
      const Json* dl = Field(d, "Links");
      std::vector<std::string> fpaths =
          dl ? Links(*dl, "PCIeFunctions") : std::vector<std::string>{};
      if (!fpaths.empty()) {
        for (const auto& fp : fpaths) {
          Result<Json> f = reader.Get(fp);
          if (f.ok())
            functions.push_back(std::move(f.value()));
          else
            warn.push_back(f.error().message());
        }
      } else {
        functions = members(Link(d, "PCIeFunctions"));
      }
      bmc::Gpu g;
      if (GpuFromPcie(d, functions, g)) r.gpus.push_back(std::move(g));
    }
    if (r.gpus.empty() && !map.chassis_path.empty()) {
      Result<Json> chassis = reader.Get(map.chassis_path);
      std::string devs = chassis.ok() ? OemLink(*chassis, "Devices") : std::string();
      for (const Json& d : members(devs)) {
        bmc::Gpu g;
        if (GpuFromVendorDevice(d, g)) r.gpus.push_back(std::move(g));
      }
    }
  }

  std::set<std::string> seen_drives;
  for (const Json& storage : members(Link(s, "Storage"))) {
    std::vector<std::string> drive_paths = Links(storage, "Drives");
    for (const auto& dp : drive_paths) {
      if (!seen_drives.insert(dp).second) continue;
      Result<Json> d = reader.Get(dp);
      if (!d.ok()) {
        warn.push_back(d.error().message());
        continue;
      }
      if (!Absent(*d)) r.drives.push_back(DriveFrom(*d));
    }
  }

  for (const Json& e : members(Link(s, "EthernetInterfaces"))) r.nics.push_back(NicFrom(e));

  if (!map.manager_path.empty()) {
    Result<Json> m = reader.Get(map.manager_path);
    if (m.ok())
      r.bmc_firmware = Str(*m, "FirmwareVersion");
    else
      warn.push_back(m.error().message());
  }
  return r;
}

}  // namespace racksmith::redfish
