// Hooks around the executor (fake driver, in-memory store): pre-node-step and pre-retire
// vetoes, post-node-step and post-burnin results, node-state-change in order, no secrets.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/fake_driver.h"
#include "hook_test_util.h"
#include "hooks/apply_hooks.h"
#include "hooks/hooks.h"
#include "plan/plan_test_util.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::hooks {
namespace {

using exec::testing::EventLog;
using exec::testing::FakeDriver;
using plan::testing::MustLoad;
using plan::testing::MustObserve;
using plan::testing::MustOpenMemory;
using racksmith::testing::TempDir;
using testing::Lines;
using testing::Slurp;
using testing::WriteHook;

constexpr const char* kSite = R"(site: hooks-test
defaults:
  bmc: {driver: redfish, username: admin, password: {env: RS_HOOKS_TEST_BMC_PW}}
  ssh: {user: root, key: {env: RS_HOOKS_TEST_SSH_KEY}}
  image: ubuntu-22.04-gpu
  software: {nvidia_driver: "550.54.15", cuda: "12.4", slurm: "23.11.4"}
  burnin: standard
profiles:
  gpu4:
    hardware: {gpus: {model: "NVIDIA A100-SXM4-80GB", count: 4}, memory_gib: 512, cpus: 64}
    slurm: {partitions: [gpu]}
racks:
  - name: r01
    nodes:
      - {name: "n[01-03]", profile: gpu4, bmc: "10.0.0.[1-3]", ip: "10.1.0.[1-3]"}
)";

plan::Policy Permissive() {
  plan::Policy p;
  p.max_unavailable_per_partition = {true, 100};
  p.max_unavailable_per_rack = {true, 100};
  return p;
}

// The executor with hooks from `dir` wrapped around the fake driver and an event log.
struct HookedApply {
  SystemClock clock;
  std::unique_ptr<state::Store> store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(kSite);
  FakeDriver driver;
  EventLog events;
  exec::Interrupt interrupt;
  HookRunner runner;

  explicit HookedApply(const std::string& dir) {
    HookOptions options;
    options.dir = dir;
    Result<HookRunner> opened = HookRunner::Open(options);
    if (!opened.ok()) FAIL(opened.error().ToString());
    runner = std::move(*opened);
  }
  exec::RunSummary Apply(const plan::Policy& policy = Permissive()) {
    plan::Plan p = plan::BuildPlan(inv, MustObserve(*store), policy);
    ApplyHookContext ctx{&runner, &inv, store.get(), &clock};
    HookedDriver hooked(driver, ctx);
    NodeStateHooks sink(ctx, p, &events);
    exec::ExecutorOptions options;
    options.backoff_ms = 1;
    exec::Executor executor(*store, hooked, clock, options, &sink);
    Result<exec::RunSummary> r =
        executor.Execute(p, inv, {"racksmith apply (test)", "tester", "host", 1}, {}, interrupt);
    sink.Finish();
    if (!r.ok()) FAIL("execute: " << r.error().ToString());
    return *r;
  }
  state::NodeRecord Node(const std::string& name) {
    Result<state::NodeRecord> r = store->GetNode(name);
    if (!r.ok()) FAIL(r.error().ToString());
    return *r;
  }
};

std::vector<nlohmann::json> JsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : Lines(Slurp(path))) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Every document a hook was given, from files named <event>-<n>.json in `dir`.
std::vector<std::string> SavedDocuments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".json" || e.path().extension() == ".jsonl") {
      out.push_back(Slurp(e.path().string()));
    }
  }
  return out;
}

TEST_CASE("a pre-node-step veto fails that node with the hook's reason and others go on",
          "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "pre-node-step.d/10-reserved",
            "#!/bin/sh\n"
            "if [ \"$RACKSMITH_NODE\" = n02 ]; then echo 'n02 is reserved for the vendor' >&2; "
            "exit 1; fi\n");
  HookedApply h(tmp.path());
  exec::RunSummary s = h.Apply();
  CHECK(s.nodes_done == 2);
  CHECK(s.nodes_failed == 1);
  state::NodeRecord n02 = h.Node("n02");
  CHECK(n02.state == state::NodeState::kFailed);
  CHECK(n02.reason ==
        "discover hardware failed: vetoed by hook pre-node-step.d/10-reserved: n02 is reserved "
        "for the vendor");
  CHECK(h.Node("n01").state == state::NodeState::kActive);
  std::vector<std::string> ran = h.driver.Ran();
  CHECK(std::none_of(ran.begin(), ran.end(),
                     [](const std::string& id) { return id.rfind("n02/", 0) == 0; }));
  // A veto is not transient: it was asked once, not retried.
  CHECK(s.retries == 0);
}

