// Shared helpers for the Redfish tests: short timeouts so a broken path fails fast.
#pragma once

#include <string>

#include "redfish/mockup_server.h"
#include "redfish/redfish.h"
#include "support/cli_runner.h"

namespace racksmith::testing {

inline redfish::FleetOptions FastFleet() {
  redfish::FleetOptions o;
  o.engine.backoff_base_ms = 20;
  o.engine.backoff_max_ms = 200;
  o.engine.retry_after_cap_ms = 2'000;
  o.client.connect_timeout_ms = 1'000;
  o.client.request_timeout_ms = 2'000;
  o.client.deadline_ms = 6'000;
  o.client.max_attempts = 3;
  o.client.task_poll_interval_ms = 20;
  return o;
}

inline redfish::Target TargetFor(const MockupServer& server,
                                 redfish::AuthMode auth = redfish::AuthMode::kAuto) {
  redfish::Target t;
  t.url = server.url();
  t.username = "admin";
  t.password = "s3cret-pw";
  t.auth = auth;
  return t;
}

/// A self-signed certificate for 127.0.0.0/8 made once per test run with the openssl tool.
struct TestCert {
  std::string cert;
  std::string key;
  std::string fingerprint;  // "sha256:" + 64 hex digits of the certificate
};
const TestCert& GetTestCert();

inline MockupServerOptions Tree(const std::string& shared_relative) {
  MockupServerOptions o;
  o.root_dir = SharedPath("redfish/" + shared_relative);
  return o;
}

}  // namespace racksmith::testing
