// The executor with a fake driver: order, journal, failures, retries, limits, the rolling
// window (max_unavailable at every moment), the failure budget, retirement. Interrupts,
// crashes and resume: executor_resume_test.cc.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "support/temp_dir.h"
#include "executor_harness.h"
#include "fake_driver.h"
#include "plan/plan_test_util.h"

namespace racksmith::exec {
namespace {

using plan::testing::MustLoad;
using plan::testing::MustObserve;
using plan::testing::MustOpenMemory;
using testing::EventLog;
using testing::FakeDriver;
using testing::Harness;
using testing::IndexOf;
using testing::Permissive;
using testing::Site;
using testing::TestRun;

TEST_CASE("apply takes new nodes to active, journals every step, and plan is then empty",
          "[exec]") {
  Harness h(Site());
  plan::Plan p = h.Plan();
  RunSummary s = h.Apply(p);
  CHECK(s.outcome == state::RunOutcome::kSucceeded);
  CHECK(s.nodes_done == 6);
  CHECK(s.steps_succeeded == p.summary.steps);
  for (const char* n : {"n01", "n06"}) CHECK(h.StateOf(n) == state::NodeState::kActive);

  // Every step has one journal entry, succeeded, in DAG order.
  Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n01");
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == p.nodes[0].steps.size());
  for (const state::StepRecord& r : *steps) {
    CHECK(r.status == state::StepStatus::kSucceeded);
    CHECK(r.run_id == s.run_id);
    CHECK(nlohmann::json::parse(r.intent_json).contains("reason"));
  }
  std::vector<std::string> ran = h.driver.Ran();
  for (const plan::Step& step : p.nodes[0].steps) {
    for (const std::string& need : step.needs) CHECK(IndexOf(ran, need) < IndexOf(ran, step.id));
  }
  // The lifecycle went through discovered, provisioning and burnin to active.
  Result<std::vector<state::StateChange>> history = h.store->NodeHistory("n01");
  REQUIRE(history.ok());
  std::vector<std::string> states;
  for (const state::StateChange& c : *history) states.emplace_back(state::NodeStateName(c.to));
  CHECK(states == std::vector<std::string>{"new", "discovered", "provisioning", "burnin",
                                           "active"});
  CHECK(h.store->GetRun(s.run_id)->outcome == state::RunOutcome::kSucceeded);
  CHECK(h.Plan().summary.steps == 0);
  // Events: run_started first, run_finished last, one node_finished per node.
  REQUIRE(!h.events.names.empty());
  CHECK(h.events.names.front() == "run_started");
  CHECK(h.events.names.back() == "run_finished");
  CHECK(std::count(h.events.names.begin(), h.events.names.end(), "node_finished") == 6);
}

TEST_CASE("events reach the sink one at a time and in order while steps run on many threads",
          "[exec]") {
  Harness h(Site());
  h.options.concurrency = 16;
  h.driver.SetStepMillis(1);
  h.events.hold_us = 200;
  plan::Plan p = h.Plan();
  RunSummary s = h.Apply(p);
  CHECK(s.outcome == state::RunOutcome::kSucceeded);
  CHECK_FALSE(h.events.overlapped.load());
  // Each step starts before it finishes; each node finishes after its last step.
  std::map<std::string, size_t> started, finished, node_done, node_last_step;
  for (size_t i = 0; i < h.events.events.size(); ++i) {
    const Event& e = h.events.events[i];
    if (e.type == Event::Type::kStepStarted) started.emplace(e.step->id, i);
    if (e.type == Event::Type::kStepFinished) {
      finished[e.step->id] = i;
      node_last_step[e.node] = i;
    }
    if (e.type == Event::Type::kNodeFinished) node_done[e.node] = i;
  }
  REQUIRE(finished.size() == static_cast<size_t>(p.summary.steps));
  for (const auto& [id, at] : finished) {
    INFO(id);
    REQUIRE(started.count(id) == 1);
    CHECK(started[id] < at);
  }
  REQUIRE(node_done.size() == 6);
  for (const auto& [node, at] : node_done) CHECK(node_last_step[node] < at);
}

TEST_CASE("a step whose intent cannot be journaled fails its node alone; the others go on",
          "[exec]") {
  Harness h(Site());
  racksmith::testing::TempDir dir;
  const std::string path = dir.Join("state.db");
  Result<std::unique_ptr<state::Store>> opened = state::OpenSqliteStore(path, h.clock);
  REQUIRE(opened.ok());
  h.store = std::move(*opened);
  h.options.concurrency = 16;
  // The disk refuses n03's first install intent (the steps of a round are journaled in one
  // commit, each in a savepoint of its own).
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "CREATE TRIGGER refuse_n03 BEFORE INSERT ON steps "
                       "WHEN NEW.node = 'n03' AND NEW.kind = 'install' "
                       "BEGIN SELECT RAISE(ABORT, 'injected: no space left'); END",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.outcome == state::RunOutcome::kFailed);
  CHECK(s.nodes_failed == 1);
  CHECK(s.nodes_done == 5);
  CHECK(h.StateOf("n02") == state::NodeState::kActive);
  std::string error;
  for (const NodeOutcome& o : s.nodes) {
    if (o.node == "n03") {
      CHECK(o.kind == NodeOutcome::Kind::kFailed);
      error = o.error;
    }
  }
  CHECK(error.find("the journal could not be written") != std::string::npos);
  CHECK(error.find("injected: no space left") != std::string::npos);
  // Nothing of n03 ran past its last journaled step.
  for (const std::string& ran : h.driver.Ran()) {
    CHECK(ran.rfind("n03/install", 0) != 0);
  }
}

