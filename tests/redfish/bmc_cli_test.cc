// `racksmith bmc ...` end to end: the real binary against mockup BMCs on 127.0.0.x.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

extern char** environ;

#include "redfish/test_util.h"
#include "support/golden.h"
#include "support/temp_dir.h"

namespace racksmith::testing {
namespace {

using nlohmann::json;

CliOptions WithPassword(const std::string& pw = "s3cret-pw") {
  CliOptions o;
  o.env["RS_TEST_BMC_PW"] = pw;
  o.timeout_s = 60;
  return o;
}

std::vector<std::string> Direct(const MockupServer& s, std::vector<std::string> args) {
  for (const char* a :
       {"--bmc", "", "--user", "admin", "--password-env", "RS_TEST_BMC_PW", "--timeout", "2"})
    args.push_back(a);
  args[args.size() - 7] = s.url();
  return args;
}

// Three nodes, each with its own HTTPS BMC pinned by certificate fingerprint, as an
// inventory names them; n3's BMC closes every connection.
struct Rack {
  std::vector<std::unique_ptr<MockupServer>> servers;
  std::unique_ptr<BrokenServer> dead;
  TempDir dir;
  std::string inventory;

  static std::string HostPort(const std::string& url) { return url.substr(url.find("://") + 3); }

  Rack() {
    for (int i = 0; i < 2; ++i) {
      auto o = Tree(i == 0 ? "mockups/public-rackmount1" : "vendor/XL675d_A100");
      o.host = "127.0.0." + std::to_string(31 + i);
      o.tls_cert = GetTestCert().cert;
      o.tls_key = GetTestCert().key;
      servers.push_back(std::make_unique<MockupServer>(o));
    }
    dead = std::make_unique<BrokenServer>(BrokenServer::Mode::kClose);
    std::string yaml =
        "site: test\n"
        "defaults:\n"
        "  bmc:\n"
        "    driver: redfish\n"
        "    username: admin\n"
        "    password: {env: RS_TEST_BMC_PW}\n"
        "    tls: {fingerprint: \"" +
        GetTestCert().fingerprint +
        "\"}\n"
        "racks:\n"
        "  - name: r1\n"
        "    nodes:\n";
    std::vector<std::string> urls{servers[0]->url(), servers[1]->url(), dead->url()};
    for (int i = 0; i < 3; ++i) {
      std::string hp = HostPort(urls[i]);
      yaml += "      - {name: n" + std::to_string(i + 1) + ", ip: 127.0.2." +
              std::to_string(i + 1) + ", bmc: {address: " + hp.substr(0, hp.find(':')) +
              ", port: " + hp.substr(hp.find(':') + 1) + "}}\n";
    }
    inventory = dir.Write("site.yaml", yaml);
  }

  std::string Stable(std::string text) const {
    text = ReplaceAll(text, HostPort(servers[0]->url()), "BMC1");
    text = ReplaceAll(text, HostPort(servers[1]->url()), "BMC2");
    return ReplaceAll(text, HostPort(dead->url()), "BMC3");
  }
};

TEST_CASE("bmc power status against one BMC given with --bmc prints its state", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  auto r = RunCli(Direct(server, {"bmc", "power", "status"}), WithPassword());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "127.0.0.1:" + std::to_string(server.port()) + ": On\n");
  CHECK(server.live_sessions() == 0);
}

TEST_CASE("bmc power status groups identical answers and lists failures with their URL",
          "[redfish]") {
  Rack rack;
  auto r = RunCli({"bmc", "power", "status", "n[1-3]", "--timeout", "1", "-i", rack.inventory},
                  WithPassword());
  CHECK(r.exit_code == 1);
  CHECK(MatchesGolden("redfish/power_status.txt", rack.Stable(r.out)));
  for (const auto& s : rack.servers) CHECK(s->live_sessions() == 0);
}

TEST_CASE("bmc inventory prints each node's hardware, and --json its documented schema",
          "[redfish]") {
  Rack rack;
  auto r = RunCli({"bmc", "inventory", "n[1-2]", "-i", rack.inventory}, WithPassword());
  CHECK(r.exit_code == 0);
  CHECK(MatchesGolden("redfish/inventory.txt", rack.Stable(r.out)));

  r = RunCli({"bmc", "inventory", "n2", "--json", "-i", rack.inventory}, WithPassword());
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["node"] == "n2");
  CHECK(j[0]["ok"] == true);
  CHECK(j[0]["result"]["gpus"].size() == 8);
  CHECK(j[0]["result"]["gpus"][0]["model"] == "NVIDIA A100-SXM4-40GB");
  CHECK(j[0]["result"]["serial"] == "JS05NP0896");
}

TEST_CASE("The inventory's bmc.system picks the node's system, and --system overrides it",
          "[redfish]") {
  // Four blades behind one endpoint (the DMTF bladed mockup): without a system the first
  // is taken, which is the wrong node for three of them.
  auto o = Tree("mockups/public-bladed");
  o.tls_cert = GetTestCert().cert;
  o.tls_key = GetTestCert().key;
  MockupServer server(o);
  std::string hp = server.url().substr(server.url().find("://") + 3);
  TempDir dir;
  std::string inventory = dir.Write(
      "site.yaml", "site: test\ndefaults:\n  bmc:\n    username: admin\n"
                   "    password: {env: RS_TEST_BMC_PW}\n    tls: {fingerprint: \"" +
                       GetTestCert().fingerprint +
                       "\"}\nracks:\n  - name: r1\n    nodes:\n"
                       "      - {name: blade3, ip: 127.0.2.1, bmc: {address: " +
                       hp.substr(0, hp.find(':')) + ", port: " + hp.substr(hp.find(':') + 1) +
                       ", system: 529QB9452R6}}\n");
  auto r = RunCli({"bmc", "inventory", "blade3", "--json", "-i", inventory}, WithPassword());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)[0]["result"]["serial"] == "529QB9452R6");

  r = RunCli({"bmc", "inventory", "blade3", "--json", "-i", inventory, "--system", "529QB9450R6"},
             WithPassword());
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)[0]["result"]["serial"] == "529QB9450R6");
}

