// `racksmith apply` end to end on a small lab (real sshd nodes, simulated BMCs, a real
// slurmctld with a slurmd per node), including the crash test: kill -9 at random moments,
// resume, and end converged with a consistent journal.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "state/store.h"
#include "support/cli_runner.h"
#include "support/free_port.h"
#include "support/temp_dir.h"

extern char** environ;

namespace racksmith::exec {
namespace {

using racksmith::testing::CliOptions;
using racksmith::testing::CliResult;
using racksmith::testing::RunCli;
using racksmith::testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Three 4-GPU nodes; SSH on 127.0.16.B1-3, BMCs on 127.0.15.B1-3 (B: the test's block).
class ApplyLab {
 public:
  explicit ApplyLab(int block) {
    dir_ = tmp_.path() + "/lab";
    state_ = tmp_.path() + "/state.db";
    inventory_ = tmp_.path() + "/inventory.yaml";
    int ssh_port = racksmith::testing::FreeLoopbackPort();
    int bmc_port = racksmith::testing::FreeLoopbackPort();
    std::ofstream f(inventory_);
    f << "site: crash\n"
         "defaults:\n"
         "  bmc: {driver: redfish, username: admin, password: {env: RS_APPLY_TEST_BMC_PW}}\n"
         "  ssh: {user: root, port: "
      << ssh_port << ", key: " << dir_ << "/keys/client_ed25519}\n"
      << "  image: ubuntu-22.04-gpu\n"
         "  firmware: {bios: \"2.19.1\", bmc: \"7.10.30.00\"}\n"
         "  software: {nvidia_driver: \"550.127.05\", cuda: \"12.4\", slurm: \"23.11.4\"}\n"
         "  mounts: [home]\n"
         "  burnin: standard\n"
         "profiles:\n"
         "  g4:\n"
         "    hardware: {gpus: {model: \"NVIDIA GeForce RTX 3090\", count: 4}, memory_gib: 256, "
         "cpus: 64}\n"
         "    slurm: {partitions: [gpu]}\n"
         "mounts:\n"
         "  home: {type: nfs, source: \"127.0.0.1:/export/home\", target: /home, options: [rw]}\n"
         "racks:\n"
         "  - name: r"
      << block << "\n    nodes:\n";
    for (int i = 1; i <= 3; ++i) {
      std::string name = "ap" + std::to_string(block) + "-n" + std::to_string(i);
      nodes_.push_back(name);
      f << "      - {name: " << name << ", profile: g4, ip: 127.0.16." << block * 4 + i
        << ", bmc: \"http://127.0.15." << block * 4 + i << ":" << bmc_port << "\"}\n";
    }
  }
  ~ApplyLab() { RunCli({"lab", "--dir", dir_, "down"}, Env()); }

  CliOptions Env(int timeout_s = 300) const {
    CliOptions o;
    o.env = {{"RS_APPLY_TEST_BMC_PW", "apply-test-pw"},
             {"RACKSMITH_INVENTORY", inventory_},
             {"RACKSMITH_STATE", state_},
             {"RACKSMITH_LAB_DIR", dir_},
             {"RACKSMITH_SLURM_CONF", dir_ + "/slurm/slurm.conf"}};
    o.timeout_s = timeout_s;
    return o;
  }
  CliResult Up() const { return RunCli({"lab", "up", "--speed", "100"}, Env()); }
  std::vector<std::string> ApplyArgs() const {
    return {"apply", "all", "--yes", "--step-timeout", "300", "--boot-timeout", "120",
            "--playbooks", racksmith::testing::SourcePath("playbooks")};
  }
  CliResult Apply() const { return RunCli(ApplyArgs(), Env()); }

  // Starts apply as a child whose pid we own (to SIGKILL it).
  pid_t Spawn() const {
    std::vector<std::string> args = {RACKSMITH_BINARY};
    for (const std::string& a : ApplyArgs()) args.push_back(a);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (const auto& [k, v] : Env().env) env_strings.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
  }

  const std::string& state() const { return state_; }
  const std::string& inventory() const { return inventory_; }
  const std::string& dir() const { return dir_; }
  const std::vector<std::string>& nodes() const { return nodes_; }

 private:
  TempDir tmp_;
  std::string dir_, state_, inventory_;
  std::vector<std::string> nodes_;
};

// The journal of a converged store: every planned step of every node succeeded exactly
// once (a step repeated after it succeeded would show twice), nothing is left running.
void CheckJournal(const std::string& state_path, const std::vector<std::string>& nodes) {
  SystemClock clock;
  Result<std::unique_ptr<state::Store>> store = state::OpenSqliteStore(state_path, clock);
  REQUIRE(store.ok());
  REQUIRE((*store)->CheckIntegrity().ok());
  for (const std::string& node : nodes) {
    Result<state::NodeRecord> rec = (*store)->GetNode(node);
    REQUIRE(rec.ok());
    CHECK(rec->state == state::NodeState::kActive);
    Result<std::vector<state::StepRecord>> steps = (*store)->StepsOfNode(node);
    REQUIRE(steps.ok());
    std::map<std::string, int> succeeded;
    for (const state::StepRecord& s : *steps) {
      INFO(node << " step " << s.kind << " " << s.component << " run " << s.run_id << ": "
                << state::StepStatusName(s.status) << " " << s.error);
      CHECK(state::IsFinished(s.status));
      if (s.status == state::StepStatus::kSucceeded) ++succeeded[s.kind + "/" + s.component];
    }
    CHECK(succeeded.size() == 10);  // discover, 2 firmware, image, 2 installs, slurm, mounts,
                                    // burnin, admit
    for (const auto& [step, count] : succeeded) {
      INFO(node << " " << step);
      CHECK(count == 1);
    }
  }
}

TEST_CASE("apply takes lab nodes through the lifecycle into Slurm and plan is then empty",
          "[exec][lab][apply]") {
  ApplyLab lab(1);
  CliResult up = lab.Up();
  REQUIRE(up.exit_code == 0);
  CliResult applied = lab.Apply();
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.out.find("Apply run 1 succeeded: 3 done, 0 failed") != std::string::npos);
  CliResult plan = RunCli({"plan", "all"}, lab.Env());
  CHECK(plan.out.find("(0 steps)") != std::string::npos);
  CheckJournal(lab.state(), lab.nodes());

  // Drift behind racksmith's back: another driver and a deleted marker on n1, n2 powered
  // off. The records alone see nothing; --refresh reads the nodes and BMCs and does.
  const std::vector<std::string>& nodes = lab.nodes();
  CliResult drift = RunCli({"exec", nodes[0], "--",
                            "apt-get install -y nvidia-driver-535=535.104.05 >/dev/null && "
                            "apt-get remove -y nvidia-driver-550 >/dev/null && "
                            "rm /etc/racksmith/components/slurm"},
                           lab.Env());
  INFO(drift.out << drift.err);
  REQUIRE(drift.exit_code == 0);
  REQUIRE(RunCli({"lab", "power", nodes[1], "off"}, lab.Env()).exit_code == 0);
  // n3: a hand edit of a file the slurm playbook wrote (its marker keeps the file's hash).
  REQUIRE(RunCli({"exec", nodes[2], "--", "echo '# hand edit' >> /etc/slurm/slurm.conf"},
                 lab.Env())
              .exit_code == 0);
  CHECK(RunCli({"plan", "all"}, lab.Env()).out.find("(0 steps)") != std::string::npos);
  CliResult refreshed = RunCli({"plan", "all", "--refresh"}, lab.Env());
  INFO(refreshed.out << refreshed.err);
  CHECK(refreshed.err.find("refresh: read live facts of 3 provisioned node(s)") !=
        std::string::npos);
  CHECK(refreshed.out.find("drift: nvidia_driver is 535.104.05 on the node (nvidia-smi") !=
        std::string::npos);
  CHECK(refreshed.out.find("drift: slurm is missing on the node") != std::string::npos);
  CHECK(refreshed.out.find("drift: the BMC reports power Off") != std::string::npos);
  CHECK(refreshed.out.find("drift: slurm: files it wrote were changed on the node: "
                           "/etc/slurm/slurm.conf (sha256 ") != std::string::npos);
  REQUIRE(RunCli({"lab", "power", nodes[1], "on"}, lab.Env()).exit_code == 0);
  std::vector<std::string> args = lab.ApplyArgs();
  args.push_back("--refresh");
  CliResult repaired = RunCli(args, lab.Env());
  INFO(repaired.out << repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.out.find("succeeded: 2 done, 0 failed") != std::string::npos);
  CliResult after = RunCli({"plan", "all", "--refresh"}, lab.Env());
  INFO(after.out << after.err);
  CHECK(after.out.find("(0 steps)") != std::string::npos);
  CHECK(after.out.find("drift") == std::string::npos);
  CHECK(RunCli({"exec", nodes[0], "--", "nvidia-smi --query-gpu=driver_version "
                                        "--format=csv,noheader | sort -u"},
               lab.Env())
            .out.find("550.127.05") != std::string::npos);

  // The SSH key given as {env: NAME}: apply's driver resolves it into memory, so --refresh
  // still reaches the nodes (and sees the mounts marker deleted here).
  REQUIRE(RunCli({"exec", nodes[0], "--", "rm /etc/racksmith/components/mounts"}, lab.Env())
              .exit_code == 0);
  std::string key_file = lab.dir() + "/keys/client_ed25519";
  std::string text = Slurp(lab.inventory());
  size_t at = text.find(key_file);
  REQUIRE(at != std::string::npos);
  text.replace(at, key_file.size(), "{env: RS_APPLY_TEST_SSH_KEY}");
  std::string env_inventory = lab.inventory() + ".env-key.yaml";
  std::ofstream(env_inventory) << text;
  CliOptions env = lab.Env();
  env.env["RACKSMITH_INVENTORY"] = env_inventory;
  env.env["RS_APPLY_TEST_SSH_KEY"] = Slurp(key_file);
  CliResult via_env = RunCli({"plan", "all", "--refresh"}, env);
  INFO(via_env.out << via_env.err);
  CHECK(via_env.out.find("drift: mounts is missing on the node") != std::string::npos);
  CHECK(via_env.out.find("ssh key") == std::string::npos);
  CHECK(via_env.out.find("RS_APPLY_TEST_SSH_KEY") == std::string::npos);

  // A second apply while another holds the lock: refused with exit 3, naming the holder.
  SystemClock clock;
  Result<std::unique_ptr<state::Store>> store = state::OpenSqliteStore(lab.state(), clock);
  REQUIRE(store.ok());
  REQUIRE((*store)->AcquireLock("test holder").ok());
  CliResult refused = lab.Apply();
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("test holder") != std::string::npos);
}

TEST_CASE("apply killed with SIGKILL at random moments resumes every time and converges",
          "[exec][lab][apply][crash]") {
  ApplyLab lab(2);
  REQUIRE(lab.Up().exit_code == 0);
  std::mt19937 rng(Catch::rngSeed());
  std::uniform_int_distribution<int> delay_ms(200, 2500);
  int kills = 0;
  for (int i = 0; i < 8; ++i) {
    pid_t pid = lab.Spawn();
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++kills;
    } else {
      break;  // it finished before the kill: converged early
    }
  }
  CHECK(kills > 0);
  CliResult last = lab.Apply();
  INFO(last.out << last.err);
  REQUIRE(last.exit_code == 0);
  CliResult plan = RunCli({"plan", "all"}, lab.Env());
  CHECK(plan.out.find("(0 steps)") != std::string::npos);
  CheckJournal(lab.state(), lab.nodes());
  CliResult check = RunCli({"state", "check"}, lab.Env());
  CHECK(check.exit_code == 0);
}

}  // namespace
}  // namespace racksmith::exec
