// The Redfish tree of a simulated BMC, built from its SimNode and state, shaped like the
// DMTF public-rackmount1/public-tower mockups.
#include <algorithm>
#include <chrono>
#include <ctime>

#include "lab/redfish_sim_internal.h"

namespace racksmith::lab {
namespace {

using nlohmann::json;

const char* kRoot = "/redfish/v1";

json Ref(const std::string& key) { return json{{"@odata.id", std::string(kRoot) + "/" + key}}; }

json Collection(const std::string& key, const std::string& name,
                const std::vector<std::string>& members) {
  json m = json::array();
  for (const auto& k : members) m.push_back(Ref(k));
  return json{{"@odata.id", std::string(kRoot) + "/" + key},
              {"@odata.type", "#" + name + "Collection." + name + "Collection"},
              {"Name", name + " Collection"},
              {"Members", m},
              {"Members@odata.count", m.size()}};
}

json Ok() { return json{{"State", "Enabled"}, {"Health", "OK"}}; }

int VisibleGpus(const RedfishSim::Bmc& b) {
  int n = static_cast<int>(b.node.gpus.size());
  return b.fault == SimFault::kGpuMissing && n > 0 ? n - 1 : n;
}

json System(const RedfishSim::Bmc& b) {
  const SimNode& n = b.node;
  return json{
      {"@odata.id", std::string(kRoot) + "/Systems/1"},
      {"@odata.type", "#ComputerSystem.v1_20_0.ComputerSystem"},
      {"@odata.etag", "W/\"" + std::to_string(b.etag) + "\""},
      {"Id", "1"},
      {"Name", n.name},
      {"HostName", n.name},
      {"SystemType", "Physical"},
      {"Manufacturer", n.manufacturer},
      {"Model", n.model},
      {"SerialNumber", n.serial},
      {"BiosVersion", b.firmware.at("BIOS")},
      {"PowerState", b.power},
      {"Status",
       VisibleGpus(b) < static_cast<int>(n.gpus.size())
           ? json{{"State", "Enabled"}, {"Health", "Critical"}, {"HealthRollup", "Critical"}}
           : json{{"State", "Enabled"}, {"Health", "OK"}, {"HealthRollup", "OK"}}},
      {"ProcessorSummary",
       {{"Count", n.cpus},
        {"LogicalProcessorCount", n.cpus * n.cores_per_cpu * 2},
        {"Model", n.cpu_model},
        {"Status", Ok()}}},
      {"MemorySummary", {{"TotalSystemMemoryGiB", n.memory_gib}, {"Status", Ok()}}},
      {"Boot",
       {{"BootSourceOverrideEnabled", b.boot_enabled},
        {"BootSourceOverrideTarget", b.boot_target},
        {"BootSourceOverrideMode", b.boot_mode},
        {"BootSourceOverrideEnabled@Redfish.AllowableValues", {"Disabled", "Once", "Continuous"}},
        {"BootSourceOverrideTarget@Redfish.AllowableValues",
         {"None", "Pxe", "Cd", "Hdd", "Usb", "BiosSetup", "UefiTarget"}},
        {"BootSourceOverrideMode@Redfish.AllowableValues", {"Legacy", "UEFI"}}}},
      {"Processors", Ref("Systems/1/Processors")},
      {"Memory", Ref("Systems/1/Memory")},
      {"Storage", Ref("Systems/1/Storage")},
      {"EthernetInterfaces", Ref("Systems/1/EthernetInterfaces")},
      {"LogServices", Ref("Systems/1/LogServices")},
      {"Links", {{"Chassis", {Ref("Chassis/1")}}, {"ManagedBy", {Ref("Managers/BMC")}}}},
      {"Actions",
       {{"#ComputerSystem.Reset",
         {{"target", std::string(kRoot) + "/Systems/1/Actions/ComputerSystem.Reset"},
          {"ResetType@Redfish.AllowableValues",
           {"On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart",
            "PowerCycle"}}}}}}};
}

json Task(const RedfishSim::Bmc::Task& t, const std::string& id) {
  int64_t now = SimNowMs();
  bool done = now >= t.end_ms;
  int64_t span = std::max<int64_t>(1, t.end_ms - t.start_ms);
  int pct = done ? 100 : static_cast<int>((now - t.start_ms) * 100 / span);
  std::string state = "Running", status = "OK";
  json messages = json::array();
  auto message = [](const std::string& id, const std::string& text) {
    return json{{"MessageId", id}, {"Message", text}, {"Severity", "Critical"}};
  };
  if (t.interrupted) {
    state = "Interrupted";
    status = "Critical";
    messages.push_back(message("TaskEvent.1.0.TaskAborted",
                               "The BMC restarted while the task was running"));
  } else if (done && t.fails) {
    state = "Exception";
    status = "Critical";
    pct = 50;
    messages.push_back(message("Update.1.0.VerificationFailed",
                               "The image failed verification: checksum mismatch"));
  } else if (done) {
    state = "Completed";
  }
  return json{{"@odata.id", std::string(kRoot) + "/TaskService/Tasks/" + id},
              {"@odata.type", "#Task.v1_7_0.Task"},
              {"Id", id},
              {"Name", t.name},
              {"TaskState", state},
              {"TaskStatus", status},
              {"PercentComplete", pct},
              {"Messages", messages}};
}

// 16 DIMMs share the memory; fewer when it is small (at least 8 GiB each).
int DimmCount(const SimNode& n) { return std::clamp(n.memory_gib / 8, 1, 16); }

std::string DriveId(size_t i) { return "Disk." + std::to_string(i + 1); }

json Drive(const SimNode& n, size_t i) {
  const SimDrive& d = n.drives[i];
  std::string path = std::string(kRoot) + "/Systems/1/Storage/1/Drives/" + DriveId(i);
  return json{{"@odata.id", path},
              {"@odata.type", "#Drive.v1_17_0.Drive"},
              {"Id", DriveId(i)},
              {"Name", "Drive " + std::to_string(i + 1)},
              {"Model", d.model},
              {"SerialNumber", d.serial},
              {"CapacityBytes", d.capacity_bytes},
              {"MediaType", d.media_type},
              {"Protocol", d.protocol},
              {"Status", Ok()},
              {"Actions",
               {{"#Drive.SecureErase", {{"target", path + "/Actions/Drive.SecureErase"}}}}}};
}

}  // namespace

void SimLog(RedfishSim::Bmc& b, const std::string& severity, const std::string& message) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  b.sel.push_back({b.next_log++, created, severity, message});
  if (b.sel.size() > 200) b.sel.erase(b.sel.begin());
}

