// A real OpenSSH sshd on 127.0.0.1 for tests: generated host and client keys in a temp
// dir, key-only, never touching ~/.ssh. Stops (by its pid) on destruction.
#pragma once

#include <sys/types.h>

#include <string>

#include "support/temp_dir.h"
#include "transport/transport.h"

namespace racksmith::testing {

class SshdFixture {
 public:
  /// host_key_type: "ed25519" or "rsa".
  explicit SshdFixture(const std::string& host_key_type = "ed25519");
  ~SshdFixture();
  SshdFixture(const SshdFixture&) = delete;
  SshdFixture& operator=(const SshdFixture&) = delete;

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  /// An endpoint for node `name` using the generated client key of `key_type`.
  transport::Endpoint Endpoint(const std::string& name = "n1",
                               const std::string& key_type = "ed25519") const;
  void Stop();
  /// Restarts sshd with a freshly generated host key (a "reinstalled" node).
  void RegenerateHostKeyAndRestart();

 private:
  void Start();
  TempDir dir_;
  std::string host_key_type_;
  int port_ = 0;
  pid_t pid_ = -1;
};

/// A TCP port on 127.0.0.1 that nothing listens on right now.
int FreeLoopbackPort();

}  // namespace racksmith::testing
