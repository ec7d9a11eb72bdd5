#include "ssh/sshd_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace racksmith::testing {
namespace {

void Run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

SshdFixture::SshdFixture(const std::string& host_key_type) : host_key_type_(host_key_type) {
  const std::string& d = dir_.path();
  Run("ssh-keygen -q -t ed25519 -N '' -f " + d + "/client_ed25519");
  Run("ssh-keygen -q -t rsa -b 2048 -N '' -f " + d + "/client_rsa");
  Run("cat " + d + "/client_ed25519.pub " + d + "/client_rsa.pub > " + d + "/authorized_keys");
  Run("ssh-keygen -q -t " + host_key_type_ + " -N '' -f " + d + "/host_key");
  ::mkdir("/run/sshd", 0755);  // sshd's privilege separation dir; absent without systemd
  port_ = FreeLoopbackPort();
  std::ofstream(d + "/sshd_config")
      << "Port " << port_
      << "\nListenAddress 127.0.0.1\nListenAddress 127.0.3.1\nListenAddress 127.0.3.2\n"
         "ListenAddress 127.0.3.3\nHostKey "
      << d << "/host_key\nPidFile none\nAuthorizedKeysFile " << d
      << "/authorized_keys\nStrictModes no\nPasswordAuthentication no\n"
         "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\n"
         "Subsystem sftp /usr/lib/openssh/sftp-server\nLogLevel ERROR\nMaxSessions 64\n"
         "MaxStartups 200\n"
         // Keep the host's ~/.bashrc (bash sources it for ssh sessions) out of the test.
         "SetEnv HOME=" << d << "\n";
  Start();
}

void SshdFixture::Start() {
  std::string cfg = dir_.path() + "/sshd_config";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", cfg.c_str(), nullptr);
    ::_exit(127);
  }
  for (int i = 0; i < 1000 && !CanConnect(port_); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void SshdFixture::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void SshdFixture::RegenerateHostKeyAndRestart() {
  Stop();
  Run("rm -f " + dir_.path() + "/host_key " + dir_.path() + "/host_key.pub");
  Run("ssh-keygen -q -t " + host_key_type_ + " -N '' -f " + dir_.path() + "/host_key");
  Start();
}

SshdFixture::~SshdFixture() { Stop(); }

transport::Endpoint SshdFixture::Endpoint(const std::string& name,
                                          const std::string& key_type) const {
  transport::Endpoint e;
  e.node = name;
  e.address = "127.0.0.1";
  e.port = port_;
  e.user = "root";
  e.key_path = dir_.path() + "/client_" + key_type;
  return e;
}

}  // namespace racksmith::testing
