// The real thing: scontrol against a real slurmctld with real slurmds (StartLabSlurm), on
// 127.0.0.1 in a temporary folder. Skipped, with a warning, only where Slurm is not
// installed (/usr/sbin/slurmctld missing); any other failure to start is a test failure.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "slurm/lab_slurm.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::slurm {
namespace {

using namespace std::chrono_literals;

bool SlurmMissing() {
  if (access("/usr/sbin/slurmctld", X_OK) == 0) return false;
  WARN(
      "SKIPPED: /usr/sbin/slurmctld is not installed (apt-get install slurmctld slurmd "
      "munge slurm-client); the real-Slurm tests did not run");
  return true;
}

// Processes still running (not zombies) whose command line or working directory names `dir`.
std::vector<std::string> ProcessesUnder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string s;
    std::getline(stat, s);
    size_t paren = s.rfind(')');
    if (paren == std::string::npos || paren + 2 >= s.size() || s[paren + 2] == 'Z') continue;
    std::ifstream cmd(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmd)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    std::error_code e2;
    std::string cwd = fs::read_symlink(e.path() / "cwd", e2).string();
    if (cmdline.find(dir) != std::string::npos || (!e2 && cwd.rfind(dir, 0) == 0)) {
      found.push_back(pid + ": " + cmdline);
    }
  }
  return found;
}

// Stops `lab` and checks that none of its processes is left.
void StopAndCheck(LabSlurm& lab) {
  std::vector<pid_t> pids = lab.pids();
  std::string dir = lab.dir();
  lab.Stop();
  for (pid_t p : pids) CHECK(kill(p, 0) != 0);
  CHECK(lab.pids().empty());
  CHECK(ProcessesUnder(dir) == std::vector<std::string>{});
}

// "ADDR:PORT" of every listening TCP socket on a port in [first, last], from /proc/net.
std::vector<std::string> ListenersOn(int first, int last) {
  std::vector<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      int port = std::stoi(local.substr(colon + 1), nullptr, 16);
      if (port >= first && port <= last) out.push_back(local);
    }
  }
  return out;
}

LabSlurm Start(const racksmith::testing::TempDir& tmp, const LabSlurmOptions& options = {}) {
  auto lab = StartLabSlurm(tmp.Join("slurm"),
                           {{"lab-n01", 8, 4}, {"lab-n02", 8, 4}, {"lab-n03", 4, 0}}, 0, options);
  if (!lab.ok()) FAIL("StartLabSlurm: " << lab.error().ToString());
  return std::move(*lab);
}

// Polls GetNode until `pred` holds; returns the last NodeInfo seen.
NodeInfo WaitNode(SlurmControl& slurm, const std::string& node,
                  const std::function<bool(const NodeInfo&)>& pred,
                  std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto n = slurm.GetNode(node);
    if (!n.ok()) FAIL(n.error().ToString());
    if (pred(*n) || std::chrono::steady_clock::now() > deadline) return *n;
    std::this_thread::sleep_for(100ms);
  }
}

