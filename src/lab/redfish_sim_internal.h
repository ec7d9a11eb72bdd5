// racksmith/lab (internal): the state of one simulated BMC and the tree built from it.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "lab/redfish_sim.h"

namespace racksmith::lab {

struct RedfishSim::Bmc {
  SimNode node;
  const SimOptions* options = nullptr;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::string url;

  std::mutex mu;
  std::condition_variable fault_changed;  // wakes hung handlers
  bool stopping = false;
  int64_t requests = 0;
  SimFault fault = SimFault::kNone;
  int fault_count = -1;

  std::string power = "Off";  // On, Off, PoweringOn, PoweringOff
  std::string power_next;     // the state a transition ends in
  int64_t power_due_ms = 0;
  uint64_t power_epoch = 0;  // incremented each time the node loses power
  std::string boot_target = "None";
  std::string boot_enabled = "Disabled";
  std::string boot_mode = "UEFI";
  int etag = 1;
  std::string media_image;
  bool media_inserted = false;
  std::map<std::string, std::string> sessions;  // token -> session id
  int next_session = 1;
  struct Task {
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    std::string name;       // "Firmware update BIOS", "Secure erase Disk.1"
    std::string component;  // "BIOS" or "BMC"; empty for an erase
    std::string version;
    bool fails = false;        // ends in Exception at half way
    bool applied = false;      // its effect happened (or was staged)
    bool interrupted = false;  // the BMC restarted while it ran
  };
  std::map<std::string, Task> tasks;  // id -> task
  int next_task = 1;
  std::map<std::string, std::string> firmware;  // component -> version
  std::map<std::string, std::string> staged;    // component -> version at the next power loss
  int64_t down_until_ms = 0;                    // kBmcReboot: connections cut until then
  // A power transition or a task is under way: the ticker (RedfishSim::Tick) advances only
  // these BMCs, without taking the lock of every idle one 50 times a second.
  std::atomic<bool> pending{false};
  struct LogEntry {
    int id = 0;
    std::string created;  // ISO 8601, UTC
    std::string severity;  // OK, Warning, Critical
    std::string message;
  };
  std::vector<LogEntry> sel;  // newest last, at most 200
  int next_log = 1;
};

/// Appends an entry to the BMC's SEL. REQUIRES: bmc.mu held.
void SimLog(RedfishSim::Bmc& bmc, const std::string& severity, const std::string& message);

/// Milliseconds on the monotonic clock.
int64_t SimNowMs();
/// The resource at `key` (path below /redfish/v1, no slashes at either end) as the BMC now
/// holds it; found is false for a path it does not have. REQUIRES: bmc.mu held.
nlohmann::json SimResource(const RedfishSim::Bmc& bmc, const std::string& key, bool* found);

}  // namespace racksmith::lab
