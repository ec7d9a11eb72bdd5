// Hooks through the real `racksmith apply`: a pre-apply veto refuses before anything runs, a
// pre-node-step veto fails the node, and the shipped examples (asset register, webhook) work.
// Every node is vetoed before its first step, so no BMC or node is ever contacted.
#include <httplib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "hook_test_util.h"
#include "state/store.h"
#include "support/cli_runner.h"
#include "support/free_port.h"
#include "support/temp_dir.h"

namespace racksmith::hooks {
namespace {

using racksmith::testing::CliOptions;
using racksmith::testing::CliResult;
using racksmith::testing::RunCli;
using racksmith::testing::SourcePath;
using racksmith::testing::TempDir;
using testing::Lines;
using testing::Slurp;
using testing::WriteHook;

// Two new nodes whose BMCs nothing listens for (a port that was free a moment ago).
struct Site {
  TempDir tmp;
  std::string inventory = tmp.Join("inventory.yaml");
  std::string state = tmp.Join("state.db");

  Site() {
    int port = racksmith::testing::FreeLoopbackPort();
    tmp.Write("inventory.yaml",
              "site: hooks-cli\n"
              "defaults:\n"
              "  bmc: {driver: redfish, username: admin, password: {env: RS_HOOKS_CLI_BMC_PW}}\n"
              "  image: ubuntu-22.04-gpu\n"
              "  software: {nvidia_driver: \"550.54.15\"}\n"
              "racks:\n"
              "  - name: r01\n"
              "    nodes:\n"
              "      - {name: a1, bmc: \"http://127.0.0.1:" + std::to_string(port) +
                  "\", ip: 127.0.0.1}\n"
                  "      - {name: a2, bmc: \"http://127.0.0.2:" + std::to_string(port) +
                  "\", ip: 127.0.0.2}\n");
  }
  CliOptions Env() const {
    CliOptions o;
    o.env = {{"RACKSMITH_INVENTORY", inventory},
             {"RACKSMITH_STATE", state},
             {"RS_HOOKS_CLI_BMC_PW", "hunter2-cli"}};
    o.timeout_s = 60;
    return o;
  }
  std::unique_ptr<state::Store> Store() const {
    Result<std::unique_ptr<state::Store>> store = state::OpenSqliteStore(state, clock);
    if (!store.ok()) FAIL(store.error().ToString());
    return std::move(*store);
  }
  SystemClock clock;
};

std::vector<std::string> Apply(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {
      "apply", "all", "--yes", "--max-attempts", "1", "--playbooks", SourcePath("playbooks")};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Copies a shipped example hook into a hooks folder, as an administrator enables one.
void Enable(const std::string& hooks_dir, const std::string& example) {
  WriteHook(hooks_dir, example, Slurp(SourcePath("hooks/examples/" + example)));
}

TEST_CASE("apply refuses and changes nothing when a pre-apply hook vetoes", "[hooks][cli]") {
  Site site;
  // hooks/ beside the inventory is found without --hooks-dir.
  WriteHook(site.tmp.Join("hooks"), "pre-apply.d/10-freeze",
            "#!/bin/sh\ncat > ../pre-apply.json\necho 'change freeze until Monday' >&2\n"
            "exit 1\n");
  CliResult r = RunCli(Apply(), site.Env());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("racksmith apply: refused: vetoed by hook pre-apply.d/10-freeze: change "
                   "freeze until Monday") != std::string::npos);
  CHECK(r.out.find("2 to add") != std::string::npos);  // the plan was shown first
  std::unique_ptr<state::Store> store = site.Store();
  Result<std::optional<state::RunRecord>> last = store->LastRun();
  REQUIRE(last.ok());
  CHECK_FALSE(last->has_value());  // no run was recorded
  CHECK(store->LoadSnapshots()->empty());

  nlohmann::json doc = nlohmann::json::parse(Slurp(site.tmp.Join("pre-apply.json")));
  CHECK(doc["event"] == "pre-apply");
  CHECK(doc["plan"]["summary"]["add"] == 2);
  CHECK(doc.dump().find("hunter2") == std::string::npos);

  SECTION("a --hooks-dir that does not exist is an error") {
    CliResult missing = RunCli(Apply({"--hooks-dir", site.tmp.Join("nope")}), site.Env());
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("--hooks-dir " + site.tmp.Join("nope") + ": no such folder") !=
          std::string::npos);
  }
}

TEST_CASE("a pre-node-step veto through apply fails the node and the shipped examples record it",
          "[hooks][cli]") {
  Site site;
  std::string hooks = site.tmp.Join("site-hooks");
  WriteHook(hooks, "pre-node-step.d/10-hold",
            "#!/bin/sh\necho \"$RACKSMITH_NODE is on hold: ticket OPS-42\" >&2\nexit 1\n");
  Enable(hooks, "node-state-change.d/50-asset-register");
  Enable(hooks, "post-apply.d/50-webhook-notify");

  // The webhook: a server on loopback that keeps what it is sent.
  int port = racksmith::testing::FreeLoopbackPort();
  site.tmp.Write("site-hooks/webhook.conf",
                 "# where the webhook example posts\nurl = http://127.0.0.1:" +
                     std::to_string(port) + "/racksmith\ntimeout = 5\n");
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<std::string> events;
  httplib::Server server;
  server.Post("/racksmith", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(req.body);
    events.push_back(req.get_header_value("X-Racksmith-Event"));
    res.status = 204;
  });
  REQUIRE(server.bind_to_port("127.0.0.1", port));
  std::thread listener([&] { server.listen_after_bind(); });

