// Internal to racksmith/ssh: one authenticated libssh session to one node.
// Not thread-safe: the pool serialises calls on a session.
#pragma once

#include <memory>
#include <string>

#include "transport/transport.h"

struct ssh_session_struct;

namespace racksmith::ssh {

class SshSession {
 public:
  /// Connects, verifies the host key against `host_keys`, authenticates.
  static Result<std::unique_ptr<SshSession>> Open(const transport::Endpoint& node,
                                                  transport::HostKeyStore& host_keys,
                                                  std::chrono::milliseconds timeout);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  Result<transport::ExecResult> Exec(const transport::ExecRequest& request);
  Status Upload(const transport::UploadRequest& request);
  Result<std::string> Download(const std::string& remote_path);
  /// False once the connection broke; the pool then reconnects.
  bool alive() const;

 private:
  SshSession(const transport::Endpoint& node, ssh_session_struct* session)
      : node_(node), session_(session) {}
  Error Fail(ErrorCode code, const std::string& what) const;

  transport::Endpoint node_;
  ssh_session_struct* session_;
};

}  // namespace racksmith::ssh
