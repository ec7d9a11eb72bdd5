// Many BMCs at once through one event loop: 50 servers, each on its own 127.0.0.x address.
#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "redfish/test_util.h"

namespace racksmith::testing {
namespace {

TEST_CASE("Fifty BMCs on their own loopback addresses are queried at once through one loop",
          "[redfish]") {
  constexpr int kBmcs = 50;
  std::vector<std::unique_ptr<MockupServer>> servers;
  for (int i = 0; i < kBmcs; ++i) {
    auto opts = Tree("mockups/public-rackmount1");
    opts.host = "127.0.0." + std::to_string(10 + i);
    opts.threads = 2;
    opts.graceful_works = true;
    servers.push_back(std::make_unique<MockupServer>(opts));
  }
  auto fleet_opts = FastFleet();
  fleet_opts.engine.max_total = 32;
  fleet_opts.engine.max_per_host = 2;
  redfish::RedfishFleet fleet(fleet_opts);
  std::vector<std::unique_ptr<bmc::Bmc>> bmcs;
  for (auto& s : servers) bmcs.push_back(fleet.Connect(TargetFor(*s)));

  std::vector<Result<bmc::HardwareReport>> reports(kBmcs, Internal("not run"));
  std::vector<std::thread> workers;
  for (int i = 0; i < kBmcs; ++i)
    workers.emplace_back([&, i] { reports[i] = bmcs[i]->GetHardware(); });
  for (auto& w : workers) w.join();

  for (int i = 0; i < kBmcs; ++i) {
    REQUIRE(reports[i].ok());
    CHECK(reports[i]->serial == "437XR1138R2");
  }
  auto stats = fleet.Stats();
  CHECK(stats.max_in_flight <= 32);
  CHECK(stats.max_in_flight > 2);  // really in parallel across BMCs
  CHECK(stats.max_in_flight_per_host <= 2);
  // Keep-alive: far fewer TCP connections than requests; and while more BMCs have work than
  // 32 / 2, one connection each (a second one would cost a TLS handshake for nothing).
  CHECK(stats.connections_opened <= kBmcs + 32 / 2);
  CHECK(stats.requests > stats.connections_opened * 3);
  for (const auto& s : servers) CHECK(s->sessions_created() == 1);
  CHECK(fleet.CloseAll() == 0);
  for (const auto& s : servers) CHECK(s->live_sessions() == 0);
}

}  // namespace
}  // namespace racksmith::testing
