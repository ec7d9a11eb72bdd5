// Discovery, power state, boot settings, firmware and hardware inventory against every
// Redfish tree in ../shared/redfish: the six DMTF mockups and three real BMC captures.
// Expected values were read from the JSON files themselves.
#include <algorithm>
#include <catch2/catch.hpp>

#include "redfish/test_util.h"

namespace racksmith::testing {
namespace {

struct TreeExpectation {
  const char* tree;
  const char* model;
  const char* serial;
  bmc::PowerState power;
  int cpus;
  double memory_gib;
  int gpus;
  const char* gpu_model;
  int drives;
  int nics;
  int firmware;  // -1: no UpdateService
  const char* boot_target;
};

const TreeExpectation kTrees[] = {
    {"mockups/public-rackmount1", "3500", "437XR1138R2", bmc::PowerState::kOn, 2, 96, 0, "", 0, 4,
     3, "Pxe"},
    {"mockups/public-bladed", "SX1000", "529QB9450R6", bmc::PowerState::kOn, 1, 64, 0, "", 0, 0, -1,
     "None"},
    {"mockups/public-localstorage", "3500RX", "437XR1138R2", bmc::PowerState::kOn, 2, 96, 0, "", 4,
     2, -1, "Pxe"},
    {"mockups/public-smartnic", "3500", "437XR1138R2", bmc::PowerState::kOn, 2, 96, 0, "", 0, 0, -1,
     "Pxe"},
    {"mockups/public-telemetry", "Model Name", "2M220100SL", bmc::PowerState::kOn, 8, 16, 0, "", 0,
     0, -1, "Pxe"},
    {"mockups/public-tower", "3500", "437XR1238R2", bmc::PowerState::kOn, 8, 1024, 2,
     "Nvidia(R) TU102", 10, 2, 2, "Hdd"},  // 18 bays, 8 Absent
    {"vendor/XL675d_A100", "ProLiant XL675d Gen10 Plus", "JS05NP0896", bmc::PowerState::kOn, 2, 256,
     8, "NVIDIA A100-SXM4-40GB", 2, 6, 27, "None"},
    {"vendor/OpenBMC-stock", "", "", bmc::PowerState::kOff, 0, 0, 0, "", 0, 0, 1, "None"},
    {"vendor/Gigabyte", "H262-Z63-00", "GJG9NF512A000302", bmc::PowerState::kOn, 2, 244, 0, "", 1,
     3, 3, "None"},
};

TEST_CASE("The driver reads power, boot, firmware and hardware from every shared Redfish tree",
          "[redfish]") {
  for (const auto& e : kTrees) {
    DYNAMIC_SECTION(e.tree) {
      MockupServer server(Tree(e.tree));
      redfish::RedfishFleet fleet(FastFleet());
      auto bmc = fleet.Connect(TargetFor(server));

      auto power = bmc->GetPowerState();
      REQUIRE(power.ok());
      CHECK(*power == e.power);

      auto boot = bmc->GetBoot();
      REQUIRE(boot.ok());
      CHECK(boot->target == e.boot_target);

      auto fw = bmc->ListFirmware();
      if (e.firmware < 0) {
        REQUIRE_FALSE(fw.ok());
        CHECK(fw.error().code() == ErrorCode::kUnsupported);
      } else {
        REQUIRE(fw.ok());
        CHECK(static_cast<int>(fw->size()) == e.firmware);
        for (const auto& c : *fw) CHECK_FALSE(c.id.empty());
      }

      auto hw = bmc->GetHardware();
      REQUIRE(hw.ok());
      CHECK(hw->model == e.model);
      CHECK(hw->serial == e.serial);
      CHECK(hw->cpu_count == e.cpus);
      CHECK(hw->memory_gib == Approx(e.memory_gib));
      CHECK(static_cast<int>(hw->gpus.size()) == e.gpus);
      for (const auto& g : hw->gpus) CHECK(g.model == e.gpu_model);
      CHECK(static_cast<int>(hw->drives.size()) == e.drives);
      CHECK(static_cast<int>(hw->nics.size()) == e.nics);
      CHECK(hw->warnings.empty());

      REQUIRE(bmc->Close().ok());
      CHECK(server.live_sessions() == 0);
      CHECK(server.sessions_created() == 1);
    }
  }
}

TEST_CASE("The eight A100s of the XL675d are found under Chassis/1/Devices with their serials",
          "[redfish]") {
  MockupServer server(Tree("vendor/XL675d_A100"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  auto hw = bmc->GetHardware();
  REQUIRE(hw.ok());
  REQUIRE(hw->gpus.size() == 8);
  CHECK(hw->gpus[0].serial == "1323620023536");
  CHECK(hw->gpus[0].part_number == "20B0-884-A1");
  CHECK(hw->gpus[0].firmware == "92.00.19.00.10");
  CHECK(hw->gpus[0].source == "Chassis/Devices");
  CHECK(hw->gpus[7].serial == "1323820022124");
  CHECK(hw->cpu_model == "AMD EPYC 7702 64-Core Processor");
  CHECK(hw->bios_version == "A47 v2.58 (05/19/2022)");
  CHECK(hw->health == "Warning");
  CHECK(hw->nics[0].mac == "98:03:9b:7f:c3:38");
}

TEST_CASE("The tower's GPUs are read from Processors with their memory", "[redfish]") {
  MockupServer server(Tree("mockups/public-tower"));
  redfish::RedfishFleet fleet(FastFleet());
  auto hw = fleet.Connect(TargetFor(server))->GetHardware();
  REQUIRE(hw.ok());
  REQUIRE(hw->gpus.size() == 2);
  CHECK(hw->gpus[0].id == "GPU1");
  CHECK(hw->gpus[0].memory_mib == 11264);
  CHECK(hw->gpus[0].source == "Processors");
  CHECK(hw->cpus.size() == 8);
}

TEST_CASE("Collection pages are followed through Members@odata.nextLink", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  const std::string coll = "/redfish/v1/Systems/437XR1138R2/EthernetInterfaces";
  auto page1 = server.Resource(coll);
  REQUIRE(page1["Members"].size() == 4);
  auto all = page1["Members"];
  auto page2 = page1;
  page1["Members"] = nlohmann::json::array({all[0], all[1]});
  page1["Members@odata.nextLink"] = coll + "/page2";
  page2["Members"] = nlohmann::json::array({all[2], all[3]});
  server.SetResource(coll, page1);
  server.SetResource(coll + "/page2", page2);
  redfish::RedfishFleet fleet(FastFleet());
  auto hw = fleet.Connect(TargetFor(server))->GetHardware();
  REQUIRE(hw.ok());
  CHECK(hw->nics.size() == 4);
  CHECK(server.Count("GET", "/EthernetInterfaces/page2") == 1);
}

TEST_CASE("A SmartNIC's DPU system is not mistaken for the host", "[redfish]") {
  MockupServer server(Tree("mockups/public-smartnic"));
  redfish::RedfishFleet fleet(FastFleet());
  auto hw = fleet.Connect(TargetFor(server))->GetHardware();
  REQUIRE(hw.ok());
  CHECK(hw->system_id == "437XR1138R2");
}

TEST_CASE("A named system is chosen among the blades behind one endpoint", "[redfish]") {
  MockupServer server(Tree("mockups/public-bladed"));
  redfish::RedfishFleet fleet(FastFleet());
  auto target = TargetFor(server);
  target.system_id = "529qb9452r6";
  auto hw = fleet.Connect(target)->GetHardware();
  REQUIRE(hw.ok());
  CHECK(hw->serial == "529QB9452R6");

  target.system_id = "nope";
  target.url = server.url() + "/redfish/v1/";
  auto missing = fleet.Connect(target)->GetHardware();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(missing.error().message(),
             Catch::Contains("no system 'nope'") && Catch::Contains("529QB9450R6, 529QB9451R6"));
}

TEST_CASE("A named system is read at Systems/{Id} without listing the collection",
          "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.require_auth = false;
  MockupServer server(opts);
  size_t seen = 0;
  // One fleet, as a run has: it shares one session per BMC, and each Bmc it hands out keeps
  // its own system. Power status of the system named `id`; returns the paths it requested.
  redfish::RedfishFleet fleet(FastFleet());
  auto power_with = [&](const std::string& id, bool* ok) {
    auto target = TargetFor(server);
    target.system_id = id;
    *ok = fleet.Connect(target)->GetPowerState().ok();
    std::vector<std::string> paths;
    auto all = server.requests();
    for (size_t i = seen; i < all.size(); ++i) paths.push_back(all[i].path);
    seen = all.size();
    return paths;
  };
  auto count = [](const std::vector<std::string>& paths, const std::string& p) {
    return std::count(paths.begin(), paths.end(), p);
  };
  bool ok = false;
  auto paths = power_with("437XR1138R2", &ok);
  CHECK(ok);
  CHECK(count(paths, "/redfish/v1/Systems/437XR1138R2") == 1);
  CHECK(count(paths, "/redfish/v1/Systems") == 0);

  // Not answered there (another case than the BMC's Id): the collection is walked.
  paths = power_with("437xr1138r2", &ok);
  CHECK(ok);
  CHECK(count(paths, "/redfish/v1/Systems") == 1);

  // An id that is not a plain path segment is never put into a URL.
  paths = power_with("../Managers/BMC", &ok);
  CHECK_FALSE(ok);
  for (const std::string& p : paths) CHECK(p.find("Managers") == std::string::npos);
}

TEST_CASE("Tasks are read from the TaskService, finished ones too", "[redfish]") {
  {
    MockupServer server(Tree("mockups/public-rackmount1"));
    redfish::RedfishFleet fleet(FastFleet());
    auto tasks = fleet.Connect(TargetFor(server))->ListTasks();
    REQUIRE(tasks.ok());
    REQUIRE(tasks->size() == 2);
    CHECK((*tasks)[0].id == "545");
    CHECK((*tasks)[0].name == "Task 545");
    CHECK((*tasks)[0].state == "Completed");
    CHECK((*tasks)[1].state == "Cancelled");
    for (const auto& t : *tasks) CHECK_FALSE(bmc::IsUnfinishedTaskState(t.state));
  }
  for (const char* tree : {"vendor/XL675d_A100", "vendor/OpenBMC-stock"}) {
    DYNAMIC_SECTION(tree) {  // real BMCs with nothing running: an empty collection
      MockupServer server(Tree(tree));
      redfish::RedfishFleet fleet(FastFleet());
      auto tasks = fleet.Connect(TargetFor(server))->ListTasks();
      REQUIRE(tasks.ok());
      CHECK(tasks->empty());
    }
  }
  CHECK(bmc::IsUnfinishedTaskState("Running"));
  CHECK(bmc::IsUnfinishedTaskState("Interrupted"));
  CHECK(bmc::IsUnfinishedTaskState("SomethingNew"));
}

TEST_CASE("The BMC firmware version comes from the system's manager", "[redfish]") {
  MockupServer server(Tree("vendor/Gigabyte"));
  redfish::RedfishFleet fleet(FastFleet());
  auto hw = fleet.Connect(TargetFor(server))->GetHardware();
  REQUIRE(hw.ok());
  auto mgr = server.Resource("/redfish/v1/Managers/Self");
  CHECK(hw->bmc_firmware == mgr.value("FirmwareVersion", "?"));
  CHECK_FALSE(hw->bmc_firmware.empty());
}

TEST_CASE("Event log entries are read from the system's LogServices", "[redfish]") {
  MockupServer server(Tree("vendor/XL675d_A100"));
  redfish::RedfishFleet fleet(FastFleet());
  auto log = fleet.Connect(TargetFor(server))->GetLogEntries(5);
  REQUIRE(log.ok());
  REQUIRE_FALSE(log->empty());
  bool iml = false;
  for (const auto& e : *log) {
    if (e.log == "IML") iml = true;
    CHECK_FALSE(e.message.empty());
  }
  CHECK(iml);
}

}  // namespace
}  // namespace racksmith::testing
