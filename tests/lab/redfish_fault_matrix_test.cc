// Every kind of Redfish request racksmith makes, under every kind of BMC fault the lab can
// inject: each ends in success (after retries) or in a clear error naming the BMC, within its
// deadline, and the BMC's state changed exactly when the call said it succeeded.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "lab/redfish_sim.h"
#include "redfish/redfish.h"

namespace racksmith::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Fault {
  const char* name;
  lab::SimFault fault;
  int count;        // requests it lasts; -1: until cleared
  bool transient;   // a retried request gets through
};

struct Op {
  const char* name;
  bool idempotent;  // only retried requests (GET, DELETE, PATCH with If-Match)
  std::function<Status(bmc::Bmc&)> run;
  /// Whether the change is visible on the BMC, read with a clean connection afterwards;
  /// nullptr for reads (nothing to change).
  std::function<bool(bmc::Bmc&)> applied;
};

template <typename T>
Status StatusOf(const Result<T>& r) {
  if (r.ok()) return Status::Ok();
  return r.error();
}

bmc::ResetOptions NoWait() {
  bmc::ResetOptions o;
  o.wait = false;
  return o;
}

std::string FirmwareVersion(bmc::Bmc& b, const std::string& id) {
  auto fw = b.ListFirmware();
  if (!fw.ok()) return "?";
  for (const auto& c : *fw)
    if (c.id == id) return c.version;
  return "";
}

std::vector<Op> Ops() {
  return {
      {"power status (GET)", true, [](bmc::Bmc& b) { return StatusOf(b.GetPowerState()); },
       nullptr},
      {"hardware crawl (GETs)", true, [](bmc::Bmc& b) { return StatusOf(b.GetHardware()); },
       nullptr},
      {"firmware list (GETs)", true, [](bmc::Bmc& b) { return StatusOf(b.ListFirmware()); },
       nullptr},
      {"event log (GETs)", true, [](bmc::Bmc& b) { return StatusOf(b.GetLogEntries(10)); },
       nullptr},
      {"boot override (PATCH If-Match)", true,
       [](bmc::Bmc& b) {
         bmc::BootOverride o;
         o.device = bmc::BootDevice::kPxe;
         return b.SetBootOverride(o);
       },
       [](bmc::Bmc& b) {
         auto boot = b.GetBoot();
         return boot.ok() && boot->target == "Pxe";
       }},
      {"power on (POST action)", false,
       [](bmc::Bmc& b) { return b.Reset(bmc::ResetType::kOn, NoWait()); },
       [](bmc::Bmc& b) {
         auto p = b.GetPowerState();
         return p.ok() && *p != bmc::PowerState::kOff;
       }},
      {"virtual media insert (POST action)", false,
       [](bmc::Bmc& b) { return b.InsertMedia("http://127.0.0.1/fault.iso", ""); },
       [](bmc::Bmc& b) {
         auto slots = b.ListVirtualMedia();
         return slots.ok() && !slots->empty() && (*slots)[0].inserted;
       }},
      {"firmware update (POST + task)", false,
       [](bmc::Bmc& b) {
         bmc::FirmwareUpdate u;
         u.image_uri = "http://127.0.0.1/fw/bmc-7.99.00.00.bin";
         u.timeout_ms = 5'000;
         return b.UpdateFirmware(u, nullptr);
       },
       [](bmc::Bmc& b) { return FirmwareVersion(b, "BMC") == "7.99.00.00"; }},
  };
}

TEST_CASE("Every request kind under every BMC fault ends in success or a clear error in time",
          "[lab][redfish]") {
  const std::vector<Fault> faults = {
      {"HTTP 500 twice", lab::SimFault::kHttp500, 2, true},
      {"HTTP 500 always", lab::SimFault::kHttp500, -1, false},
      {"connection cut always", lab::SimFault::kDropConnection, -1, false},
      {"hung BMC", lab::SimFault::kHang, -1, false},
      {"HTML instead of JSON", lab::SimFault::kWrongContentType, -1, false},
  };
  lab::SimOptions so;
  so.speed = 50;
  so.password = "lab-pw";
  lab::RedfishSim sim(so);
  redfish::FleetOptions fo;
  fo.engine.backoff_base_ms = 10;
  fo.client.request_timeout_ms = 300;
  fo.client.deadline_ms = 800;
  fo.client.task_poll_interval_ms = 20;
  const int64_t budget_ms = 2 * fo.client.deadline_ms + 1'000;  // a call may make two requests

  std::vector<Op> ops = Ops();
  int host = 100;
  for (const Fault& f : faults) {
    for (const Op& op : ops) {
      std::string node = "m" + std::to_string(host);
      lab::SimNode n;
      n.name = node;
      n.address = "127.0.5." + std::to_string(host++);
      REQUIRE(sim.AddNode(n).ok());
      redfish::Target t;
      t.url = sim.Url(node);
      t.username = "admin";
      t.password = "lab-pw";
      redfish::RedfishFleet fleet(fo);
      auto bmc = fleet.Connect(t);
      REQUIRE(bmc->GetPowerState().ok());  // logged in and discovered before the fault
      REQUIRE(sim.InjectFault(node, f.fault, f.count).ok());

      auto start = Clock::now();
      Status s = op.run(*bmc);
      int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
                         .count();
      REQUIRE(sim.InjectFault(node, lab::SimFault::kNone).ok());

      INFO(op.name << " under " << f.name << ": " << (s.ok() ? "ok" : s.error().message())
                   << " after " << took << " ms");
      CHECK(took < budget_ms);
      // Idempotent requests get through a transient fault; an action may get through (the
      // GETs before its POST used the fault up) or fail, since a POST is never repeated.
      if (f.transient && op.idempotent) CHECK(s.ok());
      if (!f.transient) CHECK_FALSE(s.ok());
      if (!s.ok()) CHECK_THAT(s.error().message(), Catch::Contains(t.url));
      if (op.applied) {
        redfish::RedfishFleet clean(fo);
        auto reader = clean.Connect(t);
        CHECK(op.applied(*reader) == s.ok());
      }
    }
  }
}

}  // namespace
}  // namespace racksmith::testing