TEST_CASE("a failing step puts its node in failed with the reason and the others go on",
          "[exec]") {
  Harness h(Site());
  h.driver.Script("n03/install/nvidia_driver",
                  {StepOutcome::Failed("dpkg: error processing package nvidia-driver-550",
                                       "Setting up nvidia-dkms-550 ...\nE: Sub-process failed")});
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.outcome == state::RunOutcome::kFailed);
  CHECK(s.nodes_failed == 1);
  CHECK(s.nodes_done == 5);
  CHECK(h.StateOf("n03") == state::NodeState::kFailed);
  CHECK(h.ReasonOf("n03") ==
        "install nvidia_driver failed: dpkg: error processing package nvidia-driver-550");
  CHECK(h.StateOf("n04") == state::NodeState::kActive);
  std::vector<std::string> ran = h.driver.Ran();
  CHECK(IndexOf(ran, "n03/install/cuda") == -1);
  CHECK(IndexOf(ran, "n03/admit") == -1);
  Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n03");
  REQUIRE(steps.ok());
  CHECK(steps->back().status == state::StepStatus::kFailed);
  CHECK(steps->back().output_tail.find("Sub-process failed") != std::string::npos);
  // The failed node is held by the next plan (no retry without --retry-failed).
  plan::Plan again = h.Plan();
  CHECK(again.summary.steps == 0);
  CHECK(again.summary.held == 1);
}

TEST_CASE("transient failures are retried with backoff and each attempt is journaled",
          "[exec]") {
  Harness h(Site());
  h.driver.Script("n01/image", {StepOutcome::Transient("ssh: connection refused (booting)"),
                                StepOutcome::Transient("ssh: connection refused (booting)")});
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.outcome == state::RunOutcome::kSucceeded);
  CHECK(s.retries == 2);
  Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n01");
  REQUIRE(steps.ok());
  std::vector<int> attempts;
  for (const state::StepRecord& r : *steps) {
    if (r.kind == "image") attempts.push_back(r.attempt);
  }
  CHECK(attempts == std::vector<int>{1, 2, 3});
  CHECK(std::count(h.events.names.begin(), h.events.names.end(), "step_retrying") == 2);

  SECTION("until the attempts run out") {
    Harness g(Site());
    g.options.max_attempts = 2;
    g.driver.Script("n02/image", {StepOutcome::Transient("connection refused"),
                                  StepOutcome::Transient("connection refused")});
    RunSummary t = g.Apply(g.Plan());
    CHECK(t.nodes_failed == 1);
    CHECK(g.ReasonOf("n02") == "image failed after 2 attempts: connection refused");
  }
}

TEST_CASE("concurrency and per-rack limits are never exceeded", "[exec]") {
  Harness h(Site());
  h.options.concurrency = 3;
  h.options.per_rack = 1;
  h.driver.SetStepMillis(3);
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.nodes_done == 6);
  CHECK(h.driver.MaxRunning() <= 3);
  CHECK(h.driver.MaxNodesPerRack() == 1);
}

