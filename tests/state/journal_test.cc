// Runs and the journal: intent before a step, result after, and the queries over them.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <memory>

#include "state/store.h"
#include "store_test_util.h"

namespace racksmith::state {
namespace {

struct JournalFixture {
  FakeClock clock;
  std::unique_ptr<Store> store;
  int64_t run = 0;

  JournalFixture() {
    Result<std::unique_ptr<Store>> opened = OpenMemoryStore(clock);
    REQUIRE(opened.ok());
    store = std::move(*opened);
    REQUIRE(store->EnsureNodes({"n1", "n2", "n3"}, NodeState::kNew).ok());
    Result<int64_t> r = store->BeginRun({"racksmith apply n[1-3]", "alice", "ctl1", 4242});
    REQUIRE(r.ok());
    run = *r;
  }

  int64_t Intend(const std::string& node, const std::string& kind,
                 const std::string& component = "") {
    Result<int64_t> id = store->RecordIntent({run, node, kind, component, R"({"x":1})", 1});
    REQUIRE(id.ok());
    return *id;
  }
};

TEST_CASE("a run records who started it, and its outcome when it finishes", "[state]") {
  JournalFixture f;
  Result<RunRecord> r = f.store->GetRun(f.run);
  REQUIRE(r.ok());
  CHECK(r->command_line == "racksmith apply n[1-3]");
  CHECK(r->user == "alice");
  CHECK(r->host == "ctl1");
  CHECK(r->pid == 4242);
  CHECK(r->outcome == RunOutcome::kRunning);
  CHECK(r->finished_at == 0);
  f.clock.Advance(60'000);
  RS_REQUIRE_OK(f.store->FinishRun(f.run, RunOutcome::kFailed));
  r = f.store->GetRun(f.run);
  CHECK(r->outcome == RunOutcome::kFailed);
  CHECK(r->finished_at == r->started_at + 60'000);
  CHECK(f.store->FinishRun(999, RunOutcome::kFailed).error().code() == ErrorCode::kNotFound);
  CHECK(f.store->FinishRun(f.run, RunOutcome::kRunning).error().code() == ErrorCode::kInvalidInput);
}

TEST_CASE("the last run is the newest and runs list newest first", "[state]") {
  JournalFixture f;
  Result<int64_t> second = f.store->BeginRun({"racksmith apply", "bob", "ctl1", 1});
  REQUIRE(second.ok());
  CHECK(*second > f.run);
  Result<std::optional<RunRecord>> last = f.store->LastRun();
  REQUIRE(last.ok());
  REQUIRE(last->has_value());
  CHECK((*last)->id == *second);
  Result<std::vector<RunRecord>> runs = f.store->ListRuns(10);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 2);
  CHECK((*runs)[0].user == "bob");
}

TEST_CASE("an intent is journaled as intended, then running, then with its result", "[state]") {
  JournalFixture f;
  int64_t id = f.Intend("n1", "install", "cuda");
  Result<std::vector<StepRecord>> steps = f.store->StepsOfRun(f.run);
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == 1);
  CHECK((*steps)[0].status == StepStatus::kIntended);
  CHECK((*steps)[0].intent_json == R"({"x":1})");
  CHECK((*steps)[0].finished_at == 0);

  RS_REQUIRE_OK(f.store->MarkRunning(id));
  CHECK(f.store->StepsOfRun(f.run)->at(0).status == StepStatus::kRunning);

  f.clock.Advance(1500);
  RS_REQUIRE_OK(f.store->RecordResult(
      id, {StepStatus::kFailed, "exit status 2", "E: unable to locate package", std::nullopt}));
  StepRecord s = f.store->StepsOfRun(f.run)->at(0);
  CHECK(s.status == StepStatus::kFailed);
  CHECK(s.error == "exit status 2");
  CHECK(s.output_tail == "E: unable to locate package");
  CHECK(s.finished_at == s.started_at + 1500);
  CHECK(s.node == "n1");
  CHECK(s.kind == "install");
  CHECK(s.component == "cuda");
  // A finished step cannot be marked running again.
  CHECK(f.store->MarkRunning(id).error().code() == ErrorCode::kNotFound);
}

TEST_CASE("a succeeded result records its component in the same transaction", "[state]") {
  JournalFixture f;
  int64_t id = f.Intend("n2", "install", "nvidia_driver");
  ComponentRecord c;
  c.component = "nvidia_driver";
  c.version = "560.35";
  c.content_hash = "sha256:abc";
  RS_REQUIRE_OK(f.store->RecordResult(id, {StepStatus::kSucceeded, "", "", c}));
  Result<std::vector<ComponentRecord>> comps = f.store->Components("n2");
  REQUIRE(comps.ok());
  REQUIRE(comps->size() == 1);
  CHECK(comps->at(0).content_hash == "sha256:abc");
  CHECK(comps->at(0).run_id == f.run);

  // A failed result never records the component.
  int64_t failed = f.Intend("n3", "install", "nvidia_driver");
  RS_REQUIRE_OK(f.store->RecordResult(failed, {StepStatus::kFailed, "boom", "", c}));
  CHECK(f.store->Components("n3")->empty());
}

TEST_CASE("a result must be a finished status", "[state]") {
  JournalFixture f;
  int64_t id = f.Intend("n1", "power_on");
  Status s = f.store->RecordResult(id, {StepStatus::kRunning, "", "", std::nullopt});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == ErrorCode::kInvalidInput);
  CHECK(f.store->RecordResult(777, {}).error().code() == ErrorCode::kNotFound);
}

TEST_CASE("an intent for an unknown node or run, or with bad JSON, is refused", "[state]") {
  JournalFixture f;
  CHECK(f.store->RecordIntent({f.run, "ghost", "image", "", "{}", 1}).error().code() ==
        ErrorCode::kNotFound);
  CHECK(f.store->RecordIntent({999, "n1", "image", "", "{}", 1}).error().code() ==
        ErrorCode::kNotFound);
  Result<int64_t> bad = f.store->RecordIntent({f.run, "n1", "image", "", "{oops", 1});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == ErrorCode::kInvalidInput);
  CHECK(bad.error().message() == "the intent of step image on node 'n1' is not valid JSON");
  CHECK(f.store->StepsOfRun(f.run)->empty());
}