TEST_CASE("bmc firmware list prints components and versions", "[redfish]") {
  Rack rack;
  auto r = RunCli({"bmc", "firmware", "list", "n1", "-i", rack.inventory}, WithPassword());
  CHECK(r.exit_code == 0);
  CHECK(MatchesGolden("redfish/firmware_list.txt", rack.Stable(r.out)));
}

TEST_CASE("bmc firmware update posts SimpleUpdate and follows the task", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.task_polls = 1;
  MockupServer server(opts);
  auto r = RunCli(Direct(server, {"bmc", "firmware", "update", "--image-uri",
                                  "https://127.0.0.1/fw/bios.bin", "--yes", "-v"}),
                  WithPassword());
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::EndsWith(": firmware updated\n"));
  CHECK_THAT(r.err, Catch::Contains("firmware update Completed"));
  CHECK(server.Count("POST", "UpdateService.SimpleUpdate") == 1);
  r = RunCli(Direct(server, {"bmc", "firmware", "update", "--yes"}), WithPassword());
  CHECK(r.exit_code == 2);
}

TEST_CASE("Changing commands refuse without --yes when not on a terminal", "[redfish]") {
  Rack rack;
  auto r = RunCli({"bmc", "power", "off", "n1", "-i", rack.inventory}, WithPassword());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("needs --yes"));
  CHECK(rack.servers[0]->Count("POST", "Reset") == 0);
  CHECK(rack.servers[0]->sessions_created() == 0);  // refused before any contact
}

TEST_CASE("Changing commands need an explicit selection", "[redfish]") {
  auto r = RunCli({"bmc", "power", "cycle", "--yes"}, WithPassword());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("name the nodes"));
}

TEST_CASE("a --bmc address with credentials in it is refused without showing them",
          "[redfish]") {
  auto r = RunCli({"bmc", "power", "status", "--bmc", "https://admin:hunter2@127.0.0.1:1"},
                  WithPassword());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--bmc: credentials in the address are not accepted"));
  CHECK_THAT(r.err + r.out, !Catch::Contains("hunter2"));
}

TEST_CASE("bmc power off --yes shuts the node down and reports the new state", "[redfish]") {
  Rack rack;
  auto r = RunCli({"bmc", "power", "off", "n1", "--yes", "-i", rack.inventory}, WithPassword());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "n1: done, power Off\n");
  CHECK(rack.servers[0]->Count("POST", "ComputerSystem.Reset") == 1);
}

TEST_CASE("bmc boot sets a persistent override on every selected node", "[redfish]") {
  Rack rack;
  auto r = RunCli(
      {"bmc", "boot", "n[1-2]", "--device", "cd", "--persistent", "--yes", "-i", rack.inventory},
      WithPassword());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "n[1-2]: boot Cd (persistent)\n");
  for (const auto& s : rack.servers) CHECK(s->Count("PATCH", "/Systems/") == 1);
}

TEST_CASE("bmc media insert without --image is a usage error", "[redfish]") {
  Rack rack;
  auto r = RunCli({"bmc", "media", "insert", "n1", "--yes", "-i", rack.inventory}, WithPassword());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--image"));
}

TEST_CASE("A wrong BMC password fails the node without ever printing the password", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  auto r = RunCli(Direct(server, {"bmc", "inventory", "-v", "-v"}), WithPassword("Hunter2-xyz"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("login as 'admin' refused"));
  CHECK_THAT(r.out + r.err, !Catch::Contains("Hunter2-xyz"));
}

TEST_CASE("A missing password variable is a usage error naming the variable", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  CliOptions o;
  auto r = RunCli(Direct(server, {"bmc", "power", "status"}), o);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("RS_TEST_BMC_PW"));
}

TEST_CASE("insecure TLS (--insecure) warns on every run", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  auto args = Direct(server, {"bmc", "power", "status"});
  args.push_back("--insecure");
  auto r = RunCli(args, WithPassword());
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("TLS certificate verification is OFF"));
}

TEST_CASE("SIGINT during a long wait deletes the session before exiting", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.graceful_works = false;  // the shutdown never completes: the CLI keeps polling
  MockupServer server(opts);
  std::vector<std::string> args =
      Direct(server, {RACKSMITH_BINARY, "bmc", "power", "off", "--yes", "--grace", "30"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings{"RS_TEST_BMC_PW=s3cret-pw"};
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, RACKSMITH_BINARY, &fa, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&fa);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (server.Count("POST", "ComputerSystem.Reset") == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(server.live_sessions() == 1);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(server.live_sessions() == 0);
  CHECK(server.Count("DELETE", "/SessionService/Sessions/") == 1);
}

}  // namespace
}  // namespace racksmith::testing
