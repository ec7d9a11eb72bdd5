// Writes: reset (inline and ActionInfo allowed values, fallbacks), boot override, virtual
// media in both places, firmware update with a task, secure erase, readable BMC errors.
#include <catch2/catch.hpp>

#include "redfish/test_util.h"
#include "support/temp_dir.h"

namespace racksmith::testing {
namespace {

using nlohmann::json;

bmc::ResetOptions Quick() {
  bmc::ResetOptions o;
  o.wait_timeout_ms = 2'000;
  o.graceful_timeout_ms = 300;
  o.poll_interval_ms = 50;
  return o;
}

std::vector<std::string> ResetTypesPosted(const MockupServer& server) {
  std::vector<std::string> out;
  for (const auto& r : server.requests())
    if (r.method == "POST" && r.path.find("ComputerSystem.Reset") != std::string::npos)
      out.push_back(json::parse(r.body).value("ResetType", "?"));
  return out;
}

TEST_CASE("Power off then on posts ForceOff and On and waits for each state", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->Reset(bmc::ResetType::kForceOff, Quick()).ok());
  CHECK(*bmc->GetPowerState() == bmc::PowerState::kOff);
  REQUIRE(bmc->Reset(bmc::ResetType::kOn, Quick()).ok());
  CHECK(*bmc->GetPowerState() == bmc::PowerState::kOn);
  REQUIRE(bmc->Reset(bmc::ResetType::kOn, Quick()).ok());  // already on: nothing posted
  CHECK(ResetTypesPosted(server) == std::vector<std::string>{"ForceOff", "On"});
}

TEST_CASE("Reset values listed in an ActionInfo resource are honoured", "[redfish]") {
  SECTION("public-telemetry has no PowerCycle: ForceOff, then On") {
    MockupServer server(Tree("mockups/public-telemetry"));
    redfish::RedfishFleet fleet(FastFleet());
    auto bmc = fleet.Connect(TargetFor(server));
    REQUIRE(bmc->Reset(bmc::ResetType::kPowerCycle, Quick()).ok());
    CHECK(ResetTypesPosted(server) == std::vector<std::string>{"ForceOff", "On"});
    CHECK(server.Count("GET", "/Systems/1/ResetActionInfo") >= 1);
  }
  SECTION("OpenBMC offers PowerCycle; an Off host is just powered on") {
    MockupServer server(Tree("vendor/OpenBMC-stock"));
    redfish::RedfishFleet fleet(FastFleet());
    auto bmc = fleet.Connect(TargetFor(server));
    REQUIRE(bmc->Reset(bmc::ResetType::kPowerCycle, Quick()).ok());  // it starts Off
    REQUIRE(bmc->Reset(bmc::ResetType::kPowerCycle, Quick()).ok());
    CHECK(ResetTypesPosted(server) == std::vector<std::string>{"On", "PowerCycle"});
  }
  SECTION("Gigabyte allows only four values: a restart is ForceRestart") {
    MockupServer server(Tree("vendor/Gigabyte"));
    redfish::RedfishFleet fleet(FastFleet());
    auto bmc = fleet.Connect(TargetFor(server));
    REQUIRE(bmc->Reset(bmc::ResetType::kGracefulRestart, Quick()).ok());
    CHECK(ResetTypesPosted(server) == std::vector<std::string>{"ForceRestart"});
  }
}

TEST_CASE("A graceful shutdown that does not power off falls back to ForceOff", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.graceful_works = false;
  MockupServer server(opts);
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->Reset(bmc::ResetType::kGracefulShutdown, Quick()).ok());
  CHECK(ResetTypesPosted(server) == std::vector<std::string>{"GracefulShutdown", "ForceOff"});
  CHECK(*bmc->GetPowerState() == bmc::PowerState::kOff);
}

TEST_CASE("A power state that never arrives is a timeout naming the state", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.graceful_works = false;
  MockupServer server(opts);
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  auto o = Quick();
  o.wait_timeout_ms = 200;
  o.graceful_timeout_ms = 100;
  // Take ForceOff away: the graceful path has nothing to fall back to.
  auto sys = server.Resource("/redfish/v1/Systems/437XR1138R2");
  sys["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"] =
      json::array({"On", "GracefulShutdown"});
  server.SetResource("/redfish/v1/Systems/437XR1138R2", sys);
  auto st = bmc->Reset(bmc::ResetType::kGracefulShutdown, o);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ErrorCode::kUnsupported);
  CHECK_THAT(st.error().message(), Catch::Contains("cannot force the power off") &&
                                       Catch::Contains("On, GracefulShutdown"));
}