TEST_CASE("steps started together are journaled in order, each refused alone", "[state]") {
  JournalFixture f;
  const std::vector<Store::StepStart> starts = {
      {{f.run, "n1", "install", "nvidia_driver", "{}", 1},
       Store::NodeStateChange{NodeState::kProvisioning, "driver 560"}, nullptr, {}},
      {{f.run, "ghost", "install", "cuda", "{}", 1}, std::nullopt, nullptr, {}},  // no node
      {{f.run, "n2", "image", "", "{oops", 1}, std::nullopt, nullptr, {}},        // not JSON
      {{f.run, "n3", "mount", "scratch", "{}", 1}, std::nullopt, nullptr, {}},
  };
  std::vector<Result<int64_t>> ids = f.store->StartSteps(starts, Store::Sync::kCrashSafe);
  REQUIRE(ids.size() == 4);
  RS_REQUIRE_OK(ids[0]);
  REQUIRE_FALSE(ids[1].ok());
  CHECK(ids[1].error().code() == ErrorCode::kNotFound);
  CHECK(ids[1].error().message().find("ghost") != std::string::npos);
  REQUIRE_FALSE(ids[2].ok());
  CHECK(ids[2].error().message() == "the intent of step image on node 'n2' is not valid JSON");
  RS_REQUIRE_OK(ids[3]);
  CHECK(*ids[0] < *ids[3]);

  // The two good ones are running, with the first one's node state change; nothing of
  // the refused ones was written.
  Result<std::vector<StepRecord>> steps = f.store->StepsOfRun(f.run);
  RS_REQUIRE_OK(steps);
  REQUIRE(steps->size() == 2);
  CHECK(steps->at(0).id == *ids[0]);
  CHECK(steps->at(0).node == "n1");
  CHECK(steps->at(0).status == StepStatus::kRunning);
  CHECK(steps->at(1).node == "n3");
  CHECK(f.store->GetNode("n1")->state == NodeState::kProvisioning);
  CHECK(f.store->GetNode("n2")->state == NodeState::kNew);
  RS_REQUIRE_OK(f.store->FinishStep(*ids[3], {}, std::nullopt, false, Store::Sync::kCrashSafe));
  CHECK(f.store->StepsOfNode("n3")->front().status == StepStatus::kSucceeded);

  // A start cannot be deferred: nothing is written.
  std::vector<Result<int64_t>> deferred =
      f.store->StartSteps({starts[0]}, Store::Sync::kDeferred);
  REQUIRE(deferred.size() == 1);
  REQUIRE_FALSE(deferred[0].ok());
  CHECK(deferred[0].error().code() == ErrorCode::kInvalidInput);
  CHECK(f.store->StepsOfRun(f.run)->size() == 2);
  CHECK(f.store->StartSteps({}, Store::Sync::kCrashSafe).empty());
}