// Applies the site, then returns the plan of a driver upgrade of every node under `policy`
// (the driver's record of what ran cleared).
plan::Plan ConvergeThenUpgrade(Harness& h, const plan::Policy& policy) {
  REQUIRE(h.Apply(h.Plan()).nodes_done == 6);
  h.inv = MustLoad(Site("560.35.03"));
  h.driver.ClearRan();
  h.events.events.clear();
  h.events.names.clear();
  return h.Plan(policy);
}

// The id of the step of `np` that changes `component`.
std::string StepOf(const plan::NodePlan& np, const std::string& component) {
  for (const plan::Step& st : np.steps) {
    if (st.component == component) return st.id;
  }
  FAIL("no step for " << component << " on " << np.node);
  return {};
}

const plan::NodePlan& NodeOf(const plan::Plan& p, const std::string& node) {
  for (const plan::NodePlan& np : p.nodes) {
    if (np.node == node) return np;
  }
  FAIL("no node " << node << " in the plan");
  return p.nodes.front();
}

// Index of the first event of `type` about `node` (and step `step`, when given).
int EventIndex(const EventLog& log, Event::Type type, const std::string& node,
               const std::string& step = {}) {
  for (size_t i = 0; i < log.events.size(); ++i) {
    const Event& e = log.events[i];
    if (e.type == type && e.node == node && (step.empty() || (e.step && e.step->id == step))) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

TEST_CASE(
    "a rolling change with room for one node at a time rolls them one by one in wave "
    "order",
    "[exec]") {
  Harness h(Site());
  plan::Policy policy;  // 25 % of 6 in partition gpu: one node at a time
  plan::Plan p = ConvergeThenUpgrade(h, policy);
  REQUIRE(p.summary.waves == 6);
  RunSummary s = h.Apply(p);
  CHECK(s.nodes_done == 6);
  std::vector<std::string> ran = h.driver.Ran();
  std::map<std::string, int> wave_of;
  for (const plan::NodePlan& np : p.nodes) wave_of[np.node] = np.wave;
  // Every step of a node of wave w runs after every step of all nodes of waves < w.
  int last_wave_seen = 0;
  for (const std::string& id : ran) {
    int w = wave_of[id.substr(0, id.find('/'))];
    CHECK(w >= last_wave_seen);
    last_wave_seen = std::max(last_wave_seen, w);
  }
  CHECK(ran.front().find("/drain") != std::string::npos);
  CHECK(h.driver.MaxOut("partition gpu") == 1);
  CHECK(h.Plan(policy).summary.steps == 0);
}

TEST_CASE(
    "a rolling change never has more than max_unavailable of a partition or rack out "
    "at any moment",
    "[exec]") {
  const plan::Limit limits[] = {{false, 1}, {false, 2}, {true, 50}, {true, 100}};
  int seed = 0;
  for (const plan::Limit& partition : limits) {
    for (const plan::Limit& rack : limits) {
      ++seed;
      INFO("partition " << partition.ToString() << ", rack " << rack.ToString());
      Harness h(Site());
      plan::Policy policy;
      policy.max_unavailable_per_partition = partition;
      policy.max_unavailable_per_rack = rack;
      plan::Plan p = ConvergeThenUpgrade(h, policy);
      // Nodes of uneven speed, so that they come back in another order than they left.
      for (int i = 1; i <= 6; ++i) {
        h.driver.SetNodeMillis("n0" + std::to_string(i), 4 + (i * 7 + seed * 3) % 8);
      }
      RunSummary s = h.Apply(p);
      CHECK(s.nodes_done == 6);
      int gpu = partition.Allowed(6), r01 = rack.Allowed(4), r02 = rack.Allowed(2);
      CHECK(h.driver.MaxOut("partition gpu") <= gpu);
      CHECK(h.driver.MaxOut("rack r01") <= r01);
      CHECK(h.driver.MaxOut("rack r02") <= r02);
      // The window is used: the first nodes leave together, as many as the limits allow.
      CHECK(h.driver.MaxOut("partition gpu") == std::min(gpu, std::min(r01, 4) + std::min(r02, 2)));
      CHECK(h.Plan(policy).summary.steps == 0);
    }
  }
}

TEST_CASE(
    "a rolling change is a window: a node of a later wave starts as soon as its groups "
    "have room, before the earlier wave has finished",
    "[exec]") {
  Harness h(Site());
  plan::Policy policy;
  policy.max_unavailable_per_rack = {false, 1};
  policy.max_unavailable_per_partition = {true, 100};
  plan::Plan p = ConvergeThenUpgrade(h, policy);
  REQUIRE(NodeOf(p, "n01").wave == 1);
  REQUIRE(NodeOf(p, "n05").wave == 1);
  REQUIRE(NodeOf(p, "n06").wave == 2);
  REQUIRE(NodeOf(p, "n06").rolling_groups.size() == 2);
  h.driver.SetStepMillis(1);
  h.driver.SetNodeMillis("n01", 60);  // wave 1 is slow in rack r01, quick in r02
  RunSummary s = h.Apply(p);
  CHECK(s.nodes_done == 6);
  int n06_starts = EventIndex(h.events, Event::Type::kStepStarted, "n06", "n06/drain");
  int n05_done = EventIndex(h.events, Event::Type::kNodeFinished, "n05");
  int n01_done = EventIndex(h.events, Event::Type::kNodeFinished, "n01");
  REQUIRE(n06_starts >= 0);
  CHECK(n05_done < n06_starts);  // rack r02 had room again
  CHECK(n06_starts < n01_done);  // without waiting for wave 1's slow node
  // Rack r01 stays at one node at a time.
  CHECK(EventIndex(h.events, Event::Type::kStepStarted, "n02") > n01_done);
  CHECK(h.driver.MaxOut("rack r01") == 1);
  CHECK(h.driver.MaxOut("rack r02") == 1);
}

TEST_CASE("a failed node halts a rolling change: no further rolled node starts", "[exec]") {
  Harness h(Site());
  plan::Policy policy;
  policy.max_unavailable_per_partition = {false, 3};
  policy.max_unavailable_per_rack = {true, 100};
  plan::Plan p = ConvergeThenUpgrade(h, policy);
  REQUIRE(p.summary.waves == 2);
  const plan::NodePlan& first = p.nodes.front();
  REQUIRE(first.wave == 1);
  // n01 fails at once; n02 and n03 (wave 1 too) take a while.
  h.driver.SetStepMillis(1);
  h.driver.SetNodeMillis("n02", 30);
  h.driver.SetNodeMillis("n03", 30);
  h.driver.Script(StepOf(first, "nvidia_driver"), {StepOutcome::Failed("dkms build failed")});

  SECTION("without a failure budget the first failure halts the rollout") {
    RunSummary s = h.Apply(p);
    CHECK(s.nodes_failed == 1);
    CHECK(s.nodes_done == 2);  // in progress when it halted: they finish
    CHECK(s.nodes_not_started == 3);
    CHECK(s.outcome == state::RunOutcome::kFailed);
    CHECK(std::count(h.events.names.begin(), h.events.names.end(), "rollout_halted") == 1);
    for (const std::string& id : h.driver.Ran()) {
      for (const char* n : {"n04/", "n05/", "n06/"}) CHECK(id.rfind(n, 0) != 0);
    }
    for (const NodeOutcome& o : s.nodes) {
      if (o.kind != NodeOutcome::Kind::kNotStarted) continue;
      CHECK(o.error == "not started: the rolling change was halted by a failed node");
      CHECK(h.StateOf(o.node) == state::NodeState::kActive);  // still in service
    }
    CHECK(h.StateOf(first.node) == state::NodeState::kFailed);
  }
  SECTION("a failure budget lets the rollout go on, and the failed node keeps its room") {
    h.options.max_failures = plan::Limit{false, 1};
    RunSummary s = h.Apply(p);
    CHECK(s.nodes_failed == 1);
    CHECK(s.nodes_done == 5);
    CHECK(std::count(h.events.names.begin(), h.events.names.end(), "rollout_halted") == 0);
    // n01 stays out of service: at most two others with it.
    CHECK(h.driver.MaxOut("partition gpu") == 3);
    CHECK(h.driver.Out("partition gpu") == 1);
    CHECK(EventIndex(h.events, Event::Type::kStepStarted, "n04") >
          std::min(EventIndex(h.events, Event::Type::kNodeFinished, "n02"),
                   EventIndex(h.events, Event::Type::kNodeFinished, "n03")));
  }
  SECTION("failed nodes that fill a group leave the rest not started, saying why") {
    h.options.max_failures = plan::Limit{false, 3};
    h.driver.Script(StepOf(NodeOf(p, "n02"), "nvidia_driver"), {StepOutcome::Failed("dkms")});
    h.driver.Script(StepOf(NodeOf(p, "n03"), "nvidia_driver"), {StepOutcome::Failed("dkms")});
    RunSummary s = h.Apply(p);
    CHECK(s.nodes_failed == 3);
    CHECK(s.nodes_not_started == 3);
    CHECK(h.driver.MaxOut("partition gpu") == 3);
    for (const NodeOutcome& o : s.nodes) {
      if (o.kind != NodeOutcome::Kind::kNotStarted) continue;
      CHECK(o.error ==
            "not started: partition gpu had no room: 3 of its nodes out of service in this run "
            "(a failed node stays out), its budget 3 (max_unavailable 3, 0 out before the run)");
    }
  }
}

TEST_CASE(
    "after a rolling change is killed, the resumed run counts the node it left out of "
    "service until it is back",
    "[exec]") {
  Harness h(Site());
  plan::Plan p = ConvergeThenUpgrade(h, plan::Policy{});  // one node of gpu at a time
  const std::string killed_step = StepOf(NodeOf(p, "n02"), "nvidia_driver");
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.id == killed_step) {  // as a kill -9 leaves it: the step stays running
      h.interrupt.Raise();
      h.interrupt.Raise();
    }
  };
  RunSummary killed = h.Apply(p);
  CHECK(killed.outcome == state::RunOutcome::kAborted);
  CHECK(h.StateOf("n01") == state::NodeState::kActive);
  // Drained, then killed while installing: provisioning, which the next plan must still
  // count as out of service (the journal says it was rolled).
  CHECK(h.StateOf("n02") == state::NodeState::kProvisioning);
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);

  plan::Plan rest = h.Plan(plan::Policy{});
  const plan::NodePlan& n02 = NodeOf(rest, "n02");
  CHECK(n02.returning);
  CHECK(n02.wave == 0);
  REQUIRE(!rest.rolling_groups.empty());
  CHECK(rest.rolling_groups[0].name == "partition gpu");
  CHECK(rest.rolling_groups[0].returning == 1);
  CHECK(rest.rolling_groups[0].budget == 1);
  CHECK(rest.summary.held == 0);  // the others wait for n02 rather than being held
  for (const char* n : {"n03", "n04", "n05", "n06"}) CHECK(NodeOf(rest, n).wave >= 1);

  h.driver.on_run = nullptr;
  h.driver.ClearRan();
  h.driver.SetStepMillis(2);
  Interrupt fresh;
  EventLog events;
  Executor executor(*h.store, h.driver, h.clock, h.options, &events);
  Result<RunSummary> s = executor.Execute(rest, h.inv, TestRun(), *open, fresh);
  REQUIRE(s.ok());
  CHECK(s->outcome == state::RunOutcome::kSucceeded);
  CHECK(s->nodes_done == 5);
  CHECK(h.driver.Guarded() == std::vector<std::string>{killed_step});
  // n02 was out when the run began: no other node left before it was back.
  CHECK(h.driver.MaxOut("partition gpu") == 1);
  CHECK(EventIndex(events, Event::Type::kStepStarted, "n03") >
        EventIndex(events, Event::Type::kNodeFinished, "n02"));
  CHECK(h.Plan(plan::Policy{}).summary.steps == 0);
}

