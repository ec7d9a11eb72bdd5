// The lab's simulated BMC fleet, driven by the real Redfish driver.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "lab/redfish_sim.h"
#include "redfish/redfish.h"
#include "support/temp_dir.h"

namespace racksmith::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

lab::SimNode GpuNode(const std::string& name, int host) {
  lab::SimNode n;
  n.name = name;
  n.address = "127.0.5." + std::to_string(host);
  n.serial = "LAB" + std::to_string(host);
  n.mac = "02:00:00:00:05:" + std::to_string(10 + host);
  for (int i = 0; i < 4; ++i) {
    lab::SimGpu g;
    g.model = "NVIDIA GeForce RTX 3090";
    g.serial = n.serial + "-GPU" + std::to_string(i);
    g.memory_mib = 24576;
    n.gpus.push_back(g);
  }
  return n;
}

struct Lab {
  TempDir dir;
  lab::RedfishSim sim;
  redfish::RedfishFleet fleet;

  static lab::SimOptions Options(const std::string& dir) {
    lab::SimOptions o;
    o.lab_dir = dir;
    o.speed = 50;  // 5 s power-on takes 100 ms
    o.password = "lab-pw";
    return o;
  }
  static redfish::FleetOptions Fast() {
    redfish::FleetOptions o;
    o.engine.backoff_base_ms = 20;
    o.client.request_timeout_ms = 500;
    o.client.deadline_ms = 1'500;
    o.client.task_poll_interval_ms = 20;
    return o;
  }
  Lab() : sim(Options(dir.path())), fleet(Fast()) {
    for (int i = 1; i <= 3; ++i) REQUIRE(sim.AddNode(GpuNode("n" + std::to_string(i), i)).ok());
  }
  std::unique_ptr<bmc::Bmc> Connect(const std::string& node) {
    redfish::Target t;
    t.url = sim.Url(node);
    t.username = "admin";
    t.password = "lab-pw";
    return fleet.Connect(t);
  }
};

bmc::ResetOptions Quick() {
  bmc::ResetOptions o;
  o.wait_timeout_ms = 3'000;
  o.poll_interval_ms = 20;
  o.graceful_timeout_ms = 2'000;
  return o;
}

TEST_CASE("Each simulated BMC serves its node's hardware on its own address", "[lab]") {
  Lab lab;
  CHECK(lab.sim.Url("n2").rfind("http://127.0.5.2:", 0) == 0);
  auto hw = lab.Connect("n2")->GetHardware();
  REQUIRE(hw.ok());
  CHECK(hw->serial == "LAB2");
  CHECK(hw->gpus.size() == 4);
  CHECK(hw->gpus[0].model == "NVIDIA GeForce RTX 3090");
  CHECK(hw->nics[0].mac == "02:00:00:00:05:12");
  CHECK(hw->memory_gib == Approx(256));
  CHECK(lab.fleet.CloseAll() == 0);
  CHECK(lab.sim.LiveSessions("n2") == 0);
}

TEST_CASE("Power on takes the scaled time and is written to the lab's power file", "[lab]") {
  Lab lab;
  std::string file = lab.dir.Join("nodes/n1/power");
  CHECK(ReadFile(file) == "Off");
  auto bmc = lab.Connect("n1");
  auto start = std::chrono::steady_clock::now();
  REQUIRE(bmc->Reset(bmc::ResetType::kOn, Quick()).ok());
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= std::chrono::milliseconds(90));
  CHECK(ReadFile(file) == "On");
  REQUIRE(bmc->Reset(bmc::ResetType::kGracefulShutdown, Quick()).ok());
  CHECK(ReadFile(file) == "Off");
  CHECK(lab.sim.PowerState("n1") == "Off");
}

TEST_CASE("Boot override and virtual media change the simulated BMC", "[lab]") {
  Lab lab;
  auto bmc = lab.Connect("n3");
  bmc::BootOverride b;
  b.device = bmc::BootDevice::kPxe;
  REQUIRE(bmc->SetBootOverride(b).ok());
  CHECK(ReadFile(lab.dir.Join("nodes/n3/boot_override")) == "Pxe Once");
  REQUIRE(bmc->InsertMedia("http://127.0.0.1/os.iso", "").ok());
  auto slots = bmc->ListVirtualMedia();
  REQUIRE(slots.ok());
  CHECK((*slots)[0].image == "http://127.0.0.1/os.iso");
}

TEST_CASE("A firmware update runs as a task and changes the reported version", "[lab]") {
  Lab lab;
  auto bmc = lab.Connect("n1");
  bmc::FirmwareUpdate u;
  u.image_uri = "http://127.0.0.1/fw/bios-2.20.1.bin";
  u.timeout_ms = 5'000;
  int updates = 0;
  REQUIRE(bmc->UpdateFirmware(u, [&](const bmc::TaskProgress&) { ++updates; }).ok());
  CHECK(updates >= 2);
  auto fw = bmc->ListFirmware();
  REQUIRE(fw.ok());
  bool bios = false;
  for (const auto& c : *fw)
    if (c.id == "BIOS") bios = c.version == "2.20.1";
  CHECK(bios);
}

TEST_CASE("Injected faults: 503 is retried, a missing GPU shows, a hang times out", "[lab]") {
  Lab lab;
  auto bmc = lab.Connect("n2");
  REQUIRE(bmc->GetPowerState().ok());
  REQUIRE(lab.sim.InjectFault("n2", lab::SimFault::kHttp503, 1).ok());
  REQUIRE(bmc->GetPowerState().ok());
  REQUIRE(lab.sim.InjectFault("n2", lab::SimFault::kGpuMissing).ok());
  auto hw = bmc->GetHardware();
  REQUIRE(hw.ok());
  CHECK(hw->gpus.size() == 3);
  CHECK(hw->health == "Critical");
  REQUIRE(lab.sim.InjectFault("n2", lab::SimFault::kDropConnection).ok());
  CHECK_FALSE(bmc->GetPowerState().ok());
  REQUIRE(lab.sim.InjectFault("n2", lab::SimFault::kHang).ok());
  auto power = bmc->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kTimeout);
  REQUIRE(lab.sim.InjectFault("n2", lab::SimFault::kNone).ok());
}

}  // namespace
}  // namespace racksmith::testing
