// racksmith/redfish: the Redfish driver behind bmc::Bmc, for many BMCs at once.
//
// Contract:
// - A RedfishFleet owns one HTTP event loop (libcurl multi, its own thread) that every BMC
//   it connects shares, with a global and a per-BMC limit on requests in flight.
// - Connect(target) gives a bmc::Bmc for one endpoint. Bmcs for the same endpoint and user
//   share one client, so one Redfish session per BMC per run, reused by every call.
// - CloseAll() deletes every open session; it is thread-safe and is what a SIGINT watcher
//   calls (see InterruptWatcher). The destructor calls it too.
// - TLS is verified unless a target says insecure; then a warning is logged for that BMC on
//   every run. Nothing here logs, prints or stores a password or a session token.
// - The Bmc objects must not outlive their fleet.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "bmc/bmc.h"
#include "redfish/http_engine.h"
#include "redfish/redfish_client.h"

namespace racksmith::redfish {

struct FleetOptions {
  EngineOptions engine;
  ClientOptions client;
};

class RedfishFleet {
 public:
  explicit RedfishFleet(FleetOptions options = {});
  ~RedfishFleet();
  RedfishFleet(const RedfishFleet&) = delete;
  RedfishFleet& operator=(const RedfishFleet&) = delete;

  std::unique_ptr<bmc::Bmc> Connect(const Target& target);
  /// Logs out of every BMC, for good: the fleet's Bmcs fail from then on instead of logging
  /// in again. Returns the number of sessions that could not be deleted.
  int CloseAll();
  EngineStats Stats() const { return engine_.Stats(); }

 private:
  FleetOptions options_;
  HttpEngine engine_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<RedfishClient>> clients_;
};

/// Deletes sessions on SIGINT/SIGTERM: the signal handler only writes a byte to a pipe
/// (async-signal-safe); a thread reads it, calls fleet.CloseAll() and exits with 130.
/// While it exists it owns SIGINT and SIGTERM; the destructor restores the old handlers.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(RedfishFleet& fleet);
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace racksmith::redfish
