// Concurrent use: threads sharing one Store, and processes writing the same file.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "state/store.h"
#include "store_test_util.h"
#include "support/temp_dir.h"

namespace racksmith::state {
namespace {

using racksmith::testing::TempDir;
using testing::MustOpen;

// Journals `count` steps on `node`, each intent then result; false on the first error.
bool JournalSteps(Store& store, int64_t run, const std::string& node, int count) {
  for (int i = 0; i < count; ++i) {
    Result<int64_t> step = store.RecordIntent({run, node, "exec", "", "", 1});
    if (!step.ok()) return false;
    if (!store.RecordResult(*step, {}).ok()) return false;
  }
  return true;
}

// `steps` steps on each of `threads` threads at once, each thread on a new node of its own
// ("<prefix><t>") in one run: `step(t, i, run, node)` returns an error, which stops that
// thread. CHECKs that no thread reported one; returns the nodes and the run.
struct ThreadedRun {
  std::vector<std::string> nodes;
  int64_t run = 0;
};
ThreadedRun StepsFromThreads(
    Store& store, const std::string& prefix, int threads, int steps,
    const std::function<std::string(int t, int i, int64_t run, const std::string& node)>& step) {
  ThreadedRun r;
  for (int t = 0; t < threads; ++t) r.nodes.push_back(fmt::format("{}{}", prefix, t));
  REQUIRE(store.EnsureNodes(r.nodes, NodeState::kNew).ok());
  Result<int64_t> run = store.BeginRun({prefix, "test", "localhost", 1});
  REQUIRE(run.ok());
  r.run = *run;
  std::vector<std::string> errors(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < steps && errors[t].empty(); ++i) {
        errors[t] = step(t, i, r.run, r.nodes[t]);
      }
    });
  }
  for (std::thread& th : pool) th.join();
  CHECK(errors == std::vector<std::string>(threads));
  return r;
}

// Each node has `steps` components recorded and ended in burn-in.
void CheckNodesFinished(Store& store, const std::vector<std::string>& nodes, int steps) {
  for (const std::string& n : nodes) {
    Result<std::vector<ComponentRecord>> c = store.Components(n);
    REQUIRE(c.ok());
    CHECK(c->size() == static_cast<size_t>(steps));
    CHECK(store.GetNode(n)->state == NodeState::kBurnin);
  }
}

// Every step of the run succeeded, and every node has each step's component and its state.
void CheckRunSucceeded(Store& store, const ThreadedRun& r, int steps) {
  Result<std::vector<StepRecord>> all = store.StepsOfRun(r.run);
  REQUIRE(all.ok());
  CHECK(all->size() == r.nodes.size() * static_cast<size_t>(steps));
  for (const StepRecord& rec : *all) CHECK(rec.status == StepStatus::kSucceeded);
  CheckNodesFinished(store, r.nodes, steps);
}

TEST_CASE("threads sharing one store journal without losing a step", "[state]") {
  TempDir dir;
  SystemClock clock;
  auto store = MustOpen(dir.Join("state.db"), clock);
  REQUIRE(store->EnsureNodes({"t0", "t1", "t2", "t3"}, NodeState::kNew).ok());
  Result<int64_t> run = store->BeginRun({"threads", "test", "localhost", 1});
  REQUIRE(run.ok());
  std::vector<std::thread> threads;
  std::vector<char> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ok[t] = JournalSteps(*store, *run, fmt::format("t{}", t), 25);
      // Reads interleave with the writes.
      ok[t] = ok[t] && store->LoadSnapshots().ok();
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(ok == std::vector<char>(4, 1));
  Result<std::vector<StepRecord>> steps = store->StepsOfRun(*run);
  REQUIRE(steps.ok());
  CHECK(steps->size() == 100);
}

