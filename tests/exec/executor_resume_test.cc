// The executor with a fake driver, stopped: interrupts (one lets running steps finish, a
// second aborts them), a kill -9 in the middle of steps, and the next apply resuming: steps
// in flight checked by their guard first, destructive ones never repeated blindly; and the
// records journaled ahead of their steps (journal-ahead), used, withdrawn or resumed.
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exec/executor.h"
#include "executor_harness.h"
#include "fake_driver.h"

namespace racksmith::exec {
namespace {

using testing::Harness;
using testing::IndexOf;
using testing::Site;
using testing::TestRun;

TEST_CASE("an interrupt starts no new step, lets running ones finish, and apply resumes",
          "[exec]") {
  Harness h(Site());
  h.options.concurrency = 1;
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.id == "n02/image") h.interrupt.Raise();
  };
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.outcome == state::RunOutcome::kAborted);
  CHECK(h.driver.Ran().back() == "n02/image");
  CHECK(h.store->GetRun(s.run_id)->outcome == state::RunOutcome::kAborted);
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  CHECK(open->empty());  // the running step finished and was journaled

  Harness& g = h;
  g.driver.on_run = nullptr;
  Interrupt fresh;
  Executor executor(*g.store, g.driver, g.clock, g.options, nullptr);
  plan::Plan rest = g.Plan();
  for (const plan::NodePlan& np : rest.nodes) {
    for (const plan::Step& step : np.steps) CHECK(step.id != "n01/discover/hardware");
  }
  Result<RunSummary> r = executor.Execute(rest, g.inv, TestRun(), {}, fresh);
  REQUIRE(r.ok());
  CHECK(r->outcome == state::RunOutcome::kSucceeded);
  CHECK(g.Plan().summary.steps == 0);
}

TEST_CASE("a second interrupt aborts running steps and leaves them for the guard", "[exec]") {
  Harness h(Site());
  h.options.concurrency = 2;
  h.driver.SetStepMillis(2000);
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.id == "n01/discover/hardware") {
      h.interrupt.Raise();
      h.interrupt.Raise();
    }
  };
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.outcome == state::RunOutcome::kAborted);
  CHECK(s.wall_ms < 1500);
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  REQUIRE(!open->empty());
  CHECK(open->front().kind == "discover");
  CHECK(open->front().status == state::StepStatus::kRunning);
  // The steps that had started stay running (for their guard), saying why; the rest are
  // closed.
  Result<std::vector<state::StepRecord>> after = h.store->StepsOfRun(s.run_id);
  REQUIRE(after.ok());
  for (const state::StepRecord& r : *after) {
    INFO(r.kind << " " << r.error);
    if (r.status == state::StepStatus::kRunning) {
      CHECK_THAT(r.error, Catch::StartsWith("interrupted: run "));
    } else {
      CHECK(state::IsFinished(r.status));
    }
  }
}

// A run killed with steps in flight, as kill -9 leaves it: the journal says running.
std::vector<state::StepRecord> KillDuringImage(Harness& h, const plan::Plan& p,
                                               const std::vector<std::string>& in_flight) {
  REQUIRE(h.store->EnsureNodes({"n01", "n02", "n03"}, state::NodeState::kNew).ok());
  Result<int64_t> run = h.store->BeginRun(TestRun());
  REQUIRE(run.ok());
  for (const std::string& id : in_flight) {
    const plan::Step* step = nullptr;
    for (const plan::NodePlan& np : p.nodes) {
      for (const plan::Step& s : np.steps) {
        if (s.id == id) step = &s;
      }
    }
    REQUIRE(step != nullptr);
    state::StepIntent intent{*run, step->node, plan::StepKindName(step->kind), step->component,
                             "{}", 1};
    REQUIRE(h.store->StartStep(intent, state::Store::NodeStateChange{
                                           state::NodeState::kProvisioning, "imaging"},
                               state::Store::Sync::kPowerSafe)
                .ok());
  }
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  REQUIRE(open->size() == in_flight.size());
  CHECK(h.store->GetRun(*run)->outcome == state::RunOutcome::kAborted);
  return *open;
}

