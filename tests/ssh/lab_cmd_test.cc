#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "ssh/ssh_transport.h"
#include "ssh/sshd_fixture.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::ssh {
namespace {

using racksmith::testing::RunCli;

TEST_CASE("lab nodes run commands in their own sandbox and a powered-off node refuses SSH",
          "[ssh][lab]") {
  racksmith::testing::TempDir tmp;
  std::string lab = tmp.Join("lab");
  std::string port = std::to_string(racksmith::testing::FreeLoopbackPort());
  std::string bmc_port = std::to_string(racksmith::testing::FreeLoopbackPort());
  auto up = RunCli({"lab", "--dir", lab, "up", "--nodes", "2", "--port", port, "--bmc-port",
                    bmc_port, "--speed", "100"});
  INFO(up.err);
  // Stops the node sshds even when a REQUIRE below ends the test early.
  struct LabDown {
    std::string lab;
    ~LabDown() { RunCli({"lab", "--dir", lab, "down"}); }
  } guard{lab};
  REQUIRE(up.exit_code == 0);
  std::vector<std::string> exec = {"--state",
                                   tmp.Join("state.db"),
                                   "exec",
                                   "--hosts",
                                   "127.0.2.[1-2]",
                                   "--port",
                                   port,
                                   "--key",
                                   lab + "/keys/client_ed25519",
                                   "--lines",
                                   "--",
                                   "cat /etc/hostname; echo hi > /etc/marker"};
  auto r = RunCli(exec);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "127.0.2.1: lab-n01\n127.0.2.2: lab-n02\n");
  CHECK(std::filesystem::exists(lab + "/nodes/lab-n01/root/etc/marker"));
  CHECK_FALSE(std::filesystem::exists("/etc/marker"));

  // SFTP runs inside the sandbox too: the upload lands in the node's own /etc.
  transport::InMemoryHostKeyStore keys;
  SshTransport t(keys);
  transport::Endpoint e;
  e.node = "lab-n01";
  e.address = "127.0.2.1";
  e.port = std::stoi(port);
  e.key_path = lab + "/keys/client_ed25519";
  transport::UploadRequest upload;
  upload.remote_path = "/etc/racksmith-uploaded";
  upload.content = "payload\n";
  upload.mode = 0600;
  Status s = t.Upload(e, upload);
  INFO((s.ok() ? std::string() : s.error().message()));
  CHECK(s.ok());
  CHECK(std::filesystem::exists(lab + "/nodes/lab-n01/root/etc/racksmith-uploaded"));
  CHECK_FALSE(std::filesystem::exists("/etc/racksmith-uploaded"));

  REQUIRE(RunCli({"lab", "--dir", lab, "power", "lab-n02", "off"}).exit_code == 0);
  r = RunCli(exec);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("127.0.2.2 (root@127.0.2.2:" + port +
                                    "): cannot connect: Connection refused"));
  auto status = RunCli({"lab", "--dir", lab, "status"});
  CHECK_THAT(status.out, Catch::Contains("lab-n02 ssh=127.0.2.2:" + port));
  CHECK_THAT(status.out,
             Catch::Contains(" bmc=http://127.0.1.2:" + bmc_port + " power=Off sshd=down"));

  auto down = RunCli({"lab", "--dir", lab, "down"});
  CHECK(down.out == "lab down: stopped 1 processes\n");  // the supervisor, which stops the sshds
  status = RunCli({"lab", "--dir", lab, "status"});
  CHECK_THAT(status.out, Catch::Contains("stopped"));
  CHECK_THAT(status.out, Catch::Contains("lab-n01 ssh=127.0.2.1:" + port));
  CHECK_THAT(status.out, Catch::Contains(" power=On sshd=down"));
}

}  // namespace
}  // namespace racksmith::ssh
