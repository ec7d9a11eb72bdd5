#include "lab/lab_test_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace racksmith::testing {
namespace {

redfish::FleetOptions Fast() {
  redfish::FleetOptions o;
  o.engine.backoff_base_ms = 20;
  o.client.request_timeout_ms = 2'000;
  o.client.deadline_ms = 5'000;
  o.client.task_poll_interval_ms = 20;
  return o;
}

}  // namespace

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

TestLab::TestLab(int block, int count) : fleet_(Fast()) {
  dir_ = tmp_.Join("lab");
  ssh_port_ = FreeLoopbackPort();
  bmc_port_ = FreeLoopbackPort();
  std::ostringstream y;
  y << "site: labtest\n"
       "defaults:\n"
       "  bmc: {driver: redfish, username: admin, password: {env: RACKSMITH_LAB_TEST_BMC_PW}}\n"
       "  ssh: {user: root, port: "
    << ssh_port_
    << "}\n"
       "  software: {nvidia_driver: \"550.127.05\", cuda: \"12.4\"}\n"
       "profiles:\n"
       "  t-3090:\n"
       "    hardware: {gpus: {model: \"NVIDIA GeForce RTX 3090\", count: 4}, memory_gib: 256, "
       "cpus: 64}\n"
       "    software: {nvidia_driver: \"525.147.05\", cuda: \"12.0\"}\n"
       "  t-a100:\n"
       "    hardware: {gpus: {model: \"NVIDIA A100-SXM4-80GB\", count: 8}, nvswitch: true, "
       "memory_gib: 1024, cpus: 128}\n"
       "racks:\n"
       "  - name: tl"
    << block << "-r1\n    nodes:\n";
  for (int i = 1; i <= count; ++i) {
    TestLabNode n;
    n.name = "tl" + std::to_string(block) + "-n" + std::to_string(i);
    n.ip = "127.0.6." + std::to_string(block * 10 + i);
    n.bmc_ip = "127.0.7." + std::to_string(block * 10 + i);
    bool a100 = i == count && count > 1;
    n.gpu_model = a100 ? "NVIDIA A100-SXM4-80GB" : "NVIDIA GeForce RTX 3090";
    n.gpu_count = a100 ? 8 : 4;
    y << "      - {name: " << n.name << ", profile: " << (a100 ? "t-a100" : "t-3090")
      << ", ip: " << n.ip << ", bmc: \"http://" << n.bmc_ip << ":" << bmc_port_ << "\"}\n";
    nodes_.push_back(n);
  }
  inventory_ = tmp_.Join("inventory.yaml");
  std::ofstream(inventory_) << y.str();
}

TestLab::~TestLab() { Lab({"down"}); }

CliOptions TestLab::Env() const {
  CliOptions o;
  o.env["RACKSMITH_LAB_TEST_BMC_PW"] = kPassword;
  o.timeout_s = 60;
  return o;
}

CliResult TestLab::Up(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-i", inventory_, "lab", "--dir", dir_, "up", "--speed", "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args, Env());
}

CliResult TestLab::Lab(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"lab", "--dir", dir_};
  all.insert(all.end(), args.begin(), args.end());
  return RunCli(all, Env());
}

transport::Endpoint TestLab::Endpoint(const TestLabNode& n) const {
  transport::Endpoint e;
  e.node = n.name;
  e.address = n.ip;
  e.port = ssh_port_;
  e.key_path = dir_ + "/keys/client_ed25519";
  return e;
}

Result<transport::ExecResult> TestLab::Exec(const TestLabNode& n, const std::string& command,
                                            std::chrono::milliseconds connect_timeout) {
  transport::TransportOptions o;
  o.connect_timeout = connect_timeout;
  ssh::SshTransport t(keys_, o);
  transport::ExecRequest r;
  r.command = command;
  r.timeout = std::chrono::seconds(10);
  return t.Exec(Endpoint(n), r);
}

std::unique_ptr<bmc::Bmc> TestLab::Bmc(const TestLabNode& n) {
  redfish::Target t;
  t.url = "http://" + n.bmc_ip + ":" + std::to_string(bmc_port_);
  t.username = "admin";
  t.password = kPassword;
  return fleet_.Connect(t);
}

}  // namespace racksmith::testing