TEST_CASE("after a crash, a step in flight is checked by its guard before it runs again",
          "[exec]") {
  Harness h(Site());
  plan::Plan p = h.Plan();
  std::vector<state::StepRecord> open =
      KillDuringImage(h, p, {"n01/image", "n02/image", "n03/install/cuda"});
  h.driver.Guard("n01/image", GuardVerdict::kDone);        // the reimage had finished
  h.driver.Guard("n02/image", GuardVerdict::kUnknown);     // cannot tell: destructive
  h.driver.Guard("n03/install/cuda", GuardVerdict::kUnknown);  // cannot tell: harmless
  RunSummary s = h.Apply(h.Plan(), open);
  std::vector<std::string> ran = h.driver.Ran();
  std::vector<std::string> guarded = h.driver.Guarded();
  std::sort(guarded.begin(), guarded.end());
  CHECK(guarded == std::vector<std::string>{"n01/image", "n02/image", "n03/install/cuda"});
  CHECK(IndexOf(ran, "n01/image") == -1);  // verified, not repeated
  CHECK(IndexOf(ran, "n02/image") == -1);  // never repeated blindly
  CHECK(IndexOf(ran, "n03/install/cuda") >= 0);
  CHECK(s.steps_verified == 1);
  CHECK(h.StateOf("n01") == state::NodeState::kActive);
  CHECK(h.StateOf("n02") == state::NodeState::kFailed);
  CHECK(h.ReasonOf("n02").find("is not repeated blindly") != std::string::npos);
  CHECK(h.StateOf("n03") == state::NodeState::kActive);
  // The verified step is journaled as succeeded with the guard's evidence.
  Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n01");
  REQUIRE(steps.ok());
  bool found = false;
  for (const state::StepRecord& r : *steps) {
    if (r.kind == "image" && r.status == state::StepStatus::kSucceeded) {
      found = r.output_tail.find("verified by its guard") != std::string::npos;
    }
  }
  CHECK(found);
}

TEST_CASE("a step left in flight waits for its guard through applies that do not reach it",
          "[exec]") {
  Harness h(Site());
  plan::Plan p = h.Plan();
  std::vector<state::StepRecord> open = KillDuringImage(h, p, {"n01/image"});
  const int64_t orphan = open.front().id;
  // The next apply stops before it runs anything (declined, vetoed, another selection,
  // interrupted at once): the step is still in flight for the one after it.
  for (int i = 0; i < 2; ++i) {
    Result<std::vector<state::StepRecord>> again = RecoverInterruptedRun(*h.store);
    REQUIRE(again.ok());
    REQUIRE(again->size() == 1);
    CHECK(again->front().id == orphan);
    CHECK(again->front().status == state::StepStatus::kRunning);
    Result<int64_t> idle = h.store->BeginRun(TestRun());  // a run that did nothing
    REQUIRE(idle.ok());
    REQUIRE(h.store->FinishRun(*idle, state::RunOutcome::kSucceeded).ok());
  }
  Result<std::vector<state::StepRecord>> history = h.store->StepsOfNode("n01");
  REQUIRE(history.ok());
  CHECK_THAT(history->front().error, Catch::Contains("the next apply that reaches it checks its "
                                                     "guard first"));

  h.driver.Guard("n01/image", GuardVerdict::kDone);
  Result<std::vector<state::StepRecord>> last = RecoverInterruptedRun(*h.store);
  REQUIRE(last.ok());
  RunSummary s = h.Apply(h.Plan(), *last);
  CHECK(h.driver.Guarded() == std::vector<std::string>{"n01/image"});
  CHECK(IndexOf(h.driver.Ran(), "n01/image") == -1);
  CHECK(s.steps_verified == 1);
  // Resolved: closed with the verdict, and no later apply checks it again.
  history = h.store->StepsOfNode("n01");
  REQUIRE(history.ok());
  CHECK(history->front().status == state::StepStatus::kSkipped);
  CHECK_THAT(history->front().error, Catch::Contains("checked its guard: done"));
  CHECK(RecoverInterruptedRun(*h.store)->empty());
}