TEST_CASE("a returning node that fails its change halts the rollout it belongs to", "[exec]") {
  Harness h(Site());
  plan::Plan p = ConvergeThenUpgrade(h, plan::Policy{});  // one node of gpu at a time
  const std::string killed_step = StepOf(NodeOf(p, "n02"), "nvidia_driver");
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.id == killed_step) {
      h.interrupt.Raise();
      h.interrupt.Raise();
    }
  };
  REQUIRE(h.Apply(p).outcome == state::RunOutcome::kAborted);
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  plan::Plan rest = h.Plan(plan::Policy{});
  REQUIRE(NodeOf(rest, "n02").returning);
  // The resumed change breaks n02 again: the nodes after it must not get it.
  h.driver.on_run = nullptr;
  h.driver.ClearRan();
  h.driver.SetStepMillis(2);
  h.driver.Guard(killed_step, GuardVerdict::kNotDone);
  h.driver.Script(killed_step, {StepOutcome::Failed("dkms: build failed")});
  Interrupt fresh;
  EventLog events;
  Executor executor(*h.store, h.driver, h.clock, h.options, &events);
  Result<RunSummary> s = executor.Execute(rest, h.inv, TestRun(), *open, fresh);
  REQUIRE(s.ok());
  CHECK(h.StateOf("n02") == state::NodeState::kFailed);
  CHECK(std::count(events.names.begin(), events.names.end(), "rollout_halted") == 1);
  for (const std::string& ran : h.driver.Ran()) CHECK(ran.rfind("n02/", 0) == 0);
}

