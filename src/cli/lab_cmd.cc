// `racksmith lab up|status|power|down`: a simulated rack on loopback (test/demo harness).
// Each node is its own OpenSSH sshd on 127.0.2.N:PORT whose ForceCommand (lab/node-shell)
// runs every command and SFTP inside a bubblewrap sandbox with the node's own writable
// /etc /var /opt /usr/local /home /root /tmp. One sshd per node so that a powered-off node
// refuses connections outright: power off stops its sshd. See docs/lab.md.
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "cli/cli.h"

namespace racksmith::cli {
namespace {

namespace fs = std::filesystem;

struct LabOptions {
  std::string dir;
  int nodes = 4;
  int port = 2222;
  std::string node;
  std::string power;
};

std::string LabDir(const LabOptions& o) {
  if (!o.dir.empty()) return fs::absolute(o.dir).string();
  if (const char* e = std::getenv("RACKSMITH_LAB_DIR")) return fs::absolute(e).string();
  return fs::absolute("lab-run").string();
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

std::string NodeName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "lab-n%02d", i);
  return buf;
}

pid_t NodePid(const fs::path& node_dir) {
  std::string s = ReadFile(node_dir / "sshd.pid");
  if (s.empty()) return -1;
  pid_t pid = static_cast<pid_t>(std::atol(s.c_str()));
  // A recorded pid counts only while it is still that node's sshd.
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find((node_dir / "sshd_config").string()) != std::string::npos ? pid : -1;
}

bool StartNode(const fs::path& node_dir) {
  if (NodePid(node_dir) > 0) return true;
  std::ofstream(node_dir / "boot_id")
      << std::random_device{}() << "-" << std::random_device{}() << "\n";
  return Sh("/usr/sbin/sshd -f '" + (node_dir / "sshd_config").string() + "'");
}

void StopNode(const fs::path& node_dir) {
  pid_t pid = NodePid(node_dir);
  if (pid > 0) ::kill(pid, SIGTERM);
  fs::remove(node_dir / "sshd.pid");
}

int LabUp(const LabOptions& o) {
  fs::path dir = LabDir(o);
  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  fs::create_directories(dir / "bin", ec);
  ::mkdir("/run/sshd", 0755);  // sshd's privilege separation dir; absent without systemd
  fs::copy_file(fs::path(RACKSMITH_SOURCE_DIR) / "lab/node-shell", dir / "bin/node-shell",
                fs::copy_options::overwrite_existing, ec);
  if (ec) {
    std::cerr << "racksmith lab up: cannot install node-shell into " << dir << ": " << ec.message()
              << "\n";
    return kExitFailed;
  }
  if (!fs::exists(dir / "keys/client_ed25519") &&
      !Sh("ssh-keygen -q -t ed25519 -N '' -C racksmith-lab -f '" +
          (dir / "keys/client_ed25519").string() + "'")) {
    return kExitFailed;
  }
  fs::copy_file(dir / "keys/client_ed25519.pub", dir / "keys/authorized_keys",
                fs::copy_options::overwrite_existing, ec);
  int failed = 0;
  for (int i = 1; i <= o.nodes; ++i) {
    std::string name = NodeName(i);
    fs::path nd = dir / "nodes" / name;
    std::string addr = "127.0.2." + std::to_string(i);
    if (!fs::exists(nd / "root/etc")) {
      for (const char* d : {"var", "opt", "usr/local", "home", "root", "tmp", "../tools/bin"}) {
        fs::create_directories(nd / "root" / d, ec);
      }
      if (!Sh("cp -a /etc '" + (nd / "root/etc").string() + "'")) return kExitFailed;
      std::ofstream(nd / "root/etc/hostname") << name << "\n";
      std::ofstream(nd / "power") << "On\n";
      Sh("ssh-keygen -q -t ed25519 -N '' -f '" + (nd / "host_key").string() + "'");
    }
    std::ofstream(nd / "sshd_config")
        << "# racksmith lab node " << name << "\nListenAddress " << addr << ":" << o.port
        << "\nHostKey " << (nd / "host_key").string() << "\nPidFile " << (nd / "sshd.pid").string()
        << "\nAuthorizedKeysFile " << (dir / "keys/authorized_keys").string()
        << "\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
           "PermitRootLogin prohibit-password\nUsePAM no\nMaxStartups 200\n"
           "Subsystem sftp /usr/lib/openssh/sftp-server\nForceCommand "
        << (dir / "bin/node-shell").string() << " " << nd.string() << "\n";
    if (ReadFile(nd / "power") == "On" && !StartNode(nd)) {
      std::cerr << "racksmith lab up: " << name << " (" << addr << ":" << o.port
                << "): sshd did not start\n";
      ++failed;
    }
  }
  std::cout << "lab up: " << o.nodes - failed << " nodes on 127.0.2.[1-" << o.nodes
            << "]:" << o.port << " in " << dir.string()
            << "\nclient key: " << (dir / "keys/client_ed25519").string() << "\n";
  return failed ? kExitFailed : kExitOk;
}

int LabStatus(const LabOptions& o) {
  fs::path dir = LabDir(o);
  if (!fs::exists(dir / "nodes")) {
    std::cerr << "racksmith lab status: no lab in " << dir.string() << "\n";
    return kExitFailed;
  }
  std::vector<fs::path> nodes;
  for (const auto& e : fs::directory_iterator(dir / "nodes")) nodes.push_back(e.path());
  std::sort(nodes.begin(), nodes.end());
  for (const auto& nd : nodes) {
    pid_t pid = NodePid(nd);
    std::cout << nd.filename().string() << " power=" << ReadFile(nd / "power")
              << " sshd=" << (pid > 0 ? "up(" + std::to_string(pid) + ")" : "down")
              << " boot_id=" << ReadFile(nd / "boot_id") << "\n";
  }
  return kExitOk;
}

int LabPower(const LabOptions& o) {
  fs::path nd = fs::path(LabDir(o)) / "nodes" / o.node;
  if (!fs::exists(nd)) {
    std::cerr << "racksmith lab power: no node " << o.node << " in " << LabDir(o) << "\n";
    return kExitUsage;
  }
  bool on = o.power == "on";
  std::ofstream(nd / "power") << (on ? "On\n" : "Off\n");
  if (on) return StartNode(nd) ? kExitOk : kExitFailed;
  StopNode(nd);
  return kExitOk;
}

int LabDown(const LabOptions& o) {
  fs::path dir = LabDir(o);
  if (!fs::exists(dir / "nodes")) return kExitOk;
  int stopped = 0;
  for (const auto& e : fs::directory_iterator(dir / "nodes")) {
    if (NodePid(e.path()) > 0) ++stopped;
    StopNode(e.path());
  }
  std::cout << "lab down: stopped " << stopped << " node sshd processes\n";
  return kExitOk;
}

}  // namespace