TEST_CASE("a destructive step retried after a transient failure is checked by its guard first",
          "[exec]") {
  Harness h(Site());
  // The reset's answer was lost, but it happened: the retry finds the node imaged.
  h.driver.Script("n01/image", {StepOutcome::Transient("BMC: no answer within 30000 ms")});
  h.driver.Guard("n01/image", GuardVerdict::kDone);
  // Here the guard cannot tell: the step is not repeated blindly.
  h.driver.Script("n02/image", {StepOutcome::Transient("BMC: HTTP 504")});
  h.driver.Guard("n02/image", GuardVerdict::kUnknown);
  // A non-destructive step is simply retried.
  h.driver.Script("n03/install/cuda", {StepOutcome::Transient("apt: lock held")});
  RunSummary s = h.Apply(h.Plan());
  std::vector<std::string> ran = h.driver.Ran();
  CHECK(std::count(ran.begin(), ran.end(), "n01/image") == 1);
  CHECK(std::count(ran.begin(), ran.end(), "n02/image") == 1);
  CHECK(std::count(ran.begin(), ran.end(), "n03/install/cuda") == 2);
  std::vector<std::string> guarded = h.driver.Guarded();
  std::sort(guarded.begin(), guarded.end());
  CHECK(guarded == std::vector<std::string>{"n01/image", "n02/image"});
  CHECK(h.StateOf("n01") == state::NodeState::kActive);
  CHECK(h.StateOf("n02") == state::NodeState::kFailed);
  CHECK_THAT(h.ReasonOf("n02"), Catch::Contains("retried after a transient failure") &&
                                    Catch::Contains("is not repeated blindly"));
  CHECK(h.StateOf("n03") == state::NodeState::kActive);
  CHECK(s.steps_verified == 1);
}

// Converges the site, then retires n05 and n06 in the inventory; the policy that confirms
// their erase.

// ---- Journal-ahead ---------------------------------------------------------------------------

// The node's records that are intended (journaled ahead, not started), with the record each
// was journaled after.
std::vector<std::pair<state::StepRecord, int64_t>> JournaledAhead(state::Store& store,
                                                                  const std::string& node) {
  std::vector<std::pair<state::StepRecord, int64_t>> ahead;
  Result<std::vector<state::StepRecord>> steps = store.StepsOfNode(node);
  REQUIRE(steps.ok());
  for (const state::StepRecord& r : *steps) {
    if (r.status != state::StepStatus::kIntended) continue;
    nlohmann::json j = nlohmann::json::parse(r.intent_json);
    ahead.emplace_back(r, j.value("after", int64_t{0}));
  }
  return ahead;
}

TEST_CASE("a step that waits for one other is journaled ahead with its start and used when it "
          "starts",
          "[exec]") {
  Harness h(Site());
  h.options.concurrency = 1;
  // While each step of n01 runs: what is journaled ahead, and after which record.
  std::mutex mu;
  std::vector<std::pair<std::string, std::vector<std::pair<state::StepRecord, int64_t>>>> seen;
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.node != "n01") return;
    auto ahead = JournaledAhead(*h.store, "n01");
    Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n01");
    REQUIRE(steps.ok());
    // Journaled after the record of the step running now, or after one that has finished.
    for (const auto& [record, after] : ahead) {
      INFO(step.id << ": " << record.kind << " " << record.component << " after " << after);
      auto it = std::find_if(steps->begin(), steps->end(),
                             [&, a = after](const state::StepRecord& r) { return r.id == a; });
      REQUIRE(it != steps->end());
      CHECK(it->id < record.id);
      CHECK(it->status != state::StepStatus::kIntended);
    }
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(step.id, ahead);
  };
  plan::Plan p = h.Plan();
  RunSummary s = h.Apply(p);
  CHECK(s.outcome == state::RunOutcome::kSucceeded);
  // Most steps of the chain had their successor journaled ahead, the BIOS update too (a
  // destructive step whose guard asks the BMC), marked destructive for a resume; never the
  // image (its guard needs the node's own system).
  std::set<int64_t> ahead_ids;
  bool firmware_ahead = false;
  for (const auto& [step, ahead] : seen) {
    for (const auto& [record, after] : ahead) {
      CHECK(record.kind != "image");
      if (record.kind == "firmware") {
        firmware_ahead = true;
        CHECK(nlohmann::json::parse(record.intent_json).value("destructive", false));
      }
      ahead_ids.insert(record.id);
    }
  }
  CHECK(firmware_ahead);
  CHECK(ahead_ids.size() >= 4);
  // Each record journaled ahead is the one its step used: succeeded, one record per step.
  Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n01");
  REQUIRE(steps.ok());
  CHECK(steps->size() == p.nodes[0].steps.size());
  for (const state::StepRecord& r : *steps) {
    INFO(r.kind << " " << r.component);
    CHECK(r.status == state::StepStatus::kSucceeded);
    CHECK(r.started_at > 0);
  }
  for (int64_t id : ahead_ids) {
    CHECK(std::any_of(steps->begin(), steps->end(), [&](const state::StepRecord& r) {
      return r.id == id && r.status == state::StepStatus::kSucceeded;
    }));
  }
}

