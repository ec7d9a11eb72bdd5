#include "playbook/sandbox_nodes.h"
#include "support/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/cli_runner.h"

namespace racksmith::playbook::testing {
namespace {

bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

}  // namespace

std::string SandboxNodes::name(int i) const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "pb-n%02d", i);
  return buf;
}

std::string SandboxNodes::Path(int i, const std::string& path) const {
  return dir_.path() + "/nodes/" + name(i) + "/root" + path;
}

SandboxNodes::SandboxNodes(int count) {
  namespace fs = std::filesystem;
  const std::string& d = dir_.path();
  key_ = d + "/client_ed25519";
  if (!Sh("ssh-keygen -q -t ed25519 -N '' -f " + key_) ||
      !Sh("ssh-keygen -q -t ed25519 -N '' -f " + d + "/host_key") ||
      !Sh("cp " + key_ + ".pub " + d + "/authorized_keys")) {
    return;
  }
  ::mkdir("/run/sshd", 0755);
  port_ = racksmith::testing::FreeLoopbackPort("127.0.9.1");
  std::string shell = racksmith::testing::SourcePath("tests/playbook/sandbox-shell.sh");
  std::ofstream cfg(d + "/sshd_config");
  cfg << "Port " << port_ << "\n";
  for (int i = 1; i <= count; ++i) cfg << "ListenAddress " << address(i) << "\n";
  cfg << "HostKey " << d << "/host_key\nPidFile none\nAuthorizedKeysFile " << d
      << "/authorized_keys\nStrictModes no\nPasswordAuthentication no\n"
         "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\n"
         "Subsystem sftp internal-sftp\nLogLevel ERROR\nMaxSessions 64\n"
         // Keep the host's ~/.bashrc (sourced by bash for ssh sessions) out of the test.
         "SetEnv HOME=" << d << "\n";
  for (int i = 1; i <= count; ++i) {
    std::string node = d + "/nodes/" + name(i);
    for (const char* sub : {"etc", "var", "opt", "root", "tmp"}) {
      fs::create_directories(node + "/root/" + sub);
    }
    fs::copy_file("/etc/passwd", node + "/root/etc/passwd");
    fs::copy_file("/etc/group", node + "/root/etc/group");
    std::ofstream(node + "/root/etc/hostname") << name(i) << "\n";
    cfg << "Match LocalAddress " << address(i) << "\n  ForceCommand /bin/sh " << shell << " "
        << node << "\n";
  }
  cfg.close();
  std::string conf = d + "/sshd_config";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", conf.c_str(), nullptr);
    ::_exit(127);
  }
  // Ready when the last address answers.
  for (int tries = 0; tries < 500; ++tries) {
    if (Sh("timeout 1 bash -c 'exec 3<>/dev/tcp/" + address(count) + "/" +
           std::to_string(port_) + "' 2>/dev/null")) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

SandboxNodes::~SandboxNodes() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

}  // namespace racksmith::playbook::testing
