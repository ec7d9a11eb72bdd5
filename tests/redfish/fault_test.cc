// Faults: retries with Retry-After, bounded waits on hung or resetting BMCs, 5xx forever,
// no retry of a POST, a wrong content type. Each failure names the BMC and the reason.
#include <catch2/catch.hpp>
#include <chrono>

#include "redfish/test_util.h"

namespace racksmith::testing {
namespace {

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

TEST_CASE("A 503 with Retry-After is retried after the advised wait and then succeeds",
          "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->GetPowerState().ok());  // logged in
  server.FailNext(2, 503, "1");
  auto start = std::chrono::steady_clock::now();
  auto power = bmc->GetPowerState();
  REQUIRE(power.ok());
  CHECK(*power == bmc::PowerState::kOn);
  CHECK(MillisSince(start) >= 1'900);  // two waits of Retry-After: 1 s
  CHECK(fleet.Stats().retries == 2);
}

TEST_CASE("A 429 without Retry-After is retried with backoff", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->GetPowerState().ok());
  server.FailNext(1, 429);
  REQUIRE(bmc->GetPowerState().ok());
  CHECK(fleet.Stats().retries == 1);
}

TEST_CASE("A BMC that answers 500 forever gives an error after the allowed attempts", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->GetPowerState().ok());
  int before = server.Count("GET", "/Systems/437XR1138R2");
  server.FailNext(1000, 500);
  auto power = bmc->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kUnreachable);
  CHECK_THAT(power.error().message(), Catch::Contains(server.url()) &&
                                          Catch::Contains("HTTP 500 Internal Server Error") &&
                                          Catch::Contains("/redfish/v1/Systems/437XR1138R2"));
  CHECK(server.Count("GET", "/Systems/437XR1138R2") - before == 3);  // max_attempts
}

TEST_CASE("An action POST is sent once even when the BMC answers 503", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  auto sys = server.Resource("/redfish/v1/Systems/437XR1138R2");
  sys["PowerState"] = "Off";
  server.SetResource("/redfish/v1/Systems/437XR1138R2", sys);
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->GetPowerState().ok());
  server.FailNext(5, 503, "0", "POST");
  bmc::ResetOptions opts;
  opts.wait = false;
  auto reset = bmc->Reset(bmc::ResetType::kOn, opts);
  REQUIRE_FALSE(reset.ok());
  CHECK_THAT(reset.error().message(),
             Catch::Contains("POST /redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset") &&
                 Catch::Contains("HTTP 503"));
  CHECK(server.Count("POST", "ComputerSystem.Reset") == 1);
  CHECK(fleet.Stats().retries == 0);
}

TEST_CASE("A hung BMC fails with a timeout naming it, within the deadline", "[redfish]") {
  BrokenServer hung(BrokenServer::Mode::kHang);
  auto opts = FastFleet();
  opts.client.request_timeout_ms = 300;
  opts.client.deadline_ms = 1'500;
  redfish::RedfishFleet fleet(opts);
  redfish::Target t;
  t.url = hung.url();
  t.username = "admin";
  t.password = "s3cret-pw";
  auto start = std::chrono::steady_clock::now();
  auto power = fleet.Connect(t)->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(MillisSince(start) < 3'000);
  CHECK(power.error().code() == ErrorCode::kTimeout);
  CHECK_THAT(power.error().message(), Catch::Contains(hung.url() + "/redfish/v1/"));
}

TEST_CASE("A BMC that resets every connection fails as unreachable after the retries",
          "[redfish]") {
  BrokenServer closing(BrokenServer::Mode::kClose);
  redfish::RedfishFleet fleet(FastFleet());
  redfish::Target t;
  t.url = closing.url();
  auto start = std::chrono::steady_clock::now();
  auto power = fleet.Connect(t)->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(MillisSince(start) < 6'000);
  CHECK(power.error().code() == ErrorCode::kUnreachable);
  CHECK_THAT(power.error().message(),
             Catch::Contains(closing.url()) && Catch::Contains("after 3 attempts"));
}

TEST_CASE("Nothing listening gives a clear unreachable error", "[redfish]") {
  int port;
  {
    BrokenServer gone(BrokenServer::Mode::kClose);
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  redfish::RedfishFleet fleet(FastFleet());
  redfish::Target t;
  t.url = "http://127.0.0.1:" + std::to_string(port);
  auto power = fleet.Connect(t)->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kUnreachable);
  CHECK_THAT(power.error().message(), Catch::Contains(t.url));
}

TEST_CASE("An HTML answer instead of JSON is reported with its content type", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  server.SetWrongContentType(true);
  redfish::RedfishFleet fleet(FastFleet());
  auto power = fleet.Connect(TargetFor(server))->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK_THAT(power.error().message(),
             Catch::Contains("expected a JSON object, found Content-Type text/html") &&
                 Catch::Contains("<html>"));
}

TEST_CASE("A slow BMC within the timeout is simply waited for", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  server.SetDelayMs(100);
  redfish::RedfishFleet fleet(FastFleet());
  auto power = fleet.Connect(TargetFor(server))->GetPowerState();
  REQUIRE(power.ok());
  CHECK(fleet.Stats().retries == 0);
}

}  // namespace
}  // namespace racksmith::testing