TEST_CASE("a step journaled ahead is intended after its predecessor, starts deferred, and is "
          "withdrawn only while unstarted",
          "[state]") {
  JournalFixture f;
  auto next = std::make_shared<Store::AheadSlot>();
  auto other = std::make_shared<Store::AheadSlot>();
  auto bad = std::make_shared<Store::AheadSlot>();
  Store::StepStart first{{f.run, "n1", "install", "nvidia_driver", R"({"id":"a"})", 1},
                         Store::NodeStateChange{NodeState::kProvisioning, "driver"},
                         nullptr,
                         {{{f.run, "n1", "install", "cuda", R"({"id":"b"})", 1}, next},
                          {{f.run, "n1", "mount", "home", "{}", 1}, other},
                          {{f.run, "n1", "slurm", "", "{oops", 1}, bad}}};
  std::vector<Result<int64_t>> ids = f.store->StartSteps({first}, Store::Sync::kCrashSafe);
  REQUIRE(ids.size() == 1);
  RS_REQUIRE_OK(ids[0]);
  // Both good ones are journaled, intended, naming the record they wait for; the one whose
  // intent is not JSON is not (its step journals itself when it starts, and is refused).
  REQUIRE(next->id.load() > *ids[0]);
  REQUIRE(other->id.load() > next->id.load());
  CHECK(bad->id.load() == 0);
  CHECK(f.store->AheadJournaled(*next));
  CHECK_FALSE(f.store->AheadJournaled(*bad));
  Result<std::vector<StepRecord>> steps = f.store->StepsOfNode("n1");
  RS_REQUIRE_OK(steps);
  REQUIRE(steps->size() == 3);
  CHECK(steps->at(0).status == StepStatus::kRunning);
  CHECK(steps->at(1).status == StepStatus::kIntended);
  CHECK(steps->at(1).intent_json == fmt::format(R"({{"id":"b","after":{}}})", *ids[0]));
  CHECK(steps->at(2).intent_json == fmt::format(R"({{"after":{}}})", *ids[0]));

  // Its start: "running" queued (deferred), the same record; settled by the next read.
  f.clock.Advance(5'000);
  RS_REQUIRE_OK(f.store->FinishStep(*ids[0], {}, std::nullopt, false, Store::Sync::kDeferred));
  Store::StepStart second{{f.run, "n1", "install", "cuda", R"({"id":"b"})", 1},
                          std::nullopt, next, {}};
  std::vector<Result<int64_t>> started = f.store->StartSteps({second}, Store::Sync::kDeferred);
  REQUIRE(started.size() == 1);
  RS_REQUIRE_OK(started[0]);
  CHECK(*started[0] == next->id.load());
  steps = f.store->StepsOfNode("n1");
  RS_REQUIRE_OK(steps);
  REQUIRE(steps->size() == 3);
  CHECK(steps->at(0).status == StepStatus::kSucceeded);
  CHECK(steps->at(1).status == StepStatus::kRunning);
  CHECK(steps->at(1).started_at == steps->at(0).started_at + 5'000);  // when it started

  // A start that was not journaled ahead cannot be deferred: refused, nothing written.
  Store::StepStart unjournaled{{f.run, "n2", "image", "", "{}", 1}, std::nullopt, bad, {}};
  std::vector<Result<int64_t>> refused =
      f.store->StartSteps({unjournaled}, Store::Sync::kDeferred);
  REQUIRE_FALSE(refused[0].ok());
  CHECK(refused[0].error().code() == ErrorCode::kInvalidInput);
  CHECK(f.store->StepsOfNode("n2")->empty());

  // Withdrawn: the unstarted one goes; the started one (no longer intended) stays.
  Result<int> removed = f.store->WithdrawAhead({next->id.load(), other->id.load()});
  RS_REQUIRE_OK(removed);
  CHECK(*removed == 1);
  steps = f.store->StepsOfNode("n1");
  RS_REQUIRE_OK(steps);
  REQUIRE(steps->size() == 2);
  CHECK(steps->back().id == next->id.load());
  CHECK(*f.store->WithdrawAhead({}) == 0);
}

TEST_CASE("a long output is kept as its tail", "[state]") {
  JournalFixture f;
  int64_t id = f.Intend("n1", "burnin");
  std::string output = std::string(100'000, 'a') + "LAST LINE";
  RS_REQUIRE_OK(f.store->RecordResult(id, {StepStatus::kSucceeded, "", output, std::nullopt}));
  std::string tail = f.store->StepsOfRun(f.run)->at(0).output_tail;
  CHECK(tail.size() == 64 * 1024);
  CHECK(tail.substr(tail.size() - 9) == "LAST LINE");
}

TEST_CASE("steps of a node are listed oldest first across runs", "[state]") {
  JournalFixture f;
  int64_t a = f.Intend("n1", "power_on");
  f.Intend("n2", "power_on");
  Result<int64_t> run2 = f.store->BeginRun({"racksmith apply", "alice", "ctl1", 1});
  REQUIRE(run2.ok());
  Result<int64_t> b = f.store->RecordIntent({*run2, "n1", "image", "image", "", 2});
  REQUIRE(b.ok());
  Result<std::vector<StepRecord>> steps = f.store->StepsOfNode("n1");
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == 2);
  CHECK(steps->at(0).id == a);
  CHECK(steps->at(1).id == *b);
  CHECK(steps->at(1).run_id == *run2);
  CHECK(steps->at(1).attempt == 2);
  CHECK(steps->at(1).intent_json == "{}");
}

TEST_CASE("the last step per node is each node's newest step", "[state]") {
  JournalFixture f;
  f.Intend("n1", "power_on");
  int64_t n1_last = f.Intend("n1", "image");
  int64_t n2_last = f.Intend("n2", "power_on");
  Result<std::vector<StepRecord>> last = f.store->LastStepPerNode();
  REQUIRE(last.ok());
  REQUIRE(last->size() == 2);  // n3 has no steps
  CHECK(last->at(0).node == "n1");
  CHECK(last->at(0).id == n1_last);
  CHECK(last->at(1).node == "n2");
  CHECK(last->at(1).id == n2_last);
}

TEST_CASE("unfinished steps of the last run are what a resume needs", "[state]") {
  JournalFixture f;
  int64_t done = f.Intend("n1", "power_on");
  int64_t running = f.Intend("n2", "image");
  int64_t intended = f.Intend("n3", "image");
  RS_REQUIRE_OK(f.store->RecordResult(done, {}));
  RS_REQUIRE_OK(f.store->MarkRunning(running));
  Result<std::vector<StepRecord>> open = f.store->UnfinishedStepsOfLastRun();
  REQUIRE(open.ok());
  REQUIRE(open->size() == 2);
  CHECK(open->at(0).id == running);
  CHECK(open->at(0).status == StepStatus::kRunning);
  CHECK(open->at(1).id == intended);
  // Once a newer run begins, the older run's leftovers are no longer "the last run's".
  REQUIRE(f.store->BeginRun({"racksmith apply --resume", "alice", "ctl1", 1}).ok());
  CHECK(f.store->UnfinishedStepsOfLastRun()->empty());
}

}  // namespace
}  // namespace racksmith::state
