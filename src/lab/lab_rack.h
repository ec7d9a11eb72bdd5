// racksmith/lab: the simulated rack on loopback (a test and demo harness; production code
// never asks whether it talks to it). See docs/lab.md.
//
// Contract:
// - A lab lives in one directory. Prepare() lays it out for a list of LabNodeSpec (from an
//   inventory or generic): keys, a fresh image, each node's writable root, sshd config,
//   facts file and simulated tools. Every address is in 127.0.0.0/8; others are refused.
// - Start() launches the supervisor (`racksmith lab --dir DIR serve`, daemonized) and waits
//   until it is ready. Serve() is the supervisor: it hosts the nodes' simulated Redfish BMCs
//   and runs one OpenSSH sshd per powered-on node. Power is the BMC's: off stops the node's
//   sshd and its sessions; on starts it after the boot time / speed; a restart drops the
//   sessions and boots with a new boot_id; a boot with a Pxe override (or `Reimage`) starts
//   from a fresh copy of the image.
// - Every process the lab starts is recorded by pid under the directory (serve.pid,
//   nodes/NODE/sshd.pid); Down() stops only those, after checking each pid is still ours.
// - Requests (power, reimage, faults) go to the running supervisor through files under
//   DIR/requests/; Request() waits for its answer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace racksmith::inventory {
struct Inventory;
}

namespace racksmith::lab {

/// One simulated node.
struct LabNodeSpec {
  std::string name;
  std::string ip;  // SSH address, 127.0.0.0/8
  int ssh_port = 22;
  std::string bmc_scheme = "https";  // "http" or "https"
  std::string bmc_ip;                // 127.0.0.0/8
  int bmc_port = 443;
  std::string mac;
  std::string gpu_model;  // as nvidia-smi prints it; empty: no GPUs
  int gpu_count = 0;
  bool nvswitch = false;
  int memory_gib = 0;
  int cpus = 0;
  struct Drives {
    std::string type;  // nvme, ssd, hdd
    int count = 1;
    int64_t size_gb = 0;
  };
  std::vector<Drives> drives;
  std::string bios_version = "2.19.1";
  std::string bmc_version = "7.10.30.00";
  std::string driver_version = "550.127.05";
  std::string cuda_version = "12.4";
};

struct LabSettings {
  double speed = 10;         // 10: every delay ten times shorter
  int64_t boot_ms = 60'000;  // the OS boot after power on, before SSH answers
  std::string bmc_username = "admin";
};

/// The nodes of `inv`, in inventory order. Refuses (InvalidInput naming the node) an ip or
/// a BMC address outside 127.0.0.0/8, or a BMC address that is not a plain host[:port] or
/// http(s) URL. `ssh_port` > 0 overrides every node's SSH port.
Result<std::vector<LabNodeSpec>> NodesFromInventory(const inventory::Inventory& inv,
                                                    int ssh_port = 0);
/// lab-n01..lab-nNN on 127.0.2.N:ssh_port, BMC http://127.0.1.N:bmc_port, 4 RTX 3090 each.
std::vector<LabNodeSpec> GenericNodes(int count, int ssh_port, int bmc_port);
/// True if `address` is an IPv4 address in 127.0.0.0/8.
bool IsLoopbackV4(const std::string& address);

struct LabNodeStatus {
  std::string name;
  std::string ssh;    // "ip:port"
  std::string bmc;    // BMC base URL
  std::string power;  // the BMC's: On, Off (PoweringOn/Off while it changes)
  std::string sshd;   // up, booting, down, hung
  int sshd_pid = -1;
  std::string boot_id;
  std::vector<std::string> faults;  // as given to `lab fault`
};

class LabRack {
 public:
  explicit LabRack(std::string dir);
  const std::string& dir() const { return dir_; }

  /// Lays out the directory for `nodes` (idempotent: existing node roots are kept).
  Status Prepare(const LabSettings& settings, const std::vector<LabNodeSpec>& nodes);
  /// Starts the supervisor as a daemon running `self_exe lab --dir DIR serve` and waits
  /// until every powered-on node answers on its SSH address. kConflict if one runs already.
  /// `bmc_password` (what the simulated BMCs accept) goes to the supervisor in its
  /// environment, never into the directory.
  Status Start(const std::string& self_exe, const std::string& bmc_password,
               int64_t timeout_ms = 60'000);
  /// The supervisor, in this process, until SIGTERM or SIGINT. Stops its sshds on the way out.
  Status Serve(const std::string& bmc_password);
  /// pid of the running supervisor, or -1.
  int SupervisorPid() const;
  Result<std::vector<LabNodeStatus>> NodeStatuses() const;
  /// Asks the supervisor: "power On|ForceOff|GracefulShutdown|ForceRestart|PowerCycle|...",
  /// "reimage", "fault SPEC" (see docs/lab.md). Returns its answer or its error.
  Result<std::string> Request(const std::string& node, const std::string& request,
                              int64_t timeout_ms = 30'000) const;
  /// Stops the supervisor and any recorded sshd still running; returns how many processes
  /// it stopped.
  Result<int> Down();

 private:
  std::string dir_;
};

}  // namespace racksmith::lab
