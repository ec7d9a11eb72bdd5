#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "ssh/sshd_fixture.h"
#include "support/cli_runner.h"

namespace racksmith::ssh {
namespace {

using racksmith::testing::RunCli;
using racksmith::testing::SshdFixture;

std::vector<std::string> ExecArgs(const SshdFixture& sshd, const std::string& hosts,
                                  std::vector<std::string> extra, const std::string& cmd) {
  std::vector<std::string> a = {
      "--state", sshd.dir() + "/state.db",    "exec",  hosts,
      "--port",  std::to_string(sshd.port()), "--key", sshd.dir() + "/client_ed25519"};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back("--");
  a.push_back(cmd);
  return a;
}

TEST_CASE("racksmith exec prints identical output once under a compressed hostlist", "[ssh]") {
  SshdFixture sshd;
  auto r = RunCli(ExecArgs(sshd, "127.0.3.[1-3]", {}, "echo hello"));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "-----------------\n127.0.3.[1-3] (3)\n-----------------\nhello\n");
  CHECK_THAT(r.err, Catch::Contains("exec: 3 nodes, ok 3"));
}

TEST_CASE("racksmith exec --lines prefixes each line with its node", "[ssh]") {
  SshdFixture sshd;
  auto r = RunCli(ExecArgs(sshd, "127.0.3.1", {"--lines"}, "printf 'a\\nb\\n'"));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "127.0.3.1: a\n127.0.3.1: b\n");
}

TEST_CASE("racksmith exec exits 1 and names unreachable and failing nodes", "[ssh]") {
  SshdFixture sshd;
  auto r = RunCli(ExecArgs(sshd, "127.0.3.1,127.0.4.9", {"--json"}, "exit 3"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\"exit_status\": 3"));
  CHECK_THAT(r.out, Catch::Contains("\"error_code\": \"unreachable\""));
  CHECK_THAT(r.err, Catch::Contains("non-zero exit 1: 127.0.3.1"));
  CHECK_THAT(r.err, Catch::Contains("unreachable 1: 127.0.4.9"));
}

TEST_CASE("racksmith exec refuses a node whose host key changed until it is forgotten", "[ssh]") {
  SshdFixture sshd;
  REQUIRE(RunCli(ExecArgs(sshd, "127.0.3.1", {}, "true")).exit_code == 0);
  sshd.RegenerateHostKeyAndRestart();
  auto r = RunCli(ExecArgs(sshd, "127.0.3.1", {}, "true"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("racksmith hostkey forget 127.0.3.1"));
  CHECK_THAT(r.err, Catch::Contains("host key refused 1: 127.0.3.1"));
  auto f = RunCli({"--state", sshd.dir() + "/state.db", "hostkey", "forget", "127.0.3.1"});
  CHECK(f.exit_code == 0);
  CHECK(f.out == "forgot 1 host key(s) of 127.0.3.1\n");
  CHECK(RunCli(ExecArgs(sshd, "127.0.3.1", {}, "true")).exit_code == 0);
  auto l = RunCli({"--state", sshd.dir() + "/state.db", "hostkey", "list", "127.0.3.1"});
  CHECK_THAT(l.out, Catch::StartsWith("127.0.3.1 127.0.3.1:"));
}

}  // namespace
}  // namespace racksmith::ssh

namespace racksmith::ssh {
namespace {

TEST_CASE("racksmith copy uploads a file with its mode to every node", "[ssh]") {
  racksmith::testing::SshdFixture sshd;
  std::string src = sshd.dir() + "/local.txt";
  { std::ofstream(src) << "content\n"; }
  std::string dest = sshd.dir() + "/copied.txt";
  auto r = racksmith::testing::RunCli(
      {"--state", sshd.dir() + "/state.db", "copy", "127.0.3.[1-2]", src, dest, "--mode", "0600",
       "--port", std::to_string(sshd.port()), "--key", sshd.dir() + "/client_ed25519"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "127.0.3.[1-2]: copied " + dest + "\n");
  auto perms = std::filesystem::status(dest).permissions() & std::filesystem::perms::all;
  CHECK(perms == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

}  // namespace
}  // namespace racksmith::ssh
