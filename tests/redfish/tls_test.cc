// TLS: verification on by default, a CA bundle, a pinned certificate fingerprint, and the
// explicit insecure mode. The server is an HTTPS mockup with a self-signed certificate.
#include <catch2/catch.hpp>

#include "redfish/test_util.h"

namespace racksmith::testing {
namespace {

MockupServerOptions HttpsTree() {
  auto o = Tree("mockups/public-rackmount1");
  o.tls_cert = GetTestCert().cert;
  o.tls_key = GetTestCert().key;
  return o;
}

TEST_CASE("A self-signed BMC certificate is refused by default, without retries", "[redfish]") {
  MockupServer server(HttpsTree());
  redfish::RedfishFleet fleet(FastFleet());
  auto power = fleet.Connect(TargetFor(server))->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kUnreachable);
  CHECK_THAT(power.error().message(),
             Catch::Contains(server.url()) && Catch::Contains("certificate"));
  CHECK(fleet.Stats().retries == 0);
}

TEST_CASE("A BMC certificate is trusted through a given CA bundle", "[redfish]") {
  MockupServer server(HttpsTree());
  redfish::RedfishFleet fleet(FastFleet());
  auto target = TargetFor(server);
  target.tls.ca_file = GetTestCert().cert;
  auto power = fleet.Connect(target)->GetPowerState();
  REQUIRE(power.ok());
}

TEST_CASE("A pinned certificate fingerprint is trusted, and a different one refused", "[redfish]") {
  MockupServer server(HttpsTree());
  redfish::RedfishFleet fleet(FastFleet());
  auto target = TargetFor(server);
  target.tls.cert_fingerprint = GetTestCert().fingerprint;
  REQUIRE(GetTestCert().fingerprint.size() == 7 + 64 + 31);
  auto power = fleet.Connect(target)->GetPowerState();
  REQUIRE(power.ok());

  redfish::RedfishFleet other(FastFleet());
  target.tls.cert_fingerprint = "sha256:" + std::string(64, 'a');
  power = other.Connect(target)->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(other.Stats().retries == 0);

  redfish::RedfishFleet third(FastFleet());  // a fleet keeps one client per URL and user
  target.tls.cert_fingerprint = "sha256:xyz";
  power = third.Connect(target)->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kInvalidInput);
}

TEST_CASE("Insecure mode talks to any certificate", "[redfish]") {
  MockupServer server(HttpsTree());
  redfish::RedfishFleet fleet(FastFleet());
  auto target = TargetFor(server);
  target.tls.insecure = true;
  auto power = fleet.Connect(target)->GetPowerState();
  REQUIRE(power.ok());
  CHECK(fleet.CloseAll() == 0);
  CHECK(server.live_sessions() == 0);
}

}  // namespace
}  // namespace racksmith::testing