  CliResult r = RunCli(Apply({"--hooks-dir", hooks, "--hook-timeout", "20"}), site.Env());
  server.stop();
  listener.join();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("0 done, 2 failed") != std::string::npos);

  std::unique_ptr<state::Store> store = site.Store();
  for (const char* node : {"a1", "a2"}) {
    Result<state::NodeRecord> rec = store->GetNode(node);
    REQUIRE(rec.ok());
    CHECK(rec->state == state::NodeState::kFailed);
    CHECK(rec->reason ==
          std::string("discover hardware failed: vetoed by hook pre-node-step.d/10-hold: ") +
              node + " is on hold: ticket OPS-42");
  }

  // The asset register has a row per node in its new state.
  std::vector<std::string> csv = Lines(Slurp(hooks + "/asset-register.csv"));
  REQUIRE(csv.size() == 3);
  CHECK(csv[0] == "node,serial,rack,state,reason,changed_at,run_id");
  CHECK(csv[1].rfind("a1,,r01,failed,discover hardware failed: vetoed by hook "
                     "pre-node-step.d/10-hold: a1 is on hold: ticket OPS-42,",
                     0) == 0);
  CHECK(csv[2].rfind("a2,,r01,failed,", 0) == 0);
  CHECK(csv[2].substr(csv[2].size() - 2) == ",1");  // run 1

  // The webhook got the post-apply document once.
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(bodies.size() == 1);
  CHECK(events[0] == "post-apply");
  nlohmann::json doc = nlohmann::json::parse(bodies[0]);
  CHECK(doc["event"] == "post-apply");
  CHECK(doc["run_id"] == 1);
  CHECK(doc["result"]["outcome"] == "failed");
  CHECK(doc["result"]["nodes_failed"] == 2);
  CHECK(bodies[0].find("hunter2") == std::string::npos);
}

TEST_CASE("hooks list shows the hooks apply would run in their order", "[hooks][cli]") {
  Site site;
  std::string hooks = site.tmp.Join("hooks");
  CliResult none = RunCli({"hooks", "list"}, site.Env());
  CHECK(none.exit_code == 0);
  CHECK(none.out == "No hooks: " + hooks + " does not exist.\n");

  WriteHook(hooks, "pre-node-step.d/20-b", "#!/bin/sh\n");
  WriteHook(hooks, "pre-node-step.d/10-a", "#!/bin/sh\n");
  WriteHook(hooks, "pre-node-step.d/30-off", "#!/bin/sh\n", 0644);
  CliResult r = RunCli({"hooks", "list", "--json"}, site.Env());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["dir"] == hooks);
  CHECK(j["events"]["pre-node-step"] ==
        nlohmann::json::array({hooks + "/pre-node-step.d/10-a", hooks + "/pre-node-step.d/20-b"}));
  CHECK(j["events"]["post-apply"].empty());

  WriteHook(hooks, "post-apply.d/10-shared", "#!/bin/sh\n", 0775);
  CliResult unsafe = RunCli({"hooks", "list"}, site.Env());
  CHECK(unsafe.exit_code == 2);
  CHECK(unsafe.err.find("post-apply.d/10-shared: mode 0775 lets its group write it") !=
        std::string::npos);
}

}  // namespace
}  // namespace racksmith::hooks
