// racksmith/ssh: the Transport over SSH (libssh 0.10, SFTP).
//
// Contract:
// - Implements transport::Transport. One pooled connection per node, at most
//   options.max_open_connections open at once (the least recently used idle one is closed).
//   Callers run nodes in parallel from their own threads (blocking I/O per connection;
//   see docs/ssh.md for why threads and not one non-blocking loop).
// - Never reads ~/.ssh/config, known_hosts or identity files on its own: the key comes from
//   Endpoint::key_path, the agent only when Endpoint::use_agent, host keys from the
//   HostKeyStore given here (which must outlive this object).
// - Private keys and passphrases are never logged or put in messages.
#pragma once

#include <memory>

#include "transport/transport.h"

namespace racksmith::ssh {

class SshTransport : public transport::Transport {
 public:
  SshTransport(transport::HostKeyStore& host_keys, transport::TransportOptions options = {});
  ~SshTransport() override;
  SshTransport(const SshTransport&) = delete;
  SshTransport& operator=(const SshTransport&) = delete;

  Result<transport::ExecResult> Exec(const transport::Endpoint& node,
                                     const transport::ExecRequest& request) override;
  Status Upload(const transport::Endpoint& node, const transport::UploadRequest& request) override;
  Result<std::string> Download(const transport::Endpoint& node,
                               const std::string& remote_path) override;
  void Disconnect(const std::string& node) override;

 private:
  class Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace racksmith::ssh
