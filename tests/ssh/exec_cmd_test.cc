// `racksmith exec` and `racksmith copy` through the real binary against the sshd fixture
// (127.0.3.[1-3]): raw addresses with --hosts, and inventory selections reaching each node at
// its inventory ip with the inventory's ssh settings.
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
  std::vector<std::string> a = {"--state",
                                sshd.dir() + "/state.db",
                                "exec",
                                "--hosts",
                                hosts,
                                "--port",
                                std::to_string(sshd.port()),
                                "--key",
                                sshd.dir() + "/client_ed25519"};
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
      {"--state", sshd.dir() + "/state.db", "copy", "--hosts", "127.0.3.[1-2]", src, dest, "--mode",
       "0600", "--port", std::to_string(sshd.port()), "--key", sshd.dir() + "/client_ed25519"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "127.0.3.[1-2]: copied " + dest + "\n");
  auto perms = std::filesystem::status(dest).permissions() & std::filesystem::perms::all;
  CHECK(perms == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

}  // namespace
}  // namespace racksmith::ssh

namespace racksmith::ssh {
namespace {

using racksmith::testing::CliOptions;
using racksmith::testing::RunCli;
using racksmith::testing::SshdFixture;

// A small inventory whose nodes are the fixture's addresses: t-n01, t-n02 in rack r01, and
// t-n03 (in maintenance) in rack r02. `key` is the YAML of ssh.key.
std::string WriteInventory(const SshdFixture& sshd, const std::string& key) {
  std::string path = sshd.dir() + "/inventory.yaml";
  std::ofstream(path) << "site: test\n"
                         "defaults:\n"
                         "  ssh: {user: root, port: "
                      << sshd.port() << ", key: " << key
                      << "}\n"
                         "profiles:\n"
                         "  small: {}\n"
                         "racks:\n"
                         "  - name: r01\n"
                         "    nodes:\n"
                         "      - {name: \"t-n[01-02]\", profile: small, ip: \"127.0.3.[1-2]\"}\n"
                         "  - name: r02\n"
                         "    nodes:\n"
                         "      - {name: t-n03, profile: small, ip: 127.0.3.3, "
                         "state: maintenance, reason: fan}\n";
  return path;
}

std::vector<std::string> Exec(const SshdFixture& sshd, const std::string& inventory,
                              std::vector<std::string> args) {
  std::vector<std::string> a = {"--state", sshd.dir() + "/state.db", "-i", inventory, "exec"};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

// The address the node's sshd was reached at, as the node itself sees it.
const char* kServerAddress = "echo $SSH_CONNECTION | cut -d' ' -f3";

TEST_CASE("racksmith exec reaches inventory nodes at their ip and prints them by name",
          "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  auto r = RunCli(Exec(sshd, inv, {"@rack:r01", "--lines", "--", kServerAddress}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "t-n01: 127.0.3.1\nt-n02: 127.0.3.2\n");
  CHECK_THAT(r.err, Catch::Contains("exec: 2 nodes, ok 2"));
}

TEST_CASE("racksmith exec groups identical output under the hostlist of node names", "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  auto r = RunCli(Exec(sshd, inv, {"all,!t-n02", "--", "echo hello"}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "--------------\nt-n[01,03] (2)\n--------------\nhello\n");
  // Host keys are recorded under the node's name, not its address.
  auto keys = RunCli({"--state", sshd.dir() + "/state.db", "hostkey", "list", "t-n03"});
  CHECK_THAT(keys.out, Catch::StartsWith("t-n03 127.0.3.3:"));
}

TEST_CASE("racksmith exec selects by state and by node name", "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  auto m = RunCli(Exec(sshd, inv, {"@state:maintenance", "--lines", "--", kServerAddress}));
  CHECK(m.exit_code == 0);
  CHECK(m.out == "t-n03: 127.0.3.3\n");
  auto n = RunCli(Exec(sshd, inv, {"t-n02", "--lines", "--", kServerAddress}));
  CHECK(n.exit_code == 0);
  CHECK(n.out == "t-n02: 127.0.3.2\n");
}

TEST_CASE("racksmith exec never defaults to every node", "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  auto none = RunCli({"-i", inv, "--state", sshd.dir() + "/state.db", "exec"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("never defaults to every node"));
  auto command_only = RunCli(Exec(sshd, inv, {"--", "true"}));
  CHECK(command_only.exit_code == 2);
  CHECK_THAT(command_only.err, Catch::Contains("no command given"));
  auto only_excluded = RunCli(Exec(sshd, inv, {"!t-n03", "--", "touch /tmp/should-not-run"}));
  CHECK(only_excluded.exit_code == 2);
  CHECK(only_excluded.out.empty());
  CHECK_THAT(only_excluded.err, Catch::Contains("only excludes nodes"));
  CHECK_THAT(only_excluded.err, Catch::Contains("all,!t-n03"));
}

TEST_CASE("racksmith exec names an unknown node or selector as invalid input", "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  auto r = RunCli(Exec(sshd, inv, {"t-n09", "--", "true"}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("t-n09"));
  auto rack = RunCli(Exec(sshd, inv, {"@rack:r99", "--", "true"}));
  CHECK(rack.exit_code == 2);
  CHECK_THAT(rack.err, Catch::Contains("r99"));
}

TEST_CASE("racksmith exec reads an ssh key given as {file:} or {env:} without printing it",
          "[ssh][cli]") {
  SshdFixture sshd;
  std::string key_path = sshd.dir() + "/client_ed25519";
  std::string inv = WriteInventory(sshd, "{file: " + key_path + "}");
  auto f = RunCli(Exec(sshd, inv, {"t-n01", "--", "echo ok"}));
  INFO(f.err);
  CHECK(f.exit_code == 0);

  std::ifstream in(key_path);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(key.find("PRIVATE KEY") != std::string::npos);
  inv = WriteInventory(sshd, "{env: RS_TEST_SSH_KEY}");
  CliOptions with_key;
  with_key.env["RS_TEST_SSH_KEY"] = key;
  auto e = RunCli(Exec(sshd, inv, {"@rack:r01", "--", "echo ok"}), with_key);
  INFO(e.err);
  CHECK(e.exit_code == 0);
  CHECK_THAT(e.out, Catch::Contains("t-n[01-02] (2)"));
  std::string body = key.substr(key.find('\n') + 1, 40);  // a piece of the key material
  CHECK(e.out.find(body) == std::string::npos);
  CHECK(e.err.find(body) == std::string::npos);

  CliOptions without_key;
  without_key.env["RS_TEST_SSH_KEY"] = "";
  auto missing = RunCli(Exec(sshd, inv, {"t-n01", "--", "echo ok"}), without_key);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("{env: RS_TEST_SSH_KEY}"));
  CHECK_THAT(missing.err, Catch::Contains("not attempted 1: t-n01"));
}

TEST_CASE("racksmith exec --user and --port override the inventory", "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  int closed = racksmith::testing::FreeLoopbackPort();
  auto r = RunCli(
      Exec(sshd, inv,
           {"t-n01", "--port", std::to_string(closed), "--connect-timeout", "3", "--", "true"}));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("unreachable 1: t-n01"));
  auto u = RunCli(Exec(sshd, inv, {"t-n01", "--user", "nobody-here", "--", "true"}));
  CHECK(u.exit_code == 1);
}

TEST_CASE("racksmith copy uploads to inventory nodes and reports them by name", "[ssh][cli]") {
  SshdFixture sshd;
  std::string inv = WriteInventory(sshd, sshd.dir() + "/client_ed25519");
  std::string src = sshd.dir() + "/local.txt";
  { std::ofstream(src) << "content\n"; }
  std::string dest = sshd.dir() + "/copied-by-name.txt";
  auto r = RunCli({"--state", sshd.dir() + "/state.db", "-i", inv, "copy", "@rack:r01", src, dest});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "t-n[01-02]: copied " + dest + "\n");
  CHECK(std::filesystem::exists(dest));
  auto none = RunCli({"--state", sshd.dir() + "/state.db", "-i", inv, "copy", src, dest});
  CHECK(none.exit_code == 2);
}

}  // namespace
}  // namespace racksmith::ssh