TEST_CASE("steps started and finished by many threads at once each get their own result",
          "[state]") {
  // StartStep/FinishStep from concurrent threads share commits (group commit); a failing
  // write in a shared commit must fail alone and leave nothing behind.
  TempDir dir;
  SystemClock clock;
  auto store = MustOpen(dir.Join("state.db"), clock);
  constexpr int kThreads = 8, kSteps = 30;
  ThreadedRun r = StepsFromThreads(
      *store, "g", kThreads, kSteps,
      [&](int t, int i, int64_t run, const std::string& node) -> std::string {
        // Batches mix fsynced and crash-safe commits.
        const Store::Sync sync = (i + t) % 2 ? Store::Sync::kPowerSafe : Store::Sync::kCrashSafe;
        Result<int64_t> id = store->StartStep(
            {run, node, "install", fmt::format("c{}", i), "", 1},
            Store::NodeStateChange{NodeState::kProvisioning, "installing"}, sync);
        if (!id.ok()) return id.error().ToString();
        // Interleaved bad writes: an unknown node, an unknown step.
        if (store->StartStep({run, "no-such-node", "install", "x", "", 1}, std::nullopt, sync)
                .ok()) {
          return "a step for an unknown node was journaled";
        }
        StepResult bad;
        bad.status = StepStatus::kSucceeded;
        if (store->FinishStep(*id + 1'000'000, bad, std::nullopt, false, sync).ok()) {
          return "an unknown step was finished";
        }
        StepResult ok;
        ok.status = StepStatus::kSucceeded;
        ok.component = ComponentRecord{"", fmt::format("c{}", i), "1.0", fmt::format("h{}", i)};
        Status s = store->FinishStep(
            *id, ok, Store::NodeStateChange{NodeState::kBurnin, "step done"}, false, sync);
        return s.ok() ? "" : s.error().ToString();
      });
  CheckRunSucceeded(*store, r, kSteps);
  CHECK_FALSE(store->GetNode("no-such-node").ok());
  CHECK(store->CheckIntegrity().ok());
}

TEST_CASE("a burst of journal writes larger than one commit takes is committed in order, each "
          "once",
          "[state]") {
  // 40 threads start steps (waited for) and finish them deferred at once: the queue holds
  // more ops than one commit takes (8), so leaders commit several batches, and a leader's
  // own op is at times past the first; each write must land once, in order.
  TempDir dir;
  SystemClock clock;
  auto store = MustOpen(dir.Join("state.db"), clock);
  constexpr int kThreads = 40, kSteps = 12;
  ThreadedRun r = StepsFromThreads(
      *store, "b", kThreads, kSteps,
      [&](int t, int i, int64_t run, const std::string& node) -> std::string {
        const Store::Sync sync = (i + t) % 5 == 0 ? Store::Sync::kPowerSafe
                                                   : Store::Sync::kCrashSafe;
        Result<int64_t> id = store->StartStep(
            {run, node, "install", fmt::format("c{}", i), "", 1},
            Store::NodeStateChange{NodeState::kProvisioning, "installing"}, sync);
        if (!id.ok()) return id.error().ToString();
        StepResult ok;
        ok.status = StepStatus::kSucceeded;
        ok.component = ComponentRecord{"", fmt::format("c{}", i), "1.0", fmt::format("h{}", i)};
        Status s = store->FinishStep(*id, ok,
                                     Store::NodeStateChange{NodeState::kBurnin, "step done"},
                                     false, Store::Sync::kDeferred);
        return s.ok() ? "" : s.error().ToString();
      });
  REQUIRE(store->FlushJournal().ok());
  CheckRunSucceeded(*store, r, kSteps);
  // Each node's steps in the order its thread journaled them.
  for (const std::string& node : r.nodes) {
    Result<std::vector<StepRecord>> mine = store->StepsOfNode(node);
    REQUIRE(mine.ok());
    REQUIRE(mine->size() == static_cast<size_t>(kSteps));
    for (int i = 0; i < kSteps; ++i) CHECK((*mine)[i].component == fmt::format("c{}", i));
  }
  CHECK(store->CheckIntegrity().ok());
}

TEST_CASE("deferred step results are in the journal before any later call of the store reads it",
          "[state]") {
  // Each thread finishes its steps with Sync::kDeferred (queued behind the commit another
  // thread leads, not waited for) and reads its node's journal at once: the read settles
  // the queue first, so it always sees the result it just handed over.
  TempDir dir;
  SystemClock clock;
  auto store = MustOpen(dir.Join("state.db"), clock);
  constexpr int kThreads = 8, kSteps = 40;
  ThreadedRun r = StepsFromThreads(
      *store, "d", kThreads, kSteps,
      [&](int, int i, int64_t run, const std::string& node) -> std::string {
        Result<int64_t> id = store->StartStep({run, node, "install", fmt::format("c{}", i), "", 1},
                                              std::nullopt, Store::Sync::kCrashSafe);
        if (!id.ok()) return id.error().ToString();
        StepResult ok;
        ok.component = ComponentRecord{"", fmt::format("c{}", i), "1.0", "h"};
        Status s = store->FinishStep(*id, ok, Store::NodeStateChange{NodeState::kBurnin, "done"},
                                     false, Store::Sync::kDeferred);
        if (!s.ok()) return s.error().ToString();
        Result<std::vector<StepRecord>> steps = store->StepsOfNode(node);
        if (!steps.ok() || steps->size() != static_cast<size_t>(i + 1) ||
            steps->back().status != StepStatus::kSucceeded) {
          return fmt::format("step {} of {}: its deferred result was not read back", i, node);
        }
        return "";
      });
  RS_REQUIRE_OK(store->FlushJournal());
  CheckNodesFinished(*store, r.nodes, kSteps);
}