TEST_CASE("Boot override PATCHes the system with If-Match and checks allowed targets",
          "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  bmc::BootOverride b;
  b.device = bmc::BootDevice::kCd;
  b.persistent = true;
  b.mode = bmc::BootMode::kUefi;
  REQUIRE(bmc->SetBootOverride(b).ok());
  auto patches = server.requests();
  const RecordedRequest* patch = nullptr;
  for (const auto& r : patches)
    if (r.method == "PATCH") patch = &r;
  REQUIRE(patch);
  CHECK(patch->path == "/redfish/v1/Systems/437XR1138R2");
  CHECK(json::parse(patch->body) == json::parse(R"({"Boot":{"BootSourceOverrideTarget":"Cd",
          "BootSourceOverrideEnabled":"Continuous","BootSourceOverrideMode":"UEFI"}})"));
  auto etag = server.Resource("/redfish/v1/Systems/437XR1138R2").value("@odata.etag", "");
  CHECK(patch->if_match == etag);
  auto boot = bmc->GetBoot();
  REQUIRE(boot.ok());
  CHECK(boot->target == "Cd");
  CHECK(boot->enabled == "Continuous");

  b.device = bmc::BootDevice::kUefiTarget;
  b.uefi_target = "";
  CHECK_FALSE(bmc->SetBootOverride(b).ok());
}

TEST_CASE("A boot target the BMC does not list is refused before any write", "[redfish]") {
  MockupServer server(Tree("mockups/public-bladed"));  // the old list: no UEFI mode at all
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  bmc::BootOverride b;
  b.device = bmc::BootDevice::kPxe;
  b.mode = bmc::BootMode::kUefi;
  auto st = bmc->SetBootOverride(b);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message(), Catch::Contains("does not offer BootSourceOverrideMode"));
  auto sys = server.Resource("/redfish/v1/Systems/529QB9450R6");
  sys["Boot"]["BootSourceOverrideTarget@Redfish.AllowableValues"] = json::array({"None", "Hdd"});
  server.SetResource("/redfish/v1/Systems/529QB9450R6", sys);
  b.mode = bmc::BootMode::kUnchanged;
  st = bmc->SetBootOverride(b);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message(),
             Catch::Contains("BootSourceOverrideTarget 'Pxe' is not allowed") &&
                 Catch::Contains("None, Hdd"));
  CHECK(server.Count("PATCH", "") == 0);
}

TEST_CASE("A stale ETag is re-read and the PATCH sent again once", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  server.FailNext(1, 412, "", "PATCH");
  bmc::BootOverride b;
  REQUIRE(bmc->SetBootOverride(b).ok());
  CHECK(server.Count("PATCH", "/Systems/") == 2);
}

TEST_CASE("Virtual media under Systems is inserted and ejected by PATCH", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  auto slots = bmc->ListVirtualMedia();
  REQUIRE(slots.ok());
  REQUIRE(slots->size() == 3);
  CHECK((*slots)[0].odata_id.rfind("/redfish/v1/Systems/437XR1138R2/VirtualMedia/", 0) == 0);
  REQUIRE(bmc->InsertMedia("http://127.0.0.1/images/rescue.iso", "").ok());
  auto cd1 = server.Resource("/redfish/v1/Systems/437XR1138R2/VirtualMedia/CD1");
  CHECK(cd1["Image"] == "http://127.0.0.1/images/rescue.iso");
  REQUIRE(bmc->EjectMedia("CD1").ok());
  cd1 = server.Resource("/redfish/v1/Systems/437XR1138R2/VirtualMedia/CD1");
  CHECK(cd1["Inserted"] == false);
  CHECK(server.Count("PATCH", "/VirtualMedia/CD1") == 2);
}

TEST_CASE("Virtual media under Managers uses the InsertMedia and EjectMedia actions", "[redfish]") {
  MockupServer server(Tree("mockups/public-telemetry"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->InsertMedia("http://127.0.0.1/os.iso", "").ok());
  REQUIRE(server.Count("POST", "/Managers/1/VirtualMedia/CD1/Actions/VM.InsertMedia") == 1);
  auto slots = bmc->ListVirtualMedia();
  REQUIRE(slots.ok());
  bool found = false;
  for (const auto& s : *slots)
    if (s.id == "CD1") found = s.image == "http://127.0.0.1/os.iso" && s.inserted;
  CHECK(found);
  REQUIRE(bmc->EjectMedia("CD1").ok());
  CHECK(server.Count("POST", "/Actions/VM.EjectMedia") == 1);
  CHECK(server.Count("PATCH", "") == 0);
}

TEST_CASE("A BMC without virtual media says where it looked", "[redfish]") {
  MockupServer server(Tree("vendor/OpenBMC-stock"));
  redfish::RedfishFleet fleet(FastFleet());
  auto st = fleet.Connect(TargetFor(server))->InsertMedia("http://127.0.0.1/x.iso", "");
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message(), Catch::Contains("no VirtualMedia under the manager "
                                                   "/redfish/v1/Managers/bmc"));
}