TEST_CASE("step, burn-in and node-state-change hooks see each result and change in order",
          "[hooks]") {
  TempDir tmp;
  // Each document saved to its own file (steps of different nodes run at once).
  const char* save =
      "#!/bin/sh\nmkdir -p docs\ncat > \"docs/$RACKSMITH_HOOK_EVENT-$(echo "
      "\"$RACKSMITH_STEP\" | tr / _).json\"\n";
  WriteHook(tmp.path(), "post-node-step.d/10-save", save);
  WriteHook(tmp.path(), "post-burnin.d/10-save", save);
  // node-state-change hooks run one at a time in order: one file, one line per document.
  WriteHook(tmp.path(), "node-state-change.d/10-log", "#!/bin/sh\ncat >> changes.jsonl\n");
  // ... and the shipped asset register keeps one row per node, replaced on each change.
  WriteHook(tmp.path(), "node-state-change.d/50-asset-register",
            Slurp(racksmith::testing::SourcePath(
                "hooks/examples/node-state-change.d/50-asset-register")));
  setenv("RS_HOOKS_TEST_BMC_PW", "hunter2-bmc-password", 1);
  setenv("RS_HOOKS_TEST_SSH_KEY", "hunter2-ssh-key", 1);

  HookedApply h(tmp.path());
  h.driver.Script("n03/burnin", {exec::StepOutcome::Failed("GPU 2: dcgmi diag failed")});
  exec::RunSummary s = h.Apply();
  unsetenv("RS_HOOKS_TEST_BMC_PW");
  unsetenv("RS_HOOKS_TEST_SSH_KEY");
  CHECK(s.nodes_done == 2);

  // post-node-step: every step that ran, with its outcome.
  nlohmann::json discover =
      nlohmann::json::parse(Slurp(tmp.Join("docs/post-node-step-n01_discover_hardware.json")));
  CHECK(discover["event"] == "post-node-step");
  CHECK(discover["schema"] == 1);
  CHECK(discover["run_id"] == s.run_id);
  CHECK(discover["site"] == "hooks-test");
  CHECK(discover["step"]["id"] == "n01/discover/hardware");
  CHECK(discover["step"]["kind"] == "discover");
  CHECK(discover["step"]["attempt"] == 1);
  CHECK(discover["result"]["status"] == "succeeded");
  CHECK(discover["result"]["output"] == "did n01/discover/hardware");
  REQUIRE(discover["nodes"].size() == 1);
  CHECK(discover["nodes"][0]["name"] == "n01");
  CHECK(discover["nodes"][0]["rack"] == "r01");
  CHECK(discover["nodes"][0]["ip"] == "10.1.0.1");
  CHECK(h.driver.Ran().size() ==
        static_cast<size_t>(std::distance(std::filesystem::directory_iterator(tmp.Join("docs")),
                                          std::filesystem::directory_iterator{})) -
            3);  // three post-burnin documents besides one post-node-step per step

  // post-burnin: the burn-in's outcome, failed on n03.
  nlohmann::json burnin =
      nlohmann::json::parse(Slurp(tmp.Join("docs/post-burnin-n03_burnin.json")));
  CHECK(burnin["event"] == "post-burnin");
  CHECK(burnin["result"]["status"] == "failed");
  CHECK(burnin["result"]["error"] == "GPU 2: dcgmi diag failed");
  CHECK(burnin["burnin"].is_null());  // the fake driver records no burn-in result

  // node-state-change: each node's lifecycle, in order.
  std::map<std::string, std::vector<std::string>> path;
  for (const nlohmann::json& doc : JsonLines(tmp.Join("changes.jsonl"))) {
    CHECK(doc["event"] == "node-state-change");
    const nlohmann::json& c = doc["change"];
    std::string node = c["node"];
    if (path[node].empty()) path[node].push_back(c["from"]);
    CHECK(path[node].back() == c["from"]);
    path[node].push_back(c["to"]);
    CHECK(doc["nodes"][0]["state"] == c["to"]);
  }
  CHECK(path["n01"] ==
        std::vector<std::string>{"new", "discovered", "provisioning", "burnin", "active"});
  CHECK(path["n03"] ==
        std::vector<std::string>{"new", "discovered", "provisioning", "burnin", "failed"});
  std::vector<std::string> csv = Lines(Slurp(tmp.Join("asset-register.csv")));
  REQUIRE(csv.size() == 4);
  CHECK(csv[1].rfind("n01,,r01,active,admitted,", 0) == 0);
  CHECK(csv[3].rfind("n03,,r01,failed,burnin failed: GPU 2: dcgmi diag failed,", 0) == 0);

  // No document holds a secret, a secret's reference, or a key for one.
  std::vector<std::string> docs = SavedDocuments(tmp.path());
  CHECK(docs.size() > 20);
  for (const std::string& doc : docs) {
    CHECK(doc.find("hunter2") == std::string::npos);
    CHECK(doc.find("RS_HOOKS_TEST_") == std::string::npos);
    CHECK(doc.find("password") == std::string::npos);
    CHECK(doc.find("\"key\"") == std::string::npos);
  }
}