TEST_CASE("A real slurmctld drains, reports and resumes a responding node", "[slurm][lab]") {
  if (SlurmMissing()) return;
  racksmith::testing::TempDir tmp;
  LabSlurm lab = Start(tmp);
  const auto& t = lab.timings();
  INFO("lab slurm started: munged " << t.munged_ms << " ms, slurmctld " << t.slurmctld_ms
                                    << " ms, 3 slurmds responding " << t.nodes_ms << " ms");
  auto slurm = MakeScontrol(lab.scontrol_options());
  // slurmctld and the three slurmds listen on 127.0.0.1 only ("0100007F" in /proc/net/tcp).
  std::vector<std::string> listeners = ListenersOn(lab.port(), lab.port() + 4);
  CHECK(listeners.size() == 4);
  for (const auto& l : listeners) CHECK(l.rfind("0100007F:", 0) == 0);

  auto before = slurm->GetNode("lab-n01");
  REQUIRE(before.ok());
  CHECK(before->StateText() == "IDLE");
  CHECK(before->IsInService());
  CHECK(before->cpus_total == 8);
  CHECK(before->gres == "gpu:4");
  CHECK(before->partitions == std::vector<std::string>{"lab"});
  CHECK(slurm->GetNode("lab-n03")->gres.empty());

  REQUIRE(slurm->Drain("lab-n01", "racksmith: reimage (plan 7)").ok());
  auto drained = slurm->GetNode("lab-n01");
  REQUIRE(drained.ok());
  CHECK(drained->StateText() == "IDLE+DRAIN");
  CHECK(drained->IsDrained());
  CHECK_FALSE(drained->IsInService());
  CHECK(drained->reason == "racksmith: reimage (plan 7)");
  CHECK(slurm->GetNode("lab-n02")->IsInService());  // only the one node

  REQUIRE(slurm->Resume("lab-n01").ok());
  // Slurm marks a resumed node not responding until its next ping answers (IDLE* at first).
  NodeInfo back = WaitNode(
      *slurm, "lab-n01", [](const NodeInfo& n) { return n.IsInService(); }, 15s);
  CHECK(back.StateText() == "IDLE");
  CHECK(back.reason.empty());
  // Resuming again: scontrol says "Invalid node state specified"; the node is in service.
  CHECK(slurm->Resume("lab-n01").ok());
  CHECK(lab.WaitResponding(10'000).ok());

  auto missing = slurm->GetNode("lab-n99");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  Status drain_missing = slurm->Drain("lab-n99", "x");
  REQUIRE_FALSE(drain_missing.ok());
  CHECK(drain_missing.error().code() == ErrorCode::kNotFound);
  StopAndCheck(lab);
}

TEST_CASE("A real node drained while running a job is draining until the job ends",
          "[slurm][lab]") {
  if (SlurmMissing()) return;
  racksmith::testing::TempDir tmp;
  LabSlurm lab = Start(tmp);
  auto slurm = MakeScontrol(lab.scontrol_options());
  racksmith::testing::CliOptions env;
  env.env = lab.env();
  env.timeout_s = 30;
  auto job =
      racksmith::testing::RunProgram({"sbatch", "-w", "lab-n02", "-n", "1", "--chdir=" + lab.dir(),
                                      "-o", "/dev/null", "--wrap", "sleep 4"},
                                     env);
  INFO(job.out << job.err);
  REQUIRE(job.exit_code == 0);
  NodeInfo busy = WaitNode(
      *slurm, "lab-n02", [](const NodeInfo& n) { return n.cpus_alloc > 0; }, 15s);
  REQUIRE(busy.cpus_alloc > 0);
  REQUIRE(slurm->Drain("lab-n02", "racksmith: firmware").ok());
  NodeInfo draining = *slurm->GetNode("lab-n02");
  CHECK(draining.HasFlag("DRAIN"));
  CHECK(draining.base_state == "MIXED");
  CHECK_FALSE(draining.IsDrained());
  NodeInfo done = WaitNode(
      *slurm, "lab-n02", [](const NodeInfo& n) { return n.IsDrained(); }, 30s);
  CHECK(done.IsDrained());
  CHECK(done.StateText() == "IDLE+DRAIN");
  REQUIRE(slurm->Resume("lab-n02").ok());
  StopAndCheck(lab);
}

TEST_CASE("Without slurmd Slurm reports UNKNOWN nodes, drains them and clears the drain",
          "[slurm][lab]") {
  if (SlurmMissing()) return;
  racksmith::testing::TempDir tmp;
  LabSlurmOptions options;
  options.start_slurmd = false;
  LabSlurm lab = Start(tmp, options);
  auto slurm = MakeScontrol(lab.scontrol_options());
  auto n = slurm->GetNode("lab-n01");
  REQUIRE(n.ok());
  CHECK(n->base_state == "UNKNOWN");
  CHECK_FALSE(n->IsInService());
  REQUIRE(slurm->Drain("lab-n01", "never booted").ok());
  auto drained = slurm->GetNode("lab-n01");
  REQUIRE(drained.ok());
  CHECK(drained->base_state == "UNKNOWN");
  CHECK(drained->HasFlag("DRAIN"));  // UNKNOWN+DRAIN, later +NOT_RESPONDING after a ping
  CHECK(drained->IsDrained());
  // scontrol answers "Invalid node state specified" but clears DRAIN: Resume is done.
  REQUIRE(slurm->Resume("lab-n01").ok());
  auto after = slurm->GetNode("lab-n01");
  REQUIRE(after.ok());
  CHECK_FALSE(after->HasFlag("DRAIN"));
  CHECK(after->base_state == "UNKNOWN");
  CHECK_FALSE(after->IsInService());
  StopAndCheck(lab);
}

TEST_CASE("StartLabSlurm refuses bad nodes and addresses before starting anything",
          "[slurm][lab]") {
  racksmith::testing::TempDir tmp;
  auto bad_name = StartLabSlurm(tmp.Join("a"), {{"lab n01", 4, 0}}, 0);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().code() == ErrorCode::kInvalidInput);
  auto none = StartLabSlurm(tmp.Join("b"), {}, 0);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message() == "lab slurm: expected at least one node");
  auto port = StartLabSlurm(tmp.Join("c"), {{"n1", 4, 0}}, 80);
  REQUIRE_FALSE(port.ok());
  CHECK(port.error().code() == ErrorCode::kInvalidInput);
  CHECK(ProcessesUnder(tmp.path()).empty());
}

}  // namespace
}  // namespace racksmith::slurm