TEST_CASE("nodes back from maintenance that fail halt no rollout when nothing rolls",
          "[exec]") {
  Harness h(Site());
  REQUIRE(h.Apply(h.Plan()).nodes_done == 6);
  std::string yaml = Site();
  const std::string from = "ip: \"10.1.0.[1-4]\"}";
  yaml.replace(yaml.find(from), from.size(), "ip: \"10.1.0.[1-4]\", state: maintenance}");
  h.inv = MustLoad(yaml);
  plan::Plan down = h.Plan(Permissive());
  REQUIRE(h.Apply(down).nodes_failed == 0);
  h.inv = MustLoad(Site());
  plan::Plan back = h.Plan(plan::Policy{});
  int rolled = 0;
  for (const plan::NodePlan& np : back.nodes) rolled += np.wave > 0 ? 1 : 0;
  REQUIRE(rolled == 0);
  const plan::NodePlan& n01 = NodeOf(back, "n01");
  REQUIRE(n01.returning);
  REQUIRE_FALSE(n01.steps.empty());
  h.driver.Script(n01.steps.back().id, {StepOutcome::Failed("slurmctld: node not responding")});
  const size_t halted_before =
      std::count(h.events.names.begin(), h.events.names.end(), "rollout_halted");
  RunSummary s = h.Apply(back);
  CHECK(s.nodes_failed == 1);
  CHECK(h.StateOf("n01") == state::NodeState::kFailed);
  CHECK(static_cast<size_t>(std::count(h.events.names.begin(), h.events.names.end(),
                                       "rollout_halted")) == halted_before);
}