void AddLabCommand(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<LabOptions>();
  CLI::App* lab = app.add_subcommand("lab", "A simulated rack on loopback (test/demo harness)");
  lab->require_subcommand(1);
  lab->add_option("--dir", o->dir, "Lab directory ($RACKSMITH_LAB_DIR, else ./lab-run)");
  auto set = [&ctx, o](int (*fn)(const LabOptions&)) {
    return [&ctx, o, fn] { ctx.action = [o, fn] { return fn(*o); }; };
  };
  CLI::App* up = lab->add_subcommand("up", "Start lab-n01..NN on 127.0.2.[1-N]");
  up->add_option("--nodes", o->nodes, "Number of nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 254));
  up->add_option("--port", o->port, "SSH port of every node")->capture_default_str();
  up->callback(set(LabUp));
  lab->add_subcommand("status", "Show each node's power and sshd")->callback(set(LabStatus));
  CLI::App* power = lab->add_subcommand("power", "Power a node on or off (off refuses SSH)");
  power->add_option("node", o->node)->required();
  power->add_option("state", o->power)->required()->check(CLI::IsMember({"on", "off"}));
  power->callback(set(LabPower));
  lab->add_subcommand("down", "Stop every node this lab started")->callback(set(LabDown));
}

}  // namespace racksmith::cli