TEST_CASE("a node that fails keeps no record of the step journaled ahead after its failed step",
          "[exec]") {
  Harness h(Site());
  h.driver.Script("n03/install/nvidia_driver",
                  {StepOutcome::Failed("dpkg: error processing package nvidia-driver-550")});
  size_t ahead_while_failing = 0;
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.id == "n03/install/nvidia_driver") {
      ahead_while_failing = JournaledAhead(*h.store, "n03").size();
    }
  };
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.nodes_failed == 1);
  CHECK(ahead_while_failing >= 1);  // what would have come next was journaled ahead
  CHECK(JournaledAhead(*h.store, "n03").empty());
  Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode("n03");
  REQUIRE(steps.ok());
  CHECK(steps->back().status == state::StepStatus::kFailed);
  CHECK(steps->back().component == "nvidia_driver");
  for (const state::StepRecord& r : *steps) CHECK(state::IsFinished(r.status));
  // Nothing of any node is left intended.
  for (const char* n : {"n01", "n02", "n04", "n05", "n06"}) {
    CHECK(JournaledAhead(*h.store, n).empty());
  }
}

TEST_CASE("an interrupted run withdraws the records journaled ahead of steps it did not start",
          "[exec]") {
  Harness h(Site());
  h.driver.SetStepMillis(5);
  h.driver.on_run = [&](const plan::Step& step) {
    if (step.id == "n01/install/nvidia_driver") h.interrupt.Raise();
  };
  RunSummary s = h.Apply(h.Plan());
  CHECK(s.outcome == state::RunOutcome::kAborted);
  for (const char* n : {"n01", "n02", "n03", "n04", "n05", "n06"}) {
    INFO(n);
    CHECK(JournaledAhead(*h.store, n).empty());
  }
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  CHECK(open->empty());  // nothing in flight: running steps finished, the rest never started
  // The next apply goes on from there, each step once.
  h.driver.on_run = nullptr;
  Interrupt fresh;
  Executor executor(*h.store, h.driver, h.clock, h.options, nullptr);
  Result<RunSummary> again = executor.Execute(h.Plan(), h.inv, TestRun(), {}, fresh);
  REQUIRE(again.ok());
  CHECK(again->outcome == state::RunOutcome::kSucceeded);
  CHECK(h.Plan().summary.steps == 0);
  for (const char* n : {"n01", "n02", "n03", "n04", "n05", "n06"}) {
    Result<std::vector<state::StepRecord>> steps = h.store->StepsOfNode(n);
    REQUIRE(steps.ok());
    std::set<std::string> once;
    for (const state::StepRecord& r : *steps) {
      INFO(n << " " << r.kind << " " << r.component);
      CHECK(r.status == state::StepStatus::kSucceeded);
      CHECK(once.insert(r.kind + "/" + r.component).second);
    }
  }
}

