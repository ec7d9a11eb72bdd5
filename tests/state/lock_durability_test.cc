// Between processes: the apply lock, and durability under kill -9.
// Children are forked; they never return into Catch2 (they _exit), and they open their own
// Store, as a second racksmith process would.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "state/store.h"
#include "store_test_util.h"
#include "support/temp_dir.h"

namespace racksmith::state {
namespace {

using racksmith::testing::TempDir;
using testing::MustOpen;

// A one-byte message between parent and child.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(pipe(fds) == 0); }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
  void Send(char c) const { (void)!write(fds[1], &c, 1); }
  char Receive() const {
    char c = 0;
    return read(fds[0], &c, 1) == 1 ? c : 0;
  }
};

int WaitFor(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// In a child: holds the apply lock until told to go, then releases it (or not, to leave
// it stale). Reports 'L' once it holds the lock, 'E' if it could not take it.
pid_t ForkLockHolder(const std::string& path, const Pipe& to_parent, const Pipe& to_child,
                     bool release) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    SystemClock clock;
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock);
    if (!store.ok() || !(*store)->AcquireLock("racksmith apply @rack:r01").ok()) {
      to_parent.Send('E');
      _exit(1);
    }
    to_parent.Send('L');
    to_child.Receive();
    if (release && !(*store)->ReleaseLock().ok()) _exit(2);
    _exit(0);  // no destructors: a crash leaves the lock behind
  }
  return pid;
}

TEST_CASE("the apply lock is exclusive between two processes", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto store = MustOpen(path, clock);
  Pipe to_parent, to_child;
  pid_t child = ForkLockHolder(path, to_parent, to_child, /*release=*/true);
  REQUIRE(to_parent.Receive() == 'L');

  Result<LockInfo> refused = store->AcquireLock("racksmith apply @rack:r02");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == ErrorCode::kConflict);
  CHECK_THAT(refused.error().message(),
             Catch::StartsWith(path +
                               ": the apply lock is held by 'racksmith apply @rack:r01' "
                               "(pid " +
                               std::to_string(child) + " on host "));
  CHECK_THAT(refused.error().message(), Catch::Contains(" since 20"));
  Result<std::optional<LockHolder>> holder = store->CurrentLock();
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK((*holder)->pid == child);

  to_child.Send('g');
  CHECK(WaitFor(child) == 0);
  Result<LockInfo> got = store->AcquireLock("racksmith apply @rack:r02");
  REQUIRE(got.ok());
  CHECK_FALSE(got->stale.has_value());
  CHECK(got->holder.pid == getpid());
  RS_REQUIRE_OK(store->ReleaseLock());
  CHECK_FALSE(store->CurrentLock()->has_value());
  CHECK(store->ReleaseLock().error().code() == ErrorCode::kNotFound);
}

TEST_CASE("a lock left by a dead process on this host is taken over and reported", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  Pipe to_parent, to_child;
  pid_t child = ForkLockHolder(path, to_parent, to_child, /*release=*/false);
  REQUIRE(to_parent.Receive() == 'L');
  to_child.Send('g');
  REQUIRE(WaitFor(child) == 0);

  FakeClock clock;
  auto store = MustOpen(path, clock);
  Result<LockInfo> got = store->AcquireLock("racksmith apply");
  REQUIRE(got.ok());
  REQUIRE(got->stale.has_value());
  CHECK(got->stale->pid == child);
  CHECK(got->stale->description == "racksmith apply @rack:r01");
  CHECK_THAT(got->ToString(), Catch::StartsWith(fmt::format(
                                  "took over a stale apply lock from pid {} on host ", child)));
  CHECK(store->CurrentLock()->value().pid == getpid());
}

// Writes a lock row as another racksmith would have left it.
void PlantLock(const std::string& path, int64_t pid, const std::string& host,
               const std::string& identity) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql = fmt::format(
      "INSERT INTO apply_lock (id, description, pid, host, since, process_identity) "
      "VALUES (1, 'racksmith apply old', {}, '{}', 0, '{}')",
      pid, host, identity);
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

std::string ThisHost() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

TEST_CASE("a lock whose pid now runs another process is taken over as stale", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto store = MustOpen(path, clock);
  // The parent process is alive, but it is not the process that took this lock.
  PlantLock(path, getppid(), ThisHost(), "another-boot/12345");
  Result<LockInfo> got = store->AcquireLock("racksmith apply");
  REQUIRE(got.ok());
  REQUIRE(got->stale.has_value());
  CHECK(got->stale->pid == getppid());
  CHECK(got->stale->process_identity == "another-boot/12345");
  CHECK_FALSE(got->holder.process_identity.empty());
}

TEST_CASE("a lock held from another host is never taken over", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto store = MustOpen(path, clock);
  PlantLock(path, 999'999'999, "some-other-controller", "");
  Result<LockInfo> got = store->AcquireLock("racksmith apply");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code() == ErrorCode::kConflict);
  CHECK_THAT(got.error().message(),
             Catch::EndsWith("the apply lock is held by 'racksmith apply old' (pid 999999999 "
                             "on host some-other-controller) since 1970-01-01 00:00:00 UTC"));
}

TEST_CASE("a store releases the lock it holds when it is closed", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  {
    auto store = MustOpen(path, clock);
    REQUIRE(store->AcquireLock("racksmith apply").ok());
  }
  auto other = MustOpen(path, clock);
  CHECK_FALSE(other->CurrentLock()->has_value());
}

