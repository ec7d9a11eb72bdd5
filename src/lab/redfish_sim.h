// racksmith/lab: a fleet of simulated Redfish BMCs for the lab (a test and demo harness;
// production code never asks whether it talks to it).
//
// Contract:
// - One RedfishSim serves N BMCs from one process, each on its own address (127.0.x.y) and
//   port, over HTTP or HTTPS. Each BMC's tree is built from its SimNode (hardware, MAC,
//   firmware) and shaped like the DMTF mockups: /redfish/v1 -> Systems/1 (Processors with
//   CPUs and GPUs as ProcessorType GPU, EthernetInterfaces, Boot, ComputerSystem.Reset),
//   Chassis/1, Managers/BMC (VirtualMedia/CD1 with Insert/EjectMedia), SessionService,
//   UpdateService (FirmwareInventory, SimpleUpdate -> a task), TaskService.
// - Sessions are required (X-Auth-Token from POST SessionService/Sessions, or HTTP Basic).
// - Power transitions take SimOptions' durations divided by `speed`. The power state is
//   written to <lab_dir>/nodes/<node>/power ("On" or "Off", read by the lab's SSH nodes) and
//   a boot override to <lab_dir>/nodes/<node>/boot_override ("Pxe Once", "None Disabled").
// - Faults are injected per node: HTTP 500/503 answers, a hung BMC, dropped connections, a
//   GPU that falls off the bus, slow answers, HTML instead of JSON, expired sessions, a BMC
//   that restarts in the middle of a task.
// - Firmware: SimpleUpdate starts a task that progresses; an image whose name contains
//   "corrupt" fails at half way (TaskState Exception). A BMC image applies when its task
//   completes (the BMC restarts itself); a BIOS image is staged and applies at the host's
//   next loss of power (ForceRestart, PowerCycle, ForceOff + On), as real BIOSes do.
// - Each power change, firmware task and fault is written to the system's SEL log service.
// - The lab's supervisor (lab_rack.cc) shares power with the node through PowerState,
//   PowerEpoch (counts every loss of power) and TakeBootOverride (the target of the boot
//   that is starting; a "Once" override is consumed).
// - Thread-safe. Stop() (or the destructor) ends every server.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace racksmith::lab {

struct SimGpu {
  std::string model = "NVIDIA A100-SXM4-80GB";
  std::string serial;
  int64_t memory_mib = 81920;
};

struct SimDrive {
  std::string model = "Lab NVMe 1.92TB";
  std::string serial;
  int64_t capacity_bytes = 1'920'383'410'176;
  std::string media_type = "SSD";  // SSD or HDD
  std::string protocol = "NVMe";   // NVMe, SATA, SAS
};

struct SimNode {
  std::string name;
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port (see RedfishSim::Url)
  std::string manufacturer = "Racksmith Lab";
  std::string model = "Lab GPU Server";
  std::string serial;
  int cpus = 2;
  std::string cpu_model = "Lab CPU 32-Core";
  int cores_per_cpu = 32;
  int memory_gib = 256;
  std::vector<SimGpu> gpus;
  std::vector<SimDrive> drives;
  std::string mac = "02:00:00:00:00:01";
  std::string bios_version = "2.19.1";
  std::string bmc_version = "7.10.30.00";
  std::string initial_power = "Off";  // used when <lab_dir>/nodes/<node>/power does not exist
  /// This BMC's own certificate and key (PEM files), as real BMCs each have one; empty:
  /// SimOptions' shared pair.
  std::string tls_cert;
  std::string tls_key;
};

struct SimOptions {
  std::string lab_dir;  // empty: no files written
  double speed = 1.0;   // 10: everything ten times faster
  std::string username = "admin";
  std::string password;  // the accepted password
  std::string tls_cert;  // PEM files: HTTPS when both are set
  std::string tls_key;
  int64_t power_on_ms = 5'000;
  int64_t power_off_ms = 3'000;  // graceful shutdown
  int64_t firmware_update_ms = 20'000;
  int64_t erase_ms = 10'000;       // Drive.SecureErase
  int64_t bmc_reboot_ms = 30'000;  // SimFault::kBmcReboot: how long the BMC is away
  int64_t slow_ms = 3'000;  // added latency of SimFault::kSlow (not scaled by speed)
  /// Worker threads of each BMC's server: a kept-alive connection holds one. Real BMCs
  /// serve a handful of clients at once; bench/redfish runs 1,000 BMCs with 2.
  int threads_per_bmc = 4;
  /// How long an idle kept-alive connection stays open. The HTTP server watches each idle
  /// connection by waking every few milliseconds, so at a thousand BMCs a long timeout
  /// costs the simulator more CPU than the requests do (bench/redfish uses 1).
  int keep_alive_timeout_s = 5;
  /// Called each time a node loses power (ForceOff, a graceful shutdown ending, a restart or
  /// cycle), on the thread that cut it and before the request that did so is answered, so
  /// that a client told "Off" finds the node already down. Runs with the BMC's lock held:
  /// it must not call back into the RedfishSim.
  std::function<void(const std::string& node)> on_power_loss;
};

enum class SimFault {
  kNone,
  kHttp500,         // every request answers 500
  kHttp503,         // every request answers 503 with Retry-After: 1
  kHang,            // requests are never answered (until the fault is cleared)
  kDropConnection,  // the answer is cut off after the headers
  kGpuMissing,      // the last GPU is gone from the tree
  kSlow,            // every answer is delayed by SimOptions::slow_ms
  kWrongContentType,  // answers 200 with an HTML login page instead of JSON
  kExpireSessions,    // once: every session ends (as after the BMC's idle timeout)
  kBmcReboot,         // once: the BMC restarts: for bmc_reboot_ms/speed every connection is
                      // cut, then sessions are gone and running tasks are Interrupted
};

class RedfishSim {
 public:
  explicit RedfishSim(SimOptions options);
  ~RedfishSim();
  RedfishSim(const RedfishSim&) = delete;
  RedfishSim& operator=(const RedfishSim&) = delete;

  /// Starts serving `node`'s BMC. Fails if the name is taken or the address cannot be bound.
  Status AddNode(const SimNode& node);
  /// "http(s)://address:port" of the node's BMC, or "" for an unknown node.
  std::string Url(const std::string& node) const;
  /// Sets the node's fault; `count` > 0 limits it to that many requests (kHttp* only).
  Status InjectFault(const std::string& node, SimFault fault, int count = -1);
  /// "On", "Off", "PoweringOn", "PoweringOff", or "" for an unknown node.
  std::string PowerState(const std::string& node) const;
  /// How many times the node has lost power (ForceOff, shutdown done, restart, cycle).
  uint64_t PowerEpoch(const std::string& node) const;
  /// Resets the node as ComputerSystem.Reset with `reset_type` would (On, ForceOff,
  /// GracefulShutdown, GracefulRestart, ForceRestart, PowerCycle).
  Status Reset(const std::string& node, const std::string& reset_type);
  /// The boot override target now in effect ("Pxe", "Cd", ...; "" when disabled). A
  /// "Once" override is consumed: the BMC shows None/Disabled afterwards.
  std::string TakeBootOverride(const std::string& node);
  int LiveSessions(const std::string& node) const;
  /// Number of requests the node's BMC has answered (or refused).
  int64_t Requests(const std::string& node) const;
  void Stop();

  struct Bmc;  // one simulated BMC (redfish_sim.cc)

 private:
  Bmc* Find(const std::string& node) const;
  void Tick();

  SimOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Bmc>> bmcs_;
  bool stopping_ = false;
  std::thread ticker_;
};

}  // namespace racksmith::lab