TEST_CASE("after a kill, a step journaled ahead is checked by its guard unless the step it "
          "waited for failed",
          "[exec]") {
  Harness h(Site());
  plan::Plan p = h.Plan();
  REQUIRE(h.store->EnsureNodes({"n01", "n02"}, state::NodeState::kNew).ok());
  Result<int64_t> run = h.store->BeginRun(TestRun());
  REQUIRE(run.ok());
  // As a run leaves it: the driver install started, the CUDA install journaled ahead with
  // it; the kill came before any more was recorded.
  auto start_with_ahead = [&](const std::string& node) {
    state::Store::StepStart start;
    start.intent = {*run, node, "install", "nvidia_driver", R"({"id":"x"})", 1};
    auto slot = std::make_shared<state::Store::AheadSlot>();
    start.ahead.push_back({{*run, node, "install", "cuda", R"({"id":"y"})", 1}, slot});
    std::vector<Result<int64_t>> ids =
        h.store->StartSteps({start}, state::Store::Sync::kCrashSafe);
    REQUIRE(ids.size() == 1);
    REQUIRE(ids[0].ok());
    REQUIRE(slot->id.load() > 0);
    CHECK(h.store->AheadJournaled(*slot));
    return std::pair{*ids[0], slot->id.load()};
  };
  auto [n01_driver, n01_cuda] = start_with_ahead("n01");
  auto [n02_driver, n02_cuda] = start_with_ahead("n02");
  // n02's driver install had failed (recorded): its CUDA install cannot have started.
  state::StepResult failed{state::StepStatus::kFailed, "dpkg: error", "", std::nullopt};
  REQUIRE(h.store
              ->FinishStep(n02_driver, failed,
                           state::Store::NodeStateChange{state::NodeState::kFailed, "dpkg"},
                           false, state::Store::Sync::kCrashSafe)
              .ok());
  auto ahead = JournaledAhead(*h.store, "n01");
  REQUIRE(ahead.size() == 1);
  CHECK(ahead[0].second == n01_driver);

  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  std::vector<int64_t> open_ids;
  for (const state::StepRecord& r : *open) open_ids.push_back(r.id);
  std::sort(open_ids.begin(), open_ids.end());
  // n01: both may have run (the install's result and the CUDA install's "running" are
  // queued, not waited for): both wait for their guard. n02's CUDA install is withdrawn.
  CHECK(open_ids == std::vector<int64_t>{n01_driver, n01_cuda});
  Result<std::vector<state::StepRecord>> n01 = h.store->StepsOfNode("n01");
  REQUIRE(n01.ok());
  REQUIRE(n01->size() == 2);
  CHECK(n01->back().status == state::StepStatus::kRunning);
  CHECK_THAT(n01->back().error, Catch::Contains("journaled ahead"));
  Result<std::vector<state::StepRecord>> n02 = h.store->StepsOfNode("n02");
  REQUIRE(n02.ok());
  REQUIRE(n02->size() == 1);
  CHECK(n02->front().status == state::StepStatus::kFailed);

  // The next apply checks n01's two guards before anything else of theirs runs again.
  h.driver.Guard("n01/install/nvidia_driver", GuardVerdict::kDone);
  h.driver.Guard("n01/install/cuda", GuardVerdict::kNotDone);
  RunSummary s = h.Apply(h.Plan(), *open);
  std::vector<std::string> guarded = h.driver.Guarded();
  CHECK(IndexOf(guarded, "n01/install/nvidia_driver") >= 0);
  CHECK(IndexOf(guarded, "n01/install/cuda") >= 0);
  std::vector<std::string> ran = h.driver.Ran();
  CHECK(IndexOf(ran, "n01/install/nvidia_driver") == -1);
  CHECK(IndexOf(ran, "n01/install/cuda") >= 0);
  CHECK(h.StateOf("n01") == state::NodeState::kActive);
  n01 = h.store->StepsOfNode("n01");
  REQUIRE(n01.ok());
  for (const state::StepRecord& r : *n01) {
    INFO(r.kind << " " << r.component << " " << r.error);
    CHECK(state::IsFinished(r.status));
  }
}

TEST_CASE("after a kill, a destructive step journaled ahead is checked by its guard even when "
          "the step it waited for failed",
          "[exec]") {
  Harness h(Site());
  REQUIRE(h.store->EnsureNodes({"n01"}, state::NodeState::kNew).ok());
  Result<int64_t> run = h.store->BeginRun(TestRun());
  REQUIRE(run.ok());
  // Discovery started with the BIOS update journaled ahead (power-safe: it may start only
  // once its record is on disk); then discovery failed, and the run was killed.
  state::Store::StepStart start;
  start.intent = {*run, "n01", "discover", "", R"({"id":"n01/discover"})", 1};
  auto slot = std::make_shared<state::Store::AheadSlot>();
  slot->power_safe = true;
  start.ahead.push_back(
      {{*run, "n01", "firmware", "bios", R"({"id":"n01/firmware/bios","destructive":true})", 1},
       slot});
  std::vector<Result<int64_t>> ids = h.store->StartSteps({start}, state::Store::Sync::kCrashSafe);
  REQUIRE(ids.size() == 1);
  REQUIRE(ids[0].ok());
  REQUIRE(slot->id.load() > 0);
  // Synced in the background after its commit: usable once that fsync is done.
  for (int i = 0; i < 500 && !h.store->AheadJournaled(*slot); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(h.store->AheadJournaled(*slot));
  state::StepResult failed{state::StepStatus::kFailed, "BMC: no answer", "", std::nullopt};
  REQUIRE(h.store->FinishStep(*ids[0], failed, std::nullopt, false, state::Store::Sync::kCrashSafe)
              .ok());

  // A power cut keeps the commits up to the last fsync only: the record of a retry of
  // discovery that succeeded, and the BIOS update that followed, may be past it. So the
  // update may have started: it waits for its guard, it is not withdrawn.
  Result<std::vector<state::StepRecord>> open = RecoverInterruptedRun(*h.store);
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  CHECK(open->front().id == slot->id.load());
  CHECK(open->front().status == state::StepStatus::kRunning);
  CHECK_THAT(open->front().error, Catch::Contains("journaled ahead"));
}

}  // namespace
}  // namespace racksmith::exec
