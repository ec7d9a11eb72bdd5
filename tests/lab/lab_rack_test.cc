// The lab through the real binary, real sshd and real Redfish: nodes from an inventory,
// power and boot shared with the simulated BMCs, reimage, tools over SSH, faults, down.
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "lab/lab_test_util.h"

namespace racksmith::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bmc::ResetOptions Quick() {
  bmc::ResetOptions o;
  o.wait_timeout_ms = 5'000;
  o.poll_interval_ms = 20;
  o.graceful_timeout_ms = 2'000;
  return o;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Refused(const Result<transport::ExecResult>& r) {
  return !r.ok() && r.error().message().find("Connection refused") != std::string::npos;
}

std::vector<int> LabPids(const TestLab& lab) {
  auto st = lab.Lab({"status", "--json"});
  std::vector<int> pids;
  auto j = nlohmann::json::parse(st.out, nullptr, false);
  if (j.is_discarded()) return pids;
  if (j["supervisor_pid"].is_number()) pids.push_back(j["supervisor_pid"]);
  for (const auto& n : j["nodes"])
    if (n["sshd_pid"].is_number()) pids.push_back(n["sshd_pid"]);
  return pids;
}

bool Alive(int pid) {
  // A zombie (exited, not yet reaped by init) counts as gone.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

TEST_CASE(
    "lab up starts each inventory node at its ip with its BMC, and lab down leaves no "
    "process",
    "[lab]") {
  TestLab lab(1);
  auto up = lab.Up();
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  for (const auto& n : lab.nodes()) {
    auto r = lab.Exec(n, "cat /etc/hostname");
    INFO(n.name << ": " << (r.ok() ? r->stderr_text : r.error().message()));
    REQUIRE(r.ok());
    CHECK(Trim(r->stdout_text) == n.name);
    auto power = lab.Bmc(n)->GetPowerState();
    REQUIRE(power.ok());
    CHECK(*power == bmc::PowerState::kOn);
  }
  auto status = lab.Lab({"status"});
  CHECK_THAT(status.out,
             Catch::Contains("tl1-n2 ssh=127.0.6.12:" + std::to_string(lab.ssh_port())));
  CHECK_THAT(status.out, Catch::Contains("power=On sshd=up("));

  std::vector<int> pids = LabPids(lab);
  REQUIRE(pids.size() == 4);  // the supervisor and three sshds
  for (int pid : pids) CHECK(Alive(pid));
  // `up` again while it runs changes nothing.
  auto again = lab.Up();
  CHECK(again.exit_code == 0);
  CHECK(LabPids(lab) == pids);

  auto down = lab.Lab({"down"});
  CHECK(down.exit_code == 0);
  for (int pid : pids) CHECK(WaitFor([&] { return !Alive(pid); }, 3s));
  CHECK(Refused(lab.Exec(lab.nodes()[0], "true")));
  CHECK_FALSE(lab.Bmc(lab.nodes()[0])->GetPowerState().ok());
  CHECK_FALSE(fs::exists(lab.dir() + "/serve.pid"));
}

TEST_CASE("lab up refuses an inventory node outside 127.0.0.0/8 and starts nothing", "[lab]") {
  TempDir tmp;
  std::string inv = tmp.Join("inv.yaml");
  std::ofstream(inv) << "site: t\ndefaults:\n  bmc: {username: admin, password: {env: PW}}\n"
                         "racks:\n  - name: r\n    nodes:\n"
                        "      - {name: far-n1, ip: 10.9.9.9, bmc: \"http://127.0.7.250:9\"}\n";
  auto up = RunCli({"-i", inv, "lab", "--dir", tmp.Join("lab"), "up"});
  CHECK(up.exit_code == 2);
  CHECK_THAT(up.err, Catch::Contains("far-n1: ip '10.9.9.9' is not in 127.0.0.0/8"));
  CHECK_FALSE(fs::exists(tmp.Join("lab/serve.pid")));
}

TEST_CASE("Redfish power off refuses SSH once the BMC has answered, and power on brings it back "
          "with a new boot_id",
          "[lab]") {
  TestLab lab(2, 2);
  REQUIRE(lab.Up().exit_code == 0);
  const auto& n = lab.nodes()[0];
  auto before = lab.Exec(n, "cat /proc/sys/kernel/random/boot_id");
  REQUIRE(before.ok());
  std::string boot_id = Trim(before->stdout_text);
  CHECK(boot_id.size() == 36);

  auto bmc = lab.Bmc(n);
  REQUIRE(bmc->Reset(bmc::ResetType::kForceOff, Quick()).ok());
  // Not eventually: a client told "Off" must not reach the node (the lab's supervisor
  // stopped the node on its next tick, so a step right after a power-off could still run).
  CHECK(Refused(lab.Exec(n, "true")));
  // The other node is not affected.
  CHECK(lab.Exec(lab.nodes()[1], "true").ok());
  CHECK_THAT(lab.Lab({"status"}).out, Catch::Contains("tl2-n1 ssh="));
  CHECK_THAT(lab.Lab({"status"}).out, Catch::Contains("power=Off sshd=down"));

  REQUIRE(bmc->Reset(bmc::ResetType::kOn, Quick()).ok());
  Result<transport::ExecResult> after = Internal("not run");
  CHECK(WaitFor([&] {
    after = lab.Exec(n, "cat /proc/sys/kernel/random/boot_id");
    return after.ok();
  }));
  REQUIRE(after.ok());
  CHECK(Trim(after->stdout_text).size() == 36);
  CHECK(Trim(after->stdout_text) != boot_id);
}

TEST_CASE("A ForceRestart drops the node's open sessions and it returns after its boot time",
          "[lab]") {
  TestLab lab(3, 1);
  REQUIRE(lab.Up().exit_code == 0);
  const auto& n = lab.nodes()[0];
  Result<transport::ExecResult> long_running = Internal("not run");
  std::thread session([&] { long_running = lab.Exec(n, "sleep 20; echo survived"); });
  std::this_thread::sleep_for(500ms);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(lab.Bmc(n)->Reset(bmc::ResetType::kForceRestart, Quick()).ok());
  session.join();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  bool survived = long_running.ok() && long_running->stdout_text == "survived\n";
  CHECK_FALSE(survived);
  CHECK(WaitFor([&] { return lab.Exec(n, "true").ok(); }));
}

TEST_CASE("A Pxe boot override with a reset, or lab reimage, gives the node a fresh root",
          "[lab]") {
  TestLab lab(4, 1);
  REQUIRE(lab.Up().exit_code == 0);
  const auto& n = lab.nodes()[0];
  REQUIRE(lab.Exec(n, "echo mine > /etc/marker && apt-get install -y slurmd >/dev/null").ok());
  REQUIRE(fs::exists(lab.dir() + "/nodes/tl4-n1/root/etc/marker"));

  auto bmc = lab.Bmc(n);
  bmc::BootOverride pxe;
  pxe.device = bmc::BootDevice::kPxe;
  REQUIRE(bmc->SetBootOverride(pxe).ok());
  REQUIRE(bmc->Reset(bmc::ResetType::kForceRestart, Quick()).ok());
  Result<transport::ExecResult> r = Internal("not run");
  CHECK(WaitFor([&] {
    r = lab.Exec(n, "cat /etc/hostname; ls /etc/marker; dpkg-query -W slurmd");
    return r.ok();
  }));
  REQUIRE(r.ok());
  CHECK(r->stdout_text == n.name + "\n");
  CHECK_THAT(r->stderr_text, Catch::Contains("No such file"));
  CHECK_THAT(r->stderr_text, Catch::Contains("no packages found matching slurmd"));
  // The override was for one boot only.
  auto boot = bmc->GetBoot();
  REQUIRE(boot.ok());
  CHECK(boot->target == "None");
  CHECK(boot->enabled == "Disabled");

  REQUIRE(lab.Exec(n, "echo again > /etc/marker").ok());
  auto re = lab.Lab({"reimage", n.name});
  INFO(re.err);
  CHECK(re.exit_code == 0);
  CHECK(WaitFor([&] {
    r = lab.Exec(n, "test -e /etc/marker && echo present || echo absent");
    return r.ok() && r->stdout_text == "absent\n";
  }));
}

TEST_CASE("nvidia-smi on each node reports the GPUs of that node in the inventory", "[lab]") {
  TestLab lab(5, 3);
  REQUIRE(lab.Up().exit_code == 0);
  for (const auto& n : lab.nodes()) {
    auto r = lab.Exec(n, "nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader");
    REQUIRE(r.ok());
    INFO(n.name << "\n" << r->stdout_text << r->stderr_text);
    CHECK(r->exit_status == 0);
    std::string expected;
    std::string mib = n.gpu_count == 8 ? "81920 MiB" : "24576 MiB";
    for (int i = 0; i < n.gpu_count; ++i)
      expected += std::to_string(i) + ", " + n.gpu_model + ", " + mib + "\n";
    CHECK(r->stdout_text == expected);
  }
  auto hw = lab.Bmc(lab.nodes()[2])->GetHardware();
  REQUIRE(hw.ok());
  CHECK(hw->gpus.size() == 8);
}

TEST_CASE("Injected faults show in the node's tools, and a hung node accepts TCP but not SSH",
          "[lab]") {
  TestLab lab(6, 2);
  REQUIRE(lab.Up().exit_code == 0);
  const auto& n = lab.nodes()[0];
  REQUIRE(lab.Lab({"fault", n.name, "gpu-missing=1"}).exit_code == 0);
  REQUIRE(lab.Lab({"fault", n.name, "xid=79@1"}).exit_code == 0);
  auto r = lab.Exec(n, "nvidia-smi -L | wc -l; lspci -d 10de: | wc -l; dmesg | grep Xid");
  REQUIRE(r.ok());
  CHECK_THAT(r->stdout_text, Catch::StartsWith("3\n3\n"));
  CHECK_THAT(r->stdout_text,
             Catch::Contains("NVRM: Xid (PCI:0000:0F:00): 79, pid='<unknown>', name=<unknown>, GPU "
                             "has fallen off the bus."));
  auto bad = lab.Lab({"fault", n.name, "gpu-missing=9"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("GPU index must be 0..3"));
  CHECK_THAT(lab.Lab({"status"}).out, Catch::Contains("faults=gpu-missing=1,xid=79@1"));

  REQUIRE(lab.Lab({"fault", n.name, "hang"}).exit_code == 0);
  // TCP still connects, but no SSH banner comes: the connection times out.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(lab.ssh_port()));
  inet_pton(AF_INET, n.ip.c_str(), &a.sin_addr);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  close(fd);
  auto hung = lab.Exec(n, "true", 1s);
  CHECK_FALSE(hung.ok());
  CHECK_FALSE(Refused(hung));
  CHECK(lab.Exec(lab.nodes()[1], "true").ok());

  REQUIRE(lab.Lab({"fault", n.name, "clear"}).exit_code == 0);
  CHECK(WaitFor([&] {
    r = lab.Exec(n, "nvidia-smi -L | wc -l");
    return r.ok();
  }));
  REQUIRE(r.ok());
  CHECK(r->stdout_text == "4\n");

  // BMC faults: a 500 answer on every request.
  REQUIRE(lab.Lab({"fault", n.name, "bmc-500"}).exit_code == 0);
  CHECK_FALSE(lab.Bmc(n)->GetPowerState().ok());
  REQUIRE(lab.Lab({"fault", n.name, "clear"}).exit_code == 0);
  CHECK(lab.Bmc(n)->GetPowerState().ok());
}

}  // namespace
}  // namespace racksmith::testing
