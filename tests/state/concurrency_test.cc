// Concurrent use: threads sharing one Store, and processes writing the same file.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>
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