TEST_CASE("a rolled node whose plan ends out of service keeps its room after it finishes",
          "[exec]") {
  Harness h(Site());
  REQUIRE(h.Apply(h.Plan()).nodes_done == 6);
  // Four of the six nodes of partition gpu to maintenance; the default 25 % allows 1 out.
  std::string yaml = Site();
  const std::string from = "ip: \"10.1.0.[1-4]\"}";
  yaml.replace(yaml.find(from), from.size(), "ip: \"10.1.0.[1-4]\", state: maintenance}");
  h.inv = MustLoad(yaml);
  h.driver.ClearRan();
  RunSummary s = h.Apply(h.Plan(plan::Policy{}));
  // The first one drained stays in maintenance: no room for another in this run.
  CHECK(h.driver.MaxOut("partition gpu") == 1);
  CHECK(s.nodes_done == 1);
  CHECK(s.nodes_not_started == 3);
  int maintenance = 0;
  for (const char* n : {"n01", "n02", "n03", "n04"}) {
    maintenance += h.StateOf(n) == state::NodeState::kMaintenance ? 1 : 0;
  }
  CHECK(maintenance == 1);
}

TEST_CASE("a failed new node does not hold up other new nodes", "[exec]") {
  Harness h(Site());
  h.driver.Script("n01/discover/hardware", {StepOutcome::Failed("BMC: 3 GPUs")});
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.nodes_failed == 1);
  CHECK(s.nodes_done == 5);
  CHECK(std::count(h.events.names.begin(), h.events.names.end(), "rollout_halted") == 0);
}

