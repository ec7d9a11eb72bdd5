// `racksmith lab up|serve|status|power|reimage|fault|down`: the simulated rack on loopback
// (test/demo harness). The work is in src/lab (lab/lab_rack.h); this file maps flags to it.
// See docs/lab.md.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/cli.h"
#include "cli/cli_output.h"
#include "inventory/inventory.h"
#include "lab/lab_rack.h"

namespace racksmith::cli {
namespace {

namespace fs = std::filesystem;

struct LabOptions {
  std::string dir;
  int nodes = 0;
  int port = 0;
  int bmc_port = 8000;
  double speed = 10;
  double boot_s = 60;
  std::string node;
  std::string arg;
  bool json = false;
};

std::string LabDir(const LabOptions& o) {
  if (!o.dir.empty()) return o.dir;
  if (const char* e = std::getenv("RACKSMITH_LAB_DIR")) return e;
  return "lab-run";
}

std::string SelfExe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "racksmith" : p.string();
}

int Fail(const char* cmd, const Error& e) {
  std::cerr << "racksmith lab " << cmd << ": " << e.message() << "\n";
  return ExitCodeFor(e);
}

// The password the simulated BMCs accept: the inventory's secret, else (generic nodes)
// $RACKSMITH_LAB_BMC_PASSWORD, else one generated into DIR/keys/bmc_password (0600).
Result<std::string> BmcPassword(const inventory::Inventory* inv, const std::string& dir) {
  if (inv) {
    const auto& ref = inv->nodes.front().bmc.password;
    if (ref.empty()) return std::string();
    auto secret = inventory::ResolveSecret(ref);
    if (!secret.ok())
      return InvalidInput(inv->nodes.front().name + ": the BMC password " + ref.ToString() +
                          " is not available (" + secret.error().message() +
                          "); the simulated BMCs accept that password, so set it first");
    return *secret;
  }
  if (const char* e = std::getenv("RACKSMITH_LAB_BMC_PASSWORD"); e && *e) return std::string(e);
  fs::path file = fs::path(dir) / "keys/bmc_password";
  std::ifstream in(file);
  std::string pw;
  if (std::getline(in, pw) && !pw.empty()) return pw;
  std::ifstream rnd("/proc/sys/kernel/random/uuid");
  std::getline(rnd, pw);
  fs::create_directories(file.parent_path());
  std::ofstream(file) << pw << "\n";
  ::chmod(file.c_str(), 0600);
  return pw;
}

int LabUp(const LabOptions& o, const CliContext& ctx) {
  lab::LabRack rack(LabDir(o));
  std::vector<lab::LabNodeSpec> nodes;
  std::optional<inventory::Inventory> inv;
  if (o.nodes > 0) {
    nodes = lab::GenericNodes(o.nodes, o.port > 0 ? o.port : 2222, o.bmc_port);
  } else {
    auto loaded = inventory::LoadInventory(ctx.inventory_path);
    if (!loaded.ok()) return Fail("up", loaded.error());
    inv = std::move(*loaded);
    auto specs = lab::NodesFromInventory(*inv, o.port);
    if (!specs.ok()) return Fail("up", specs.error());
    nodes = std::move(*specs);
  }
  if (int pid = rack.SupervisorPid(); pid > 0) {
    std::cout << "lab up: the lab in " << rack.dir() << " is running already (supervisor pid "
              << pid << "); `racksmith lab down` first to change it\n";
    return kExitOk;
  }
  auto password = BmcPassword(inv ? &*inv : nullptr, rack.dir());
  if (!password.ok()) return Fail("up", password.error());
  lab::LabSettings settings;
  settings.speed = o.speed;
  settings.boot_ms = static_cast<int64_t>(o.boot_s * 1000);
  if (inv && !inv->nodes.front().bmc.username.empty())
    settings.bmc_username = inv->nodes.front().bmc.username;
  Status s = rack.Prepare(settings, nodes);
  if (!s.ok()) return Fail("up", s.error());
  s = rack.Start(SelfExe(), *password);
  if (!s.ok()) return Fail("up", s.error());
  std::cout << "lab up: " << nodes.size() << " nodes in " << rack.dir() << " (supervisor pid "
            << rack.SupervisorPid() << ", speed " << o.speed << ")\n"
            << "client key: " << rack.dir() << "/keys/client_ed25519\n";
  return kExitOk;
}

int LabServe(const LabOptions& o) {
  lab::LabRack rack(LabDir(o));
  const char* pw = std::getenv("RACKSMITH_LAB_SIM_PASSWORD");
  std::string password = pw ? pw : "";
  ::unsetenv("RACKSMITH_LAB_SIM_PASSWORD");  // never passed on to the nodes' sshds
  Status s = rack.Serve(password);
  return s.ok() ? kExitOk : Fail("serve", s.error());
}

int LabStatus(const LabOptions& o) {
  lab::LabRack rack(LabDir(o));
  auto status = rack.NodeStatuses();
  if (!status.ok()) return Fail("status", status.error());
  int sup = rack.SupervisorPid();
  if (o.json) {
    nlohmann::json j = {{"dir", rack.dir()},
                        {"supervisor_pid", sup > 0 ? nlohmann::json(sup) : nlohmann::json()},
                        {"nodes", nlohmann::json::array()}};
    for (const auto& n : *status) {
      j["nodes"].push_back({{"name", n.name},
                            {"ssh", n.ssh},
                            {"bmc", n.bmc},
                            {"power", n.power},
                            {"sshd", n.sshd},
                            {"sshd_pid", n.sshd_pid > 0 ? nlohmann::json(n.sshd_pid) : nullptr},
                            {"boot_id", n.boot_id},
                            {"faults", n.faults}});
    }
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "lab " << rack.dir() << ": "
            << (sup > 0 ? "running, supervisor pid " + std::to_string(sup) : "stopped") << "\n";
  for (const auto& n : *status) {
    std::cout << n.name << " ssh=" << n.ssh << " bmc=" << n.bmc << " power=" << n.power
              << " sshd=" << n.sshd;
    if (n.sshd_pid > 0) std::cout << "(" << n.sshd_pid << ")";
    std::cout << " boot_id=" << n.boot_id;
    if (!n.faults.empty()) {
      std::cout << " faults=";
      for (size_t i = 0; i < n.faults.size(); ++i) std::cout << (i ? "," : "") << n.faults[i];
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int LabRequest(const char* cmd, const LabOptions& o, const std::string& request) {
  lab::LabRack rack(LabDir(o));
  auto answer = rack.Request(o.node, request);
  if (!answer.ok()) return Fail(cmd, answer.error());
  std::cout << o.node << ": " << *answer << "\n";
  return kExitOk;
}

int LabPower(const LabOptions& o) {
  static const std::map<std::string, std::string> kResets = {{"on", "On"},
                                                             {"off", "ForceOff"},
                                                             {"shutdown", "GracefulShutdown"},
                                                             {"reset", "ForceRestart"},
                                                             {"cycle", "PowerCycle"}};
  return LabRequest("power", o, "power " + kResets.at(o.arg));
}

int LabDown(const LabOptions& o) {
  lab::LabRack rack(LabDir(o));
  auto stopped = rack.Down();
  if (!stopped.ok()) return Fail("down", stopped.error());
  std::cout << "lab down: stopped " << *stopped << " processes\n";
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
  CLI::App* up = lab->add_subcommand(
      "up", "Start the nodes of the inventory (-i), or --nodes N generic ones, and their BMCs");
  up->add_option("--nodes", o->nodes, "N generic nodes lab-n01.. on 127.0.2.[1-N] instead")
      ->check(CLI::Range(1, 254));
  up->add_option("--port", o->port, "SSH port of every node (default: the inventory's; 2222)");
  up->add_option("--bmc-port", o->bmc_port, "BMC port of generic nodes")->capture_default_str();
  up->add_option("--speed", o->speed, "Divide every power and boot delay by this")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  up->add_option("--boot-seconds", o->boot_s, "A node's boot time before --speed")
      ->capture_default_str();
  up->callback([&ctx, o] { ctx.action = [o, &ctx] { return LabUp(*o, ctx); }; });
  lab->add_subcommand("serve", "The lab's supervisor (started by `lab up`; not for users)")
      ->callback(set(LabServe));
  CLI::App* status = lab->add_subcommand("status", "Each node's power, sshd, boot_id, faults");
  status->add_flag("--json", o->json, "JSON output");
  status->callback(set(LabStatus));
  CLI::App* power = lab->add_subcommand("power", "Power a node through its simulated BMC");
  power->add_option("node", o->node)->required();
  power->add_option("action", o->arg, "on, off, shutdown, reset or cycle")
      ->required()
      ->check(CLI::IsMember({"on", "off", "shutdown", "reset", "cycle"}));
  power->callback(set(LabPower));
  CLI::App* reimage = lab->add_subcommand("reimage", "Restart a node from a fresh image");
  reimage->add_option("node", o->node)->required();
  reimage->callback(
      set(+[](const LabOptions& opt) { return LabRequest("reimage", opt, "reimage"); }));
  CLI::App* fault = lab->add_subcommand(
      "fault",
      "Inject a fault: gpu-missing[=GPU] ecc[=GPU] xid=CODE[@GPU] thermal[=GPU] "
      "pcie-width=N[@GPU] hang pxe-fails bmc-500 bmc-503 bmc-hang bmc-drop bmc-slow bmc-html "
      "bmc-gpu-missing bmc-expire-sessions bmc-reboot clear");
  fault->add_option("node", o->node)->required();
  fault->add_option("fault", o->arg)->required();
  fault->callback(
      set(+[](const LabOptions& opt) { return LabRequest("fault", opt, "fault " + opt.arg); }));
  lab->add_subcommand("down", "Stop every process this lab started")->callback(set(LabDown));
}

}  // namespace racksmith::cli