TEST_CASE("a deferred step result that cannot be written fails every later journal write",
          "[state]") {
  TempDir dir;
  SystemClock clock;
  auto store = MustOpen(dir.Join("state.db"), clock);
  REQUIRE(store->EnsureNodes({"f0"}, NodeState::kNew).ok());
  Result<int64_t> run = store->BeginRun({"deferred", "test", "localhost", 1});
  REQUIRE(run.ok());
  RS_REQUIRE_OK(store->FlushJournal());
  StepResult ok;
  // A caller's mistake is reported at once, deferred or not.
  StepResult running;
  running.status = StepStatus::kRunning;
  CHECK(store->FinishStep(1, running, std::nullopt, false, Store::Sync::kDeferred).error().code() ==
        ErrorCode::kInvalidInput);
  CHECK(store->StartStep({*run, "f0", "install", "x", "", 1}, std::nullopt,
                         Store::Sync::kDeferred)
            .error()
            .code() == ErrorCode::kInvalidInput);
  // A failure in the commit (no such step) is the store's from then on.
  (void)store->FinishStep(424242, ok, std::nullopt, false, Store::Sync::kDeferred);
  Status flushed = store->FlushJournal();
  REQUIRE_FALSE(flushed.ok());
  CHECK_THAT(flushed.error().message(),
             Catch::Contains("an earlier step result could not be journaled") &&
                 Catch::Contains("no step 424242"));
  Result<int64_t> later =
      store->StartStep({*run, "f0", "install", "y", "", 1}, std::nullopt, Store::Sync::kCrashSafe);
  REQUIRE_FALSE(later.ok());
  CHECK_THAT(later.error().message(), Catch::Contains("no step 424242"));
  CHECK(store->StepsOfNode("f0")->empty());
}

TEST_CASE("a journal write queued behind a deferred result that then fails is not committed",
          "[state]") {
  TempDir dir;
  SystemClock clock;
  const std::string path = dir.Join("state.db");
  auto store = MustOpen(path, clock);
  REQUIRE(store->EnsureNodes({"f0"}, NodeState::kNew).ok());
  Result<int64_t> run = store->BeginRun({"deferred", "test", "localhost", 1});
  REQUIRE(run.ok());
  Result<int64_t> first =
      store->StartStep({*run, "f0", "install", "x", "", 1}, std::nullopt, Store::Sync::kCrashSafe);
  REQUIRE(first.ok());
  // Another connection holds the write lock, so what follows queues up behind it: the
  // failing result is queued before its failure is known, the next step's start after it.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  StepResult ok;
  RS_REQUIRE_OK(store->FinishStep(*first, ok, std::nullopt, false, Store::Sync::kDeferred));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  RS_REQUIRE_OK(store->FinishStep(424242, ok, std::nullopt, false, Store::Sync::kDeferred));
  std::future<Result<int64_t>> next = std::async(std::launch::async, [&] {
    return store->StartStep({*run, "f0", "install", "y", "", 1}, std::nullopt,
                            Store::Sync::kCrashSafe);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  Result<int64_t> later = next.get();
  REQUIRE_FALSE(later.ok());
  CHECK_THAT(later.error().message(),
             Catch::Contains("an earlier step result could not be journaled") &&
                 Catch::Contains("no step 424242"));
  // The first step's result is in; the later step never started in the journal.
  Result<std::vector<StepRecord>> steps = store->StepsOfNode("f0");
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == 1);
  CHECK(steps->front().status == StepStatus::kSucceeded);
}

TEST_CASE("two processes writing the same store both get every write in", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  SystemClock clock;
  auto store = MustOpen(path, clock);
  REQUIRE(store->EnsureNodes({"p0", "p1"}, NodeState::kNew).ok());
  Result<int64_t> run = store->BeginRun({"processes", "test", "localhost", 1});
  REQUIRE(run.ok());
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    SystemClock child_clock;
    Result<std::unique_ptr<Store>> own = OpenSqliteStore(path, child_clock);
    _exit(own.ok() && JournalSteps(**own, *run, "p1", 60) ? 0 : 1);
  }
  bool parent_ok = JournalSteps(*store, *run, "p0", 60);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(parent_ok);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(store->StepsOfNode("p0")->size() == 60);
  CHECK(store->StepsOfNode("p1")->size() == 60);
  RS_REQUIRE_OK(store->CheckIntegrity());
}

}  // namespace
}  // namespace racksmith::state