int64_t SimNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

json SimResource(const RedfishSim::Bmc& b, const std::string& key, bool* found) {
  *found = true;
  const SimNode& n = b.node;
  if (key.empty())
    return json{{"@odata.id", std::string(kRoot) + "/"},
                {"@odata.type", "#ServiceRoot.v1_15_0.ServiceRoot"},
                {"Id", "RootService"},
                {"Name", "Racksmith lab BMC"},
                {"RedfishVersion", "1.17.0"},
                {"Systems", Ref("Systems")},
                {"Chassis", Ref("Chassis")},
                {"Managers", Ref("Managers")},
                {"SessionService", Ref("SessionService")},
                {"UpdateService", Ref("UpdateService")},
                {"Tasks", Ref("TaskService")},
                {"Links", {{"Sessions", Ref("SessionService/Sessions")}}}};
  if (key == "Systems") return Collection(key, "ComputerSystem", {"Systems/1"});
  if (key == "Systems/1") return System(b);
  if (key == "Systems/1/Processors") {
    std::vector<std::string> members;
    for (int i = 1; i <= n.cpus; ++i) members.push_back(key + "/CPU" + std::to_string(i));
    for (int i = 1; i <= VisibleGpus(b); ++i) members.push_back(key + "/GPU" + std::to_string(i));
    return Collection(key, "Processor", members);
  }
  if (key.rfind("Systems/1/Processors/CPU", 0) == 0) {
    int i = std::atoi(key.c_str() + 24);
    if (i < 1 || i > n.cpus) return *found = false, json();
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"Id", "CPU" + std::to_string(i)},
                {"Name", "Processor " + std::to_string(i)},
                {"ProcessorType", "CPU"},
                {"Model", n.cpu_model},
                {"TotalCores", n.cores_per_cpu},
                {"TotalThreads", n.cores_per_cpu * 2},
                {"Status", Ok()}};
  }
  if (key.rfind("Systems/1/Processors/GPU", 0) == 0) {
    int i = std::atoi(key.c_str() + 24);
    if (i < 1 || i > VisibleGpus(b)) return *found = false, json();
    const SimGpu& g = n.gpus[static_cast<size_t>(i - 1)];
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"Id", "GPU" + std::to_string(i)},
                {"Name", "GPU " + std::to_string(i)},
                {"ProcessorType", "GPU"},
                {"Manufacturer", "NVIDIA"},
                {"Model", g.model},
                {"SerialNumber", g.serial},
                {"MemorySummary", {{"TotalMemorySizeMiB", g.memory_mib}}},
                {"Status", Ok()}};
  }
  if (key == "Systems/1/Memory") {
    std::vector<std::string> members;
    for (int i = 1; i <= DimmCount(n); ++i) members.push_back(key + "/DIMM" + std::to_string(i));
    return Collection(key, "Memory", members);
  }
  if (key.rfind("Systems/1/Memory/DIMM", 0) == 0) {
    int i = std::atoi(key.c_str() + 21);
    if (i < 1 || i > DimmCount(n)) return *found = false, json();
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"Id", "DIMM" + std::to_string(i)},
                {"Name", "DIMM " + std::to_string(i)},
                {"MemoryDeviceType", "DDR5"},
                {"CapacityMiB", n.memory_gib * 1024 / DimmCount(n)},
                {"OperatingSpeedMhz", 4800},
                {"Status", Ok()}};
  }
  if (key == "Systems/1/Storage") return Collection(key, "Storage", {key + "/1"});
  if (key == "Systems/1/Storage/1") {
    json drives = json::array();
    for (size_t i = 0; i < n.drives.size(); ++i)
      drives.push_back(Ref("Systems/1/Storage/1/Drives/" + DriveId(i)));
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"@odata.type", "#Storage.v1_15_0.Storage"},
                {"Id", "1"},
                {"Name", "Storage controller"},
                {"Drives", drives},
                {"Drives@odata.count", drives.size()},
                {"Status", Ok()}};
  }
  if (key.rfind("Systems/1/Storage/1/Drives/", 0) == 0) {
    std::string id = key.substr(27);
    for (size_t i = 0; i < n.drives.size(); ++i)
      if (DriveId(i) == id) return Drive(n, i);
    return *found = false, json();
  }
  if (key == "Systems/1/LogServices") return Collection(key, "LogService", {key + "/SEL"});
  if (key == "Systems/1/LogServices/SEL")
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"@odata.type", "#LogService.v1_4_0.LogService"},
                {"Id", "SEL"},
                {"Name", "System Event Log"},
                {"Entries", Ref(key + "/Entries")}};
  if (key == "Systems/1/LogServices/SEL/Entries") {
    json members = json::array();
    for (const auto& e : b.sel)
      members.push_back(json{{"@odata.id", std::string(kRoot) + "/" + key + "/" +
                                               std::to_string(e.id)},
                             {"Id", std::to_string(e.id)},
                             {"Name", "Log Entry " + std::to_string(e.id)},
                             {"EntryType", "SEL"},
                             {"Created", e.created},
                             {"Severity", e.severity},
                             {"Message", e.message}});
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"@odata.type", "#LogEntryCollection.LogEntryCollection"},
                {"Name", "System Event Log Entries"},
                {"Members", members},
                {"Members@odata.count", members.size()}};
  }
  if (key == "Systems/1/EthernetInterfaces")
    return Collection(key, "EthernetInterface", {key + "/1"});
  if (key == "Systems/1/EthernetInterfaces/1")
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"Id", "1"},
                {"Name", "Ethernet Interface"},
                {"MACAddress", n.mac},
                {"SpeedMbps", 100000},
                {"LinkStatus", "LinkUp"},
                {"Status", Ok()}};
  if (key == "Chassis") return Collection(key, "Chassis", {"Chassis/1"});
  if (key == "Chassis/1")
    return json{
        {"@odata.id", std::string(kRoot) + "/Chassis/1"},
        {"Id", "1"},
        {"Name", "Chassis"},
        {"ChassisType", "RackMount"},
        {"SerialNumber", n.serial},
        {"Status", Ok()},
        {"Links", {{"ComputerSystems", {Ref("Systems/1")}}, {"ManagedBy", {Ref("Managers/BMC")}}}}};
  if (key == "Managers") return Collection(key, "Manager", {"Managers/BMC"});
  if (key == "Managers/BMC")
    return json{{"@odata.id", std::string(kRoot) + "/Managers/BMC"},
                {"Id", "BMC"},
                {"Name", "Manager"},
                {"ManagerType", "BMC"},
                {"FirmwareVersion", b.firmware.at("BMC")},
                {"Status", Ok()},
                {"VirtualMedia", Ref("Managers/BMC/VirtualMedia")}};
  if (key == "Managers/BMC/VirtualMedia") return Collection(key, "VirtualMedia", {key + "/CD1"});
  if (key == "Managers/BMC/VirtualMedia/CD1") {
    std::string base = std::string(kRoot) + "/" + key;
    return json{
        {"@odata.id", base},
        {"Id", "CD1"},
        {"Name", "Virtual CD"},
        {"MediaTypes", {"CD", "DVD"}},
        {"Image", b.media_image.empty() ? json(nullptr) : json(b.media_image)},
        {"Inserted", b.media_inserted},
        {"WriteProtected", true},
        {"Actions",
         {{"#VirtualMedia.InsertMedia", {{"target", base + "/Actions/VirtualMedia.InsertMedia"}}},
          {"#VirtualMedia.EjectMedia", {{"target", base + "/Actions/VirtualMedia.EjectMedia"}}}}}};
  }
  if (key == "SessionService")
    return json{{"@odata.id", std::string(kRoot) + "/SessionService"},
                {"Id", "SessionService"},
                {"Name", "Session Service"},
                {"ServiceEnabled", true},
                {"SessionTimeout", 1800},
                {"Sessions", Ref("SessionService/Sessions")}};
  if (key == "SessionService/Sessions") {
    std::vector<std::string> members;
    for (const auto& [token, id] : b.sessions) members.push_back(key + "/" + id);
    return Collection(key, "Session", members);
  }
  if (key == "UpdateService")
    return json{
        {"@odata.id", std::string(kRoot) + "/UpdateService"},
        {"Id", "UpdateService"},
        {"Name", "Update Service"},
        {"ServiceEnabled", true},
        {"FirmwareInventory", Ref("UpdateService/FirmwareInventory")},
        {"Actions",
         {{"#UpdateService.SimpleUpdate",
           {{"target", std::string(kRoot) + "/UpdateService/Actions/UpdateService.SimpleUpdate"},
            {"TransferProtocol@Redfish.AllowableValues", {"HTTP", "HTTPS"}}}}}}};
  if (key == "UpdateService/FirmwareInventory") {
    std::vector<std::string> members;
    for (const auto& [c, v] : b.firmware) members.push_back(key + "/" + c);
    return Collection(key, "SoftwareInventory", members);
  }
  if (key.rfind("UpdateService/FirmwareInventory/", 0) == 0) {
    auto it = b.firmware.find(key.substr(32));
    if (it == b.firmware.end()) return *found = false, json();
    return json{{"@odata.id", std::string(kRoot) + "/" + key},
                {"Id", it->first},
                {"Name", it->first + " firmware"},
                {"Version", it->second},
                {"Updateable", true},
                {"Status", Ok()}};
  }
  if (key == "TaskService")
    return json{{"@odata.id", std::string(kRoot) + "/TaskService"},
                {"Id", "TaskService"},
                {"Name", "Task Service"},
                {"Tasks", Ref("TaskService/Tasks")}};
  if (key == "TaskService/Tasks") {
    std::vector<std::string> members;
    for (const auto& [id, t] : b.tasks) members.push_back(key + "/" + id);
    return Collection(key, "Task", members);
  }
  if (key.rfind("TaskService/Tasks/", 0) == 0) {
    std::string id = key.substr(18);
    auto it = b.tasks.find(id);
    if (it == b.tasks.end()) return *found = false, json();
    return Task(it->second, id);
  }
  *found = false;
  return json();
}

}  // namespace racksmith::lab