TEST_CASE("breaking the lock removes it whoever holds it", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto a = MustOpen(path, clock);
  auto b = MustOpen(path, clock);
  REQUIRE(a->AcquireLock("first").ok());
  // Same process, other connection: still held, since the holder is alive.
  CHECK(b->AcquireLock("second").error().code() == ErrorCode::kConflict);
  Result<std::optional<LockHolder>> broken = b->BreakLock(nullptr);
  REQUIRE(broken.ok());
  REQUIRE(broken->has_value());
  CHECK((*broken)->description == "first");
  CHECK(b->AcquireLock("second").ok());
}

TEST_CASE("breaking the lock of a holder read earlier leaves a lock that changed hands",
          "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto a = MustOpen(path, clock);
  auto b = MustOpen(path, clock);
  REQUIRE(a->AcquireLock("first").ok());
  Result<std::optional<LockHolder>> judged = b->CurrentLock();  // `state unlock` reads it...
  REQUIRE(judged.ok());
  REQUIRE(judged->has_value());
  REQUIRE(a->ReleaseLock().ok());  // ...the holder goes, an apply takes the lock over...
  clock.Advance(1000);
  REQUIRE(a->AcquireLock("racksmith apply @rack:r01").ok());
  Result<std::optional<LockHolder>> broken = b->BreakLock(&**judged);  // ...then it breaks
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().code() == ErrorCode::kConflict);
  CHECK_THAT(broken.error().message(),
             Catch::Contains("changed hands") && Catch::Contains("racksmith apply @rack:r01"));
  CHECK(b->CurrentLock()->value().description == "racksmith apply @rack:r01");
  Result<std::optional<LockHolder>> now = b->CurrentLock();
  REQUIRE(now.ok());
  broken = b->BreakLock(&**now);
  REQUIRE(broken.ok());
  CHECK_FALSE(b->CurrentLock()->has_value());
}

// The child journals steps and records components in a loop until it is killed.
[[noreturn]] void WriteForever(const std::string& path, const Pipe& to_parent) {
  SystemClock clock;
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(path, clock);
  if (!opened.ok()) _exit(1);
  Store& store = **opened;
  Result<int64_t> run = store.BeginRun({"writer", "test", "localhost", getpid()});
  if (!run.ok()) _exit(1);
  bool told = false;
  for (int i = 0;; ++i) {
    std::string node = fmt::format("n{:03}", i % 100);
    if (!store.EnsureNodes({node}, NodeState::kNew).ok()) _exit(1);
    Result<int64_t> step =
        store.RecordIntent({*run, node, "install", "cuda", fmt::format(R"({{"i":{}}})", i), 1});
    if (!step.ok()) _exit(1);
    ComponentRecord c{node, "cuda", "12.4", fmt::format("hash-{}", i), 0, 0};
    if (!store.RecordResult(*step, {StepStatus::kSucceeded, "", std::string(2000, 'o'), c}).ok()) {
      _exit(1);
    }
    if (!told && i >= 20) {
      to_parent.Send('W');
      told = true;
    }
  }
}

TEST_CASE("a writer killed with SIGKILL at any moment leaves a consistent database", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  for (int round = 0; round < 4; ++round) {
    Pipe to_parent;
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) WriteForever(path, to_parent);
    REQUIRE(to_parent.Receive() == 'W');
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 17 * round));
    kill(child, SIGKILL);
    int status = WaitFor(child);
    REQUIRE(WIFSIGNALED(status));

    FakeClock clock;
    auto store = MustOpen(path, clock);
    RS_REQUIRE_OK(store->CheckIntegrity());
    // The step's result and its component were one transaction: each node's component hash
    // is the one its last succeeded step wrote, never ahead or behind.
    Result<std::vector<NodeSnapshot>> snaps = store->LoadSnapshots();
    REQUIRE(snaps.ok());
    int succeeded = 0;
    for (const NodeSnapshot& s : *snaps) {
      Result<std::vector<StepRecord>> steps = store->StepsOfNode(s.node.name);
      REQUIRE(steps.ok());
      const StepRecord* last_ok = nullptr;
      for (const StepRecord& step : *steps) {
        if (step.status == StepStatus::kSucceeded) {
          last_ok = &step;
          ++succeeded;
        }
      }
      if (last_ok == nullptr) continue;
      int i = nlohmann::json::parse(last_ok->intent_json)["i"];
      REQUIRE(s.components.size() == 1);
      CHECK(s.components[0].content_hash == fmt::format("hash-{}", i));
    }
    // Every round committed at least 21 results before the parent was told to kill.
    CHECK(succeeded >= 21 * (round + 1));
  }
}

TEST_CASE("a backup made while the store is open is a complete private copy", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto store = MustOpen(path, clock);
  REQUIRE(store->EnsureNodes({"n1", "n2"}, NodeState::kNew).ok());
  std::string backup = dir.Join("backup.db");
  RS_REQUIRE_OK(store->BackupTo(backup));
  CHECK(store->BackupTo(backup).error().code() == ErrorCode::kInvalidInput);
  auto copy = MustOpen(backup, clock);
  CHECK(copy->ListNodes()->size() == 2);
  RS_REQUIRE_OK(copy->CheckIntegrity());
}

}  // namespace
}  // namespace racksmith::state
