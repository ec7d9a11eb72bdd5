// racksmith/transport: running commands and moving files on nodes, behind one interface.
//
// Contract:
// - A `Transport` runs commands (`Exec`) and moves files (`Upload`, `Download`) on a node
//   named by an `Endpoint`. Implementations pool connections: every call for the same node
//   reuses one connection; callers never open or close connections themselves.
// - Failures are values: kUnreachable (could not connect or authenticate), kTimeout (the
//   connect or the command ran past its limit), kConflict (the node's host key changed),
//   kIo (file transfer failed). Messages name the node and its address.
// - A command that ran and exited non-zero is NOT an error: its exit status is in ExecResult.
// - Host keys are checked on every connection through a `HostKeyStore`: first contact
//   records the key, a different key refuses the node. There is no accept-all mode.
// - Thread-safety: Transport and HostKeyStore implementations are safe to call from many
//   threads at once; calls for one node are serialised on its connection.
// This header includes no libssh: tests use fakes, the CLI wires in ssh::SshTransport.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::transport {

/// Where and as whom to reach a node.
struct Endpoint {
  std::string node;     // inventory name; the key of the host key record and the pool
  std::string address;  // IP or host name
  int port = 22;
  std::string user = "root";
  std::string key_path;    // private key file (ed25519 or RSA); empty: agent only
  bool use_agent = false;  // try ssh-agent ($SSH_AUTH_SOCK) only when asked
};

/// Called with each chunk of output as it arrives (not split at lines).
using OutputCallback = std::function<void(std::string_view chunk)>;

struct ExecRequest {
  std::string command;
  /// Limit for the command itself. Default: 0 = no limit.
  std::chrono::milliseconds timeout{0};
  /// Streams; when unset, the output is collected into ExecResult instead.
  OutputCallback on_stdout;
  OutputCallback on_stderr;
  /// Set to true from any thread to stop the command (the channel is closed). May be null.
  const std::atomic<bool>* cancel = nullptr;
};

struct ExecResult {
  int exit_status = -1;     // -1 when the command died by a signal or gave none
  std::string stdout_text;  // only when no on_stdout callback was given
  std::string stderr_text;  // only when no on_stderr callback was given
  std::chrono::milliseconds elapsed{0};
};

struct UploadRequest {
  std::string content;      // the file's bytes
  std::string remote_path;  // absolute
  int mode = 0644;
  std::optional<int> uid;  // chown when set
  std::optional<int> gid;
};

/// Per-connection limits and behaviour. Defaults suit a cluster controller.
struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10000};  // TCP connect + handshake + auth
  int max_open_connections = 256;  // pooled connections kept open at once (LRU closed)
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<ExecResult> Exec(const Endpoint& node, const ExecRequest& request) = 0;
  /// Writes a temp file in the same folder, sets mode (and owner), checks its sha256 on the
  /// node, then renames it over remote_path: readers see the old or the new file, never half.
  virtual Status Upload(const Endpoint& node, const UploadRequest& request) = 0;
  virtual Result<std::string> Download(const Endpoint& node, const std::string& remote_path) = 0;
  /// Closes the pooled connection of a node, if any (after a reboot or a host key change).
  virtual void Disconnect(const std::string& node) = 0;
};

/// Where host keys live. key_type is libssh's/OpenSSH's name ("ssh-ed25519"), key the
/// base64 public key.
class HostKeyStore {
 public:
  virtual ~HostKeyStore() = default;
  virtual Result<std::optional<std::string>> Lookup(std::string_view node,
                                                    std::string_view key_type) = 0;
  virtual Status Record(std::string_view node, std::string_view address, std::string_view key_type,
                        std::string_view key) = 0;
  /// Returns how many keys were forgotten.
  virtual Result<int> Forget(std::string_view node) = 0;
};

/// What a host key check concluded.
enum class HostKeyVerdict { kKnown, kFirstContact, kChanged };

/// Compares a presented key with the store and records it on first contact. kChanged comes
/// back as a kConflict error whose message says how to accept a legitimately new key.
Result<HostKeyVerdict> CheckHostKey(HostKeyStore& store, const Endpoint& node,
                                    std::string_view key_type, std::string_view key);

/// Host keys in memory, for tests and one-shot runs.
class InMemoryHostKeyStore : public HostKeyStore {
 public:
  Result<std::optional<std::string>> Lookup(std::string_view node,
                                            std::string_view key_type) override;
  Status Record(std::string_view node, std::string_view address, std::string_view key_type,
                std::string_view key) override;
  Result<int> Forget(std::string_view node) override;

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::string> keys_;  // GUARDED_BY(mu_)
};

}  // namespace racksmith::transport