TEST_CASE("SimpleUpdate is posted at its target and its task followed to the end", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.task_polls = 3;
  MockupServer server(opts);
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  bmc::FirmwareUpdate u;
  u.image_uri = "https://127.0.0.1/fw/bmc-7.10.bin";
  u.timeout_ms = 30'000;
  std::vector<std::string> states;
  // The mock's task runs for three polls and completes on the fourth.
  REQUIRE(
      bmc->UpdateFirmware(u, [&](const bmc::TaskProgress& p) { states.push_back(p.state); }).ok());
  CHECK(server.Count("POST", "/UpdateService/Actions/UpdateService.SimpleUpdate") == 1);
  CHECK(states.front() == "New");
  CHECK(states.back() == "Completed");
  CHECK(server.Count("GET", "/TaskService/TaskMonitors/1") == 4);

  u.image_uri = "gopher://127.0.0.1/fw.bin";
  auto bad = bmc->UpdateFirmware(u, nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message(), Catch::Contains("TransferProtocol 'GOPHER' is not allowed"));
}

TEST_CASE("A local firmware image is pushed to HttpPushUri", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  TempDir dir;
  std::string image = dir.Write("fw.bin", std::string(1000, 'x'));
  redfish::RedfishFleet fleet(FastFleet());
  bmc::FirmwareUpdate u;
  u.local_file = image;
  REQUIRE(fleet.Connect(TargetFor(server))->UpdateFirmware(u, nullptr).ok());
  REQUIRE(server.Count("POST", "/FWUpdate") == 1);
  CHECK(server.requests().back().body.size() == 1000);
}

TEST_CASE("A local firmware image goes to MultipartHttpPushUri when offered", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  auto us = server.Resource("/redfish/v1/UpdateService");
  us["MultipartHttpPushUri"] = "/redfish/v1/UpdateService/upload";
  server.SetResource("/redfish/v1/UpdateService", us);
  TempDir dir;
  std::string image = dir.Write("fw.bin", "FIRMWARE-IMAGE-BYTES");
  redfish::RedfishFleet fleet(FastFleet());
  bmc::FirmwareUpdate u;
  u.local_file = image;
  u.targets = {"/redfish/v1/UpdateService/FirmwareInventory/BMC"};
  REQUIRE(fleet.Connect(TargetFor(server))->UpdateFirmware(u, nullptr).ok());
  REQUIRE(server.Count("POST", "/UpdateService/upload") == 1);
  const std::string body = server.requests().back().body;
  CHECK_THAT(body, Catch::Contains("name=\"UpdateParameters\"") &&
                       Catch::Contains("FirmwareInventory/BMC") &&
                       Catch::Contains("name=\"UpdateFile\"") &&
                       Catch::Contains("FIRMWARE-IMAGE-BYTES"));
  CHECK(server.Count("POST", "/FWUpdate") == 0);
}

TEST_CASE("Drive secure erase posts the drive's advertised action", "[redfish]") {
  MockupServer server(Tree("mockups/public-localstorage"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  auto hw = bmc->GetHardware();
  REQUIRE(hw.ok());
  REQUIRE_FALSE(hw->drives.empty());
  CHECK(hw->drives[0].secure_erase);
  REQUIRE(bmc->SecureEraseDrive(hw->drives[0].odata_id, nullptr).ok());
  CHECK(server.Count("POST", "/Actions/Drive.SecureErase") == 1);
}

TEST_CASE("A BMC's @Message.ExtendedInfo becomes the error text", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  server.FailNext(1, 409, "", "POST");
  auto st = bmc->Reset(bmc::ResetType::kForceOff, Quick());
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ErrorCode::kConflict);
  CHECK_THAT(
      st.error().message(),
      Catch::Contains("HTTP 409 Conflict: Base.1.8.ServiceTemporarilyUnavailable: Try later"));
}

}  // namespace
}  // namespace racksmith::testing