TEST_CASE("the failure budget stops new nodes once exceeded and started nodes finish", "[exec]") {
  Harness h(Site());
  h.options.concurrency = 1;
  h.options.max_failures = plan::Limit{false, 1};
  h.driver.Script("n01/discover/hardware", {StepOutcome::Failed("BMC: 3 GPUs")});
  h.driver.Script("n02/discover/hardware", {StepOutcome::Failed("BMC: 2 GPUs")});
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.nodes_failed == 2);
  CHECK(s.nodes_not_started == 4);
  CHECK(s.outcome == state::RunOutcome::kFailed);
  CHECK(std::count(h.events.names.begin(), h.events.names.end(), "budget_exceeded") == 1);
  // Nodes not started stay new: the next apply takes them.
  CHECK(h.StateOf("n05") == state::NodeState::kNew);
}

plan::Policy RetireN05AndN06(Harness& h) {
  REQUIRE(h.Apply(h.Plan()).nodes_done == 6);
  std::string yaml = Site();
  yaml.replace(yaml.find("{name: \"n[05-06]\""), 17, "{name: \"n[05-06]\", state: retired");
  h.inv = MustLoad(yaml);
  plan::Policy policy = Permissive();
  policy.confirm_erase = true;
  return policy;
}

TEST_CASE("retirement erases, powers off and forgets the node's components", "[exec]") {
  Harness h(Site());
  plan::Policy policy = RetireN05AndN06(h);
  plan::Plan p = h.Plan(policy);
  RunSummary s = h.Apply(p);
  CHECK(s.nodes_done == 2);
  CHECK(h.StateOf("n05") == state::NodeState::kRetired);
  CHECK(h.store->Components("n05")->empty());
  std::vector<std::string> ran = h.driver.Ran();
  CHECK(IndexOf(ran, "n05/drain") < IndexOf(ran, "n05/erase"));
  CHECK(IndexOf(ran, "n05/erase") < IndexOf(ran, "n05/power_off"));
  CHECK(h.Plan(policy).summary.steps == 0);
}

TEST_CASE("a retirement whose power-off fails after the erase does not erase again", "[exec]") {
  Harness h(Site());
  plan::Policy policy = RetireN05AndN06(h);
  h.driver.Script("n05/power_off", {StepOutcome::Failed("BMC answered 500 to the reset")});
  RunSummary first = h.Apply(h.Plan(policy));
  CHECK(first.nodes_failed == 1);
  CHECK(h.StateOf("n05") == state::NodeState::kFailed);

  plan::Plan held = h.Plan(policy);
  const plan::NodePlan* np = nullptr;
  for (const plan::NodePlan& n : held.nodes) {
    if (n.node == "n05") np = &n;
  }
  REQUIRE(np != nullptr);
  CHECK(np->steps.empty());
  REQUIRE(np->notes.size() == 1);
  CHECK(np->notes[0].find("retiring it powers it off (its disks are erased already)") !=
        std::string::npos);

  policy.retry_failed = true;
  plan::Plan retry = h.Plan(policy);
  for (const plan::NodePlan& n : retry.nodes) {
    if (n.node != "n05") continue;
    std::vector<std::string> kinds;
    for (const plan::Step& st : n.steps) kinds.push_back(plan::StepKindName(st.kind));
    CHECK(kinds == std::vector<std::string>{"power_off", "retire"});
    REQUIRE_FALSE(n.notes.empty());
    CHECK(n.notes[0].rfind("disks erased already (step ", 0) == 0);
  }
  const std::vector<std::string> ran_before = h.driver.Ran();
  const size_t erased_before =
      std::count(ran_before.begin(), ran_before.end(), std::string("n05/erase"));
  CHECK(erased_before == 1);
  RunSummary second = h.Apply(retry);
  CHECK(second.nodes_done == 1);
  CHECK(h.StateOf("n05") == state::NodeState::kRetired);
  std::vector<std::string> ran = h.driver.Ran();
  CHECK(static_cast<size_t>(std::count(ran.begin(), ran.end(), std::string("n05/erase"))) ==
        erased_before);
  CHECK(h.Plan(policy).summary.steps == 0);
}

}  // namespace
}  // namespace racksmith::exec
