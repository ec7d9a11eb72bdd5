// The shipped slurm.conf, gres.conf and cgroup.conf (templates/, playbooks/slurm.yaml),
// rendered by racksmith's own template engine (`racksmith template render --node`) for a real
// inventory, are accepted by Debian's real Slurm:
// - slurmctld -D starts on slurm.conf without a fatal or an error about the configuration,
//   and the real scontrol lists every node with the CPUs, RealMemory, Gres, features and
//   drain state the template wrote, and every partition with its nodes and default;
// - `slurmd -G -N NODE` parses gres.conf and cgroup.conf as that node's slurmd would and
//   finds one GPU per device line, of the type slurm.conf declares.
// Only the paths, ports, users and the munge socket differ from production, passed as the
// template's own variables (slurm_conf_settings, slurm_gpu_device_prefix); everything
// binds 127.0.0.1 and lives in a temporary folder. Skipped, with a warning, only where
// Slurm is not installed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "slurm/slurm_control.h"
#include "support/cli_runner.h"
#include "support/free_port.h"
#include "support/temp_dir.h"

extern char** environ;

namespace racksmith::slurm {
namespace {

namespace fs = std::filesystem;
using racksmith::testing::CliOptions;
using racksmith::testing::RunCli;
using racksmith::testing::RunProgram;
using racksmith::testing::SourcePath;
using racksmith::testing::TempDir;
using Clock = std::chrono::steady_clock;

bool SlurmMissing() {
  for (const char* p : {"/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged"}) {
    if (access(p, X_OK) != 0) {
      WARN("SKIPPED: " << p
                       << " is not installed (apt-get install slurmctld slurmd munge "
                          "slurm-client); the slurm.conf acceptance test did not run");
      return true;
    }
  }
  return false;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// "Key=value Key2=value2" (a NodeName= or PartitionName= line) as a map; a quoted value
// (Reason="a b") keeps its words without the quotes.
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t eq = line.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = line.substr(i, eq - i);
    size_t end;
    std::string value;
    if (eq + 1 < line.size() && line[eq + 1] == '"') {
      end = line.find('"', eq + 2);
      value = line.substr(eq + 2, end - eq - 2);
      end = end == std::string::npos ? line.size() : end + 1;
    } else {
      end = line.find(' ', eq);
      if (end == std::string::npos) end = line.size();
      value = line.substr(eq + 1, end - eq - 1);
    }
    out[key] = value;
    i = end;
  }
  return out;
}

// A daemon started in its own process group, output appended to a log; stopped (SIGTERM,
// then SIGKILL) by pid when the object goes away.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, const std::string& log,
         const std::map<std::string, std::string>& env = {}) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<std::string> envs;
    for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, &attr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  ~Daemon() { Stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  bool Running() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Running() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

bool WaitUntil(const std::function<bool()>& ready, Daemon& daemon, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (ready()) return true;
    if (!daemon.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

// Lines of a Slurm log that report an error or a fatal condition, less what this machine
// (not the configuration) causes: no PMIx library for mpi/pmix, no saved state on a first
// start.
std::vector<std::string> ConfigErrors(const std::string& log) {
  std::vector<std::string> out;
  for (const auto& line : Lines(log)) {
    if (line.find("error") == std::string::npos && line.find("fatal") == std::string::npos) {
      continue;
    }
    if (line.find("pmix") != std::string::npos ||
        line.find("MPI: Cannot create context") != std::string::npos ||
        line.find("state file") != std::string::npos ||
        line.find("Trying backup state save file") != std::string::npos) {
      continue;
    }
    out.push_back(line);
  }
  return out;
}

struct Accepted {
  std::string inventory;  // relative to the source tree
  std::string node;       // the node whose gres.conf and cgroup.conf are checked
  size_t nodes = 0;       // non-retired nodes slurm.conf must list
  std::string sample;     // a node and what scontrol must say about it
  int cpus = 0;
  int64_t real_memory = 0;
  std::string gres;
  std::string state;
  std::map<std::string, std::string> partitions;  // name -> Nodes=
  std::string default_partition;
};

void CheckAcceptedBySlurm(const Accepted& want) {
  TempDir tmp;
  const std::string& d = tmp.path();
  REQUIRE(d.size() + sizeof("/munge/munged.sock") < 100);
  for (const char* sub : {"munge", "state", "spool", "run", "log", "dev"}) {
    fs::create_directories(d + "/" + sub);
  }
  fs::permissions(d + "/munge", fs::perms(0755));
  // slurmd insists on device files: links to /dev/null stand for /dev/nvidiaN.
  for (int i = 0; i < 16; ++i) {
    fs::create_symlink("/dev/null", d + "/dev/nvidia" + std::to_string(i));
  }
  {
    std::string key(128, 'k');
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>('a' + (i * 7) % 26);
    tmp.Write("munge/munge.key", key);
    fs::permissions(d + "/munge/munge.key", fs::perms(0600));
  }
  passwd* pw = getpwuid(geteuid());
  std::string user = pw != nullptr ? pw->pw_name : std::to_string(geteuid());
  int port = racksmith::testing::FreeLoopbackPort();
  int slurmd_port = racksmith::testing::FreeLoopbackPort();

  // The slurm playbook's own variables (playbooks/slurm.yaml), then the test's paths.
  std::ostringstream vars;
  vars << "slurm_cluster_name: acceptance\n"
       << "slurm_control_host: localhost(127.0.0.1)\n"
       << "slurm_memory_reserve_percent: 5\n"
       << "slurm_constrain_swap: true\n"
       << "slurm_gpu_device_prefix: " << d << "/dev/nvidia\n"
       << "slurm_conf_settings:\n"
       << "  SlurmUser: " << user << "\n"
       << "  SlurmdUser: " << user << "\n"
       << "  SlurmctldPort: " << port << "\n"
       << "  SlurmdPort: " << slurmd_port << "\n"
       << "  StateSaveLocation: " << d << "/state\n"
       << "  SlurmdSpoolDir: " << d << "/spool\n"
       << "  SlurmctldPidFile: " << d << "/run/slurmctld.pid\n"
       << "  SlurmdPidFile: " << d << "/run/slurmd.pid\n"
       << "  SlurmctldLogFile: " << d << "/log/slurmctld.log\n"
       << "  SlurmdLogFile: " << d << "/log/slurmd.log\n"
       << "  CommunicationParameters: NoCtldInAddrAny,NoInAddrAny\n"
       << "  AuthInfo: socket=" << d << "/munge/munged.sock\n"
       << "  MailProg: /bin/true\n";  // this machine has no mailer; slurmctld checks
  std::string vars_file = tmp.Write("vars.yaml", vars.str());
  for (const char* name : {"slurm.conf", "gres.conf", "cgroup.conf"}) {
    auto r = RunCli({"-i", SourcePath(want.inventory), "template", "render",
                     SourcePath(std::string("templates/") + name + ".j2"), "--node", want.node,
                     "--vars", vars_file, "-o", d + "/" + name});
    INFO(name << ": " << r.err);
    REQUIRE(r.exit_code == 0);
  }
  const std::string conf = d + "/slurm.conf";
  std::string conf_text = Slurp(conf);
  std::map<std::string, std::map<std::string, std::string>> declared;
  std::map<std::string, std::map<std::string, std::string>> declared_parts;
  for (const auto& line : Lines(conf_text)) {
    if (line.rfind("NodeName=", 0) == 0) declared[Fields(line)["NodeName"]] = Fields(line);
    if (line.rfind("PartitionName=", 0) == 0) {
      declared_parts[Fields(line)["PartitionName"]] = Fields(line);
    }
  }
  INFO("slurm.conf rendered for " << want.inventory << ":\n" << conf_text);
  REQUIRE(declared.size() == want.nodes);

  std::map<std::string, std::string> env = {{"SLURM_CONF", conf}};
  Daemon munged(
      {"/usr/sbin/munged", "--foreground", "--force", "--socket=" + d + "/munge/munged.sock",
       "--key-file=" + d + "/munge/munge.key", "--log-file=" + d + "/log/munged.log",
       "--pid-file=" + d + "/run/munged.pid", "--seed-file=" + d + "/munge/munged.seed"},
      d + "/log/munged.out");
  REQUIRE(WaitUntil([&] { return fs::exists(d + "/munge/munged.sock"); }, munged, 10'000));

  Daemon ctld({"/usr/sbin/slurmctld", "-D", "-f", conf}, d + "/log/slurmctld.out", env);
  CliOptions sc;
  sc.env = env;
  sc.timeout_s = 10;
  bool up = WaitUntil(
      [&] {
        auto r = RunProgram({"scontrol", "ping"}, sc);
        return r.exit_code == 0 && r.out.find("is UP") != std::string::npos;
      },
      ctld, 15'000);
  INFO("slurmctld output:\n" << Slurp(d + "/log/slurmctld.out"));
  REQUIRE(up);

  auto shown = RunProgram({"scontrol", "show", "node", "-o"}, sc);
  REQUIRE(shown.exit_code == 0);
  auto nodes = ParseShowNodes(shown.out);
  REQUIRE(nodes.ok());
  CHECK(nodes->size() == want.nodes);
  for (const auto& n : *nodes) {
    INFO("scontrol: " << n.name);
    REQUIRE(declared.count(n.name) == 1);
    auto& line = declared[n.name];
    CHECK(n.cpus_total == std::stoi(line["CPUs"]));
    CHECK(n.fields.at("RealMemory") == line["RealMemory"]);
    CHECK(n.gres == line["Gres"]);
    CHECK(n.fields.at("AvailableFeatures") == line["Features"]);
    CHECK(n.HasFlag("DRAIN") == (line.count("State") == 1));
    if (line.count("Reason") == 1) CHECK(n.reason == line["Reason"]);
  }
  bool sampled = false;
  for (const auto& n : *nodes) {
    if (n.name != want.sample) continue;
    sampled = true;
    CHECK(n.cpus_total == want.cpus);
    CHECK(n.fields.at("RealMemory") == std::to_string(want.real_memory));
    CHECK(n.gres == want.gres);
    CHECK(n.StateText() == want.state);
  }
  CHECK(sampled);

  auto parts = RunProgram({"scontrol", "show", "partition", "-o"}, sc);
  REQUIRE(parts.exit_code == 0);
  std::map<std::string, std::string> got_parts;
  std::string got_default;
  for (const auto& line : Lines(parts.out)) {
    auto f = Fields(line);
    if (f.count("PartitionName") == 0) continue;
    got_parts[f["PartitionName"]] = f["Nodes"];
    if (f["Default"] == "YES") got_default = f["PartitionName"];
    CHECK(f["State"] == "UP");
  }
  CHECK(got_parts == want.partitions);
  CHECK(got_default == want.default_partition);
  for (const auto& [name, line] : declared_parts) CHECK(got_parts[name] == line.at("Nodes"));

  // What the node's slurmd would make of gres.conf and cgroup.conf (exits after printing).
  CliOptions gopt;
  gopt.timeout_s = 15;
  auto gres = RunProgram({"/usr/sbin/slurmd", "-G", "-N", want.node, "-f", conf}, gopt);
  std::string gres_out = gres.out + gres.err;
  INFO("slurmd -G:\n" << gres_out << "\ngres.conf:\n" << Slurp(d + "/gres.conf"));
  CHECK(gres.exit_code == 0);
  CHECK(ConfigErrors(gres_out) == std::vector<std::string>{});
  int gpus = 0;
  std::string gres_decl = declared[want.node]["Gres"];  // gpu:TYPE:COUNT
  std::string want_type = gres_decl.substr(4, gres_decl.rfind(':') - 4);
  for (const auto& line : Lines(gres_out)) {
    if (line.find("Gres Name=gpu") == std::string::npos) continue;
    ++gpus;
    CHECK_THAT(line, Catch::Contains("Type=" + want_type + " Count=1"));
  }
  CHECK(gpus == std::stoi(gres_decl.substr(gres_decl.rfind(':') + 1)));

  ctld.Stop();
  munged.Stop();
  std::string log = Slurp(d + "/log/slurmctld.log");
  INFO("slurmctld.log:\n" << log);
  CHECK(log.find("slurmctld version") != std::string::npos);
  CHECK(ConfigErrors(log) == std::vector<std::string>{});
}

TEST_CASE("the shipped slurm.conf for the lab inventory is accepted by a real slurmctld",
          "[slurm][lab]") {
  if (SlurmMissing()) return;
  Accepted want;
  want.inventory = "inventory/lab.yaml";
  want.node = "lab-n09";
  want.nodes = 16;
  want.sample = "lab-n09";
  want.cpus = 128;
  want.real_memory = 1024 * 1024 * 95 / 100;  // 1024 GiB less 5 %, in MiB
  want.gres = "gpu:a100:8";
  want.state = "UNKNOWN";  // no slurmd here: configured, never registered
  want.partitions = {{"gpu", "lab-n[01-16]"}, {"a100", "lab-n[09-16]"}};
  want.default_partition = "gpu";
  CheckAcceptedBySlurm(want);
}

TEST_CASE("the shipped slurm.conf for 53 DGX-1 nodes is accepted by a real slurmctld",
          "[slurm][lab]") {
  if (SlurmMissing()) return;
  Accepted want;
  want.inventory = "inventory/examples/dgx1-53.yaml";
  want.node = "dgx001";
  want.nodes = 53;
  want.sample = "dgx053";  // in maintenance: drained with the inventory's reason
  want.cpus = 80;
  want.real_memory = 512 * 1024 * 95 / 100;
  want.gres = "gpu:v100:8";
  want.state = "UNKNOWN+DRAIN";
  want.partitions = {{"v100", "dgx[001-053]"}, {"training", "dgx[001-028]"}};
  want.default_partition = "v100";
  CheckAcceptedBySlurm(want);
}

}  // namespace
}  // namespace racksmith::slurm
