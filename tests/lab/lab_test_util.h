// Helpers of the lab's tests: a small test inventory brought up with the real binary on
// its own addresses (127.0.6.B1-B4 for SSH, 127.0.7.B1-B4 for the BMCs, B = the test's
// block), a test-private lab directory, and `lab down` when the test ends.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bmc/bmc.h"
#include "redfish/redfish.h"
#include "ssh/ssh_transport.h"
#include "support/cli_runner.h"
#include "support/free_port.h"
#include "support/temp_dir.h"
#include "transport/transport.h"

namespace racksmith::testing {

/// Polls `done` every 20 ms until it is true or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));

struct TestLabNode {
  std::string name;
  std::string ip;
  std::string bmc_ip;
  std::string gpu_model;
  int gpu_count = 0;
};

class TestLab {
 public:
  /// `block` (1..25) picks the test's addresses; nodes: tl<block>-n1.. (RTX 3090 x4 on
  /// driver 525 for the first ones, A100 x8 on driver 550 for the last).
  explicit TestLab(int block, int nodes = 3);
  ~TestLab();

  /// `racksmith lab up` with the test inventory (speed 100: boot 0.6 s, power-on 50 ms).
  CliResult Up(const std::vector<std::string>& extra = {});
  CliResult Lab(const std::vector<std::string>& args) const;
  const std::string& dir() const { return dir_; }
  const std::string& inventory() const { return inventory_; }
  const std::vector<TestLabNode>& nodes() const { return nodes_; }
  int ssh_port() const { return ssh_port_; }
  int bmc_port() const { return bmc_port_; }
  CliOptions Env() const;

  transport::Endpoint Endpoint(const TestLabNode& n) const;
  /// Runs `command` on the node over real SSH (a fresh connection each time).
  Result<transport::ExecResult> Exec(
      const TestLabNode& n, const std::string& command,
      std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));
  /// The node's BMC through racksmith's Redfish driver.
  std::unique_ptr<bmc::Bmc> Bmc(const TestLabNode& n);

  static constexpr const char* kPassword = "lab-test-pw";

 private:
  TempDir tmp_;
  std::string dir_;
  std::string inventory_;
  int ssh_port_ = 0;
  int bmc_port_ = 0;
  std::vector<TestLabNode> nodes_;
  transport::InMemoryHostKeyStore keys_;
  redfish::RedfishFleet fleet_;
};

}  // namespace racksmith::testing
