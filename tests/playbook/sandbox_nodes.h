// Real sshd nodes for playbook integration tests: one OpenSSH sshd listening on
// 127.0.9.[1-N] (addresses no other test uses), whose every session runs inside a bubblewrap
// sandbox with the node's own /etc /var /opt /root /tmp (tests/playbook/sandbox-shell.sh), so
// that a playbook really writes files and the test can look at them from outside.
#pragma once

#include <sys/types.h>

#include <string>

#include "support/temp_dir.h"

namespace racksmith::playbook::testing {

class SandboxNodes {
 public:
  explicit SandboxNodes(int count);
  ~SandboxNodes();
  SandboxNodes(const SandboxNodes&) = delete;
  SandboxNodes& operator=(const SandboxNodes&) = delete;

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string address(int i) const { return "127.0.9." + std::to_string(i); }
  /// "pb-n01" for i = 1.
  std::string name(int i) const;
  const std::string& key() const { return key_; }
  const std::string& dir() const { return dir_.path(); }
  /// Host path of `path` inside node i's sandbox (path starts with /etc, /var, /opt, ...).
  std::string Path(int i, const std::string& path) const;

 private:
  racksmith::testing::TempDir dir_;
  std::string key_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace racksmith::playbook::testing
