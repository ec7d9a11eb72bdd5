// racksmith/cli (internal to `exec` and `copy`): which nodes an SSH command reaches and how.
//
// Contract:
// - By default the nodes are a SELECTION of the inventory (hostlist and selectors, see
//   docs/inventory.md); each node is reached at its `ip` with the inventory's ssh user, port
//   and key, and is named (in output and in the host key store) by its inventory name.
// - With --hosts HOSTLIST the nodes are raw SSH addresses, named by the address; no inventory
//   is read.
// - --user/--key/--port/--agent override the inventory's values when given.
// - These commands change machines, so they never default to every node: the selection must
//   be given, and a selection made only of exclusions ("!n03") is refused; "all" is explicit.
// - A key given as {env: NAME} is resolved at the last moment into an anonymous in-memory
//   file (memfd) that only this process can open and that is gone when it exits; it is never
//   written to disk, printed or logged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/cli.h"
#include "state/store.h"
#include "transport/transport.h"

namespace racksmith::cli {

/// Flags shared by `exec` and `copy`.
struct SshTargetFlags {
  std::string selection;  // positional: inventory selection
  std::string hosts;      // --hosts: raw SSH addresses instead of the inventory
  std::string user;       // --user; empty: the inventory's (or root with --hosts)
  std::string key;        // --key; empty: the inventory's
  bool agent = false;     // --agent
  int port = 0;           // --port; 0: the inventory's (or 22 with --hosts)
};

/// One node to reach, or why it cannot be (a missing ip, an unset key variable).
struct SshTarget {
  transport::Endpoint endpoint;  // endpoint.node is the name output groups by
  std::string error;
};

/// The resolved nodes. Owns the in-memory key files of {env:} keys; keep it alive until the
/// transport has finished with the endpoints.
class SshTargets {
 public:
  SshTargets() = default;
  ~SshTargets();
  SshTargets(const SshTargets&) = delete;
  SshTargets& operator=(const SshTargets&) = delete;

  std::vector<SshTarget> nodes;
  /// A path to an in-memory copy of `content` ("/proc/self/fd/N"), or "" with *error set.
  std::string KeepInMemory(const std::string& content, std::string* error);

 private:
  std::vector<int> fds_;
};

/// Adds the positional SELECTION (described with `selection_help`) and --hosts, --user,
/// --key, --agent, --port.
void AddSshTargetFlags(CLI::App* cmd, SshTargetFlags& flags);

/// Resolves the nodes. On a usage problem prints "racksmith <command>: <why>" to stderr and
/// returns false with *exit_code set (2).
bool ResolveSshTargets(const CliContext& ctx, const SshTargetFlags& flags,
                       const std::string& command, SshTargets* targets, int* exit_code);

/// The SSH transport a command uses, with host keys verified against (and first contacts
/// recorded in) the state store given by --state. Members are destroyed in reverse order.
struct SshSession {
  SystemClock clock;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<transport::HostKeyStore> host_keys;
  std::unique_ptr<transport::Transport> transport;
};

/// Opens the store (creating it if missing) and an SSH transport with `connect_timeout_s`
/// (0: the transport's default). On failure prints "racksmith <command>: <why>" and returns
/// nullptr.
std::unique_ptr<SshSession> OpenSshSession(const CliContext& ctx, const std::string& command,
                                           double connect_timeout_s = 0);

}  // namespace racksmith::cli