TEST_CASE("a pre-retire veto keeps a retiring node from being drained or erased", "[hooks]") {
  TempDir tmp;
  HookedApply seed(tmp.Join("no-hooks"));
  REQUIRE(seed.Apply().nodes_done == 3);

  WriteHook(tmp.path(), "pre-retire.d/10-lease",
            "#!/bin/sh\ncat > pre-retire.json\n"
            "echo \"$RACKSMITH_NODE is leased until 2027: ask finance\" >&2\nexit 1\n");
  HookedApply h(tmp.path());
  h.store = std::move(seed.store);
  std::string yaml = kSite;
  const std::string all =
      R"({name: "n[01-03]", profile: gpu4, bmc: "10.0.0.[1-3]", ip: "10.1.0.[1-3]"})";
  yaml.replace(yaml.find(all), all.size(),
               R"({name: "n[01-02]", profile: gpu4, bmc: "10.0.0.[1-2]", ip: "10.1.0.[1-2]"})");
  yaml += "      - {name: n03, profile: gpu4, bmc: 10.0.0.3, ip: 10.1.0.3, state: retired}\n";
  h.inv = MustLoad(yaml);
  plan::Policy policy = Permissive();
  policy.confirm_erase = true;
  exec::RunSummary s = h.Apply(policy);
  CHECK(s.nodes_failed == 1);
  state::NodeRecord n03 = h.Node("n03");
  CHECK(n03.state == state::NodeState::kFailed);
  CHECK(n03.reason.find("vetoed by hook pre-retire.d/10-lease: n03 is leased until 2027: ask "
                        "finance") != std::string::npos);
  CHECK(h.driver.Ran().empty());  // neither drain nor erase ran

  nlohmann::json doc = nlohmann::json::parse(Slurp(tmp.Join("pre-retire.json")));
  CHECK(doc["event"] == "pre-retire");
  CHECK(doc["step"]["id"] == "n03/drain");
  // The executor journals a step's intent, and its on_start state, before the driver (and so
  // the hook) sees it.
  CHECK(doc["nodes"][0]["state"] == "draining");
  CHECK(doc["nodes"][0]["desired"] == "retired");
  std::vector<std::string> kinds;
  for (const nlohmann::json& step : doc["retirement"]) kinds.push_back(step["kind"]);
  CHECK(kinds == std::vector<std::string>{"drain", "erase", "power_off", "retire"});
}

TEST_CASE("pre-apply and post-apply documents carry the plan and the run's summary", "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "pre-apply.d/10-save", "#!/bin/sh\ncat > pre-apply.json\n");
  WriteHook(tmp.path(), "post-apply.d/10-save", "#!/bin/sh\ncat > post-apply.json\n");
  HookedApply h(tmp.path());
  plan::Plan p = plan::BuildPlan(h.inv, MustObserve(*h.store), Permissive());
  ApplyHookContext ctx{&h.runner, &h.inv, h.store.get(), &h.clock};
  HookOutcome pre = RunPreApply(ctx, p);
  CHECK_FALSE(pre.vetoed);
  nlohmann::json doc = nlohmann::json::parse(Slurp(tmp.Join("pre-apply.json")));
  CHECK(doc["event"] == "pre-apply");
  CHECK(doc["run_id"].is_null());
  CHECK(doc["nodes"].size() == 3);
  CHECK(doc["nodes"][0]["state"].is_null());  // not in the store yet
  CHECK(doc["plan"]["summary"]["add"] == 3);
  CHECK(doc["plan"]["nodes"][0]["steps"][0]["kind"] == "discover");

  exec::RunSummary s = h.Apply();
  REQUIRE(RunPostApply(ctx, p, s).results.size() == 1);
  nlohmann::json post = nlohmann::json::parse(Slurp(tmp.Join("post-apply.json")));
  CHECK(post["event"] == "post-apply");
  CHECK(post["run_id"] == s.run_id);
  CHECK(post["result"]["outcome"] == "succeeded");
  CHECK(post["result"]["nodes_done"] == 3);
  CHECK(post["result"]["nodes"][2]["name"] == "n03");
  CHECK(post["result"]["nodes"][2]["outcome"] == "done");
  CHECK(post["nodes"][1]["state"] == "active");
}

}  // namespace
}  // namespace racksmith::hooks
