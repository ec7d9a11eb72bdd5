// How far journal commits reach: fsynced (Store::Sync::kPowerSafe) or only written to the OS
// (kCrashSafe). SQLite is given a VFS that forwards to the default one and counts xSync
// calls, registered as the default for the duration of a test.
#include <fmt/format.h>
#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "state/store.h"
#include "store_test_util.h"
#include "support/temp_dir.h"

namespace racksmith::state {
namespace {

using racksmith::testing::TempDir;
using testing::MustOpen;

std::atomic<int> g_syncs{0};
sqlite3_vfs* g_base = nullptr;
// The threads that synced a main database file (a checkpoint: WAL commits sync the log).
std::mutex g_db_sync_mu;
std::vector<std::thread::id> g_db_sync_threads;

// Our file: the method table pointer SQLite reads, then the real file, allocated after it.
struct CountingFile {
  sqlite3_file header;
  bool main_db;
  bool wal;
  sqlite3_file* real;
};

// What reached the WAL and what of it an fsync had made durable, for the test of shared
// fsyncs: each WAL write is numbered; a step whose component is "coalesce-mark-NN" is
// first seen in write first_seen[NN]; a WAL fsync covers the writes numbered before it
// began, and synced_upto is the highest write a finished fsync covered.
std::atomic<int> g_wal_sync_delay_ms{0};
std::atomic<int> g_wal_syncs{0};
std::mutex g_wal_mu;
int64_t g_wal_writes = 0;
int64_t g_synced_upto = 0;
std::map<int, int64_t> g_first_seen;
constexpr std::string_view kMark = "coalesce-mark-";

void NoteWalWrite(const void* p, int n) {
  std::lock_guard<std::mutex> lock(g_wal_mu);
  const int64_t seq = ++g_wal_writes;
  std::string_view data(static_cast<const char*>(p), static_cast<size_t>(n));
  for (size_t at = data.find(kMark); at != std::string_view::npos;
       at = data.find(kMark, at + 1)) {
    const size_t digits = at + kMark.size();
    if (digits + 2 > data.size()) break;
    const int mark = (data[digits] - '0') * 10 + (data[digits + 1] - '0');
    g_first_seen.emplace(mark, seq);  // keeps the first
  }
}

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f)->real; }

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), p, n, off);
}
// A full disk for the WAL: its writes fail with this code while it is not SQLITE_OK.
std::atomic<int> g_wal_write_error{SQLITE_OK};

int Write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  if (reinterpret_cast<CountingFile*>(f)->wal && g_wal_write_error.load() != SQLITE_OK) {
    return g_wal_write_error.load();
  }
  int rc = Real(f)->pMethods->xWrite(Real(f), p, n, off);
  if (rc == SQLITE_OK && reinterpret_cast<CountingFile*>(f)->wal) NoteWalWrite(p, n);
  return rc;
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  ++g_syncs;
  if (reinterpret_cast<CountingFile*>(f)->main_db) {
    std::lock_guard<std::mutex> lock(g_db_sync_mu);
    g_db_sync_threads.push_back(std::this_thread::get_id());
  }
  if (!reinterpret_cast<CountingFile*>(f)->wal) return Real(f)->pMethods->xSync(Real(f), flags);
  ++g_wal_syncs;
  int64_t covers = 0;
  {
    std::lock_guard<std::mutex> lock(g_wal_mu);
    covers = g_wal_writes;
  }
  // A slow disk: commits that come meanwhile queue for the next fsync.
  std::this_thread::sleep_for(std::chrono::milliseconds(g_wal_sync_delay_ms.load()));
  int rc = Real(f)->pMethods->xSync(Real(f), flags);
  if (rc == SQLITE_OK) {
    std::lock_guard<std::mutex> lock(g_wal_mu);
    g_synced_upto = std::max(g_synced_upto, covers);
  }
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int remove) { return Real(f)->pMethods->xShmUnmap(Real(f), remove); }

// Version 2 methods: no memory-mapped I/O (xFetch), which SQLite then does not use.
// clang-format off
const sqlite3_io_methods kMethods = {
    2, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock,
    FileControl, SectorSize, DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap,
    nullptr, nullptr};
// clang-format on

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<CountingFile*>(f);
  file->header.pMethods = nullptr;
  file->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  file->wal = (flags & SQLITE_OPEN_WAL) != 0;
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  int rc = g_base->xOpen(g_base, name, file->real, flags, out_flags);
  if (file->real->pMethods != nullptr) file->header.pMethods = &kMethods;
  return rc;
}

// Registers the counting VFS as the default while alive.
class CountingVfs {
 public:
  CountingVfs() {
    g_base = sqlite3_vfs_find(nullptr);
    REQUIRE(g_base != nullptr);
    vfs_ = *g_base;
    vfs_.zName = "racksmith-sync-counting";
    vfs_.szOsFile = static_cast<int>(sizeof(CountingFile)) + g_base->szOsFile;
    vfs_.xOpen = Open;
    vfs_.pNext = nullptr;
    REQUIRE(sqlite3_vfs_register(&vfs_, /*makeDflt=*/1) == SQLITE_OK);
  }
  ~CountingVfs() { sqlite3_vfs_unregister(&vfs_); }
  CountingVfs(const CountingVfs&) = delete;
  CountingVfs& operator=(const CountingVfs&) = delete;

 private:
  sqlite3_vfs vfs_;
};

// An on-disk store opened through the counting VFS, with node n01 and a run.
struct SyncFixture {
  CountingVfs vfs;  // first: registered before the store opens its files, gone after
  TempDir dir;
  SystemClock clock;
  std::unique_ptr<Store> store = MustOpen(dir.Join("state.db"), clock);
  int64_t run = 0;

  SyncFixture() {
    RS_REQUIRE_OK(store->EnsureNodes({"n01"}, NodeState::kNew));
    Result<int64_t> r = store->BeginRun({"sync", "test", "localhost", 1});
    RS_REQUIRE_OK(r);
    run = *r;
  }
};

TEST_CASE("only power-safe journal commits are fsynced", "[state]") {
  SyncFixture f;
  StepIntent intent{f.run, "n01", "install", "nvidia_driver", "", 1};
  StepResult ok;
  ok.component = ComponentRecord{"", "nvidia_driver", "560.35.03", "h1"};

  SECTION("a crash-safe step start and finish write without an fsync") {
    const int before = g_syncs.load();
    Result<int64_t> id =
        f.store->StartStep(intent, Store::NodeStateChange{NodeState::kProvisioning, "upgrade"},
                         Store::Sync::kCrashSafe);
    RS_REQUIRE_OK(id);
    RS_REQUIRE_OK(f.store->FinishStep(*id, ok, std::nullopt, false, Store::Sync::kCrashSafe));
    CHECK(g_syncs.load() == before);
    // ... and the next ordinary write (synchronous=FULL again) makes them durable.
    RS_REQUIRE_OK(f.store->FinishRun(f.run, RunOutcome::kSucceeded));
    CHECK(g_syncs.load() > before);
  }
  SECTION("a power-safe step start and finish are each fsynced before they return") {
    const int before = g_syncs.load();
    Result<int64_t> id = f.store->StartStep(intent, std::nullopt, Store::Sync::kPowerSafe);
    RS_REQUIRE_OK(id);
    const int after_start = g_syncs.load();
    CHECK(after_start > before);
    RS_REQUIRE_OK(f.store->FinishStep(*id, ok, std::nullopt, false, Store::Sync::kPowerSafe));
    CHECK(g_syncs.load() > after_start);
  }
  // Either way the journal reads back the same.
  Result<std::vector<StepRecord>> steps = f.store->StepsOfNode("n01");
  RS_REQUIRE_OK(steps);
  REQUIRE(steps->size() == 1);
  CHECK(steps->front().status == StepStatus::kSucceeded);
}

TEST_CASE("power-safe writes that commit while an fsync runs share the next one", "[state]") {
  SyncFixture f;
  constexpr int kThreads = 8;
  std::vector<std::string> nodes;
  for (int i = 0; i < kThreads; ++i) nodes.push_back(fmt::format("m{:02}", i));
  RS_REQUIRE_OK(f.store->EnsureNodes(nodes, NodeState::kNew));
  {
    std::lock_guard<std::mutex> lock(g_wal_mu);
    g_first_seen.clear();
  }
  g_wal_sync_delay_ms = 30;
  const int syncs_before = g_wal_syncs.load();
  std::atomic<int> at_barrier{0};
  std::vector<int64_t> synced_at_return(kThreads, -1);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++at_barrier;
      while (at_barrier.load() < kThreads) std::this_thread::yield();
      StepIntent intent{f.run, nodes[i], "image", fmt::format("{}{:02}", kMark, i), "{}", 1};
      Result<int64_t> id = f.store->StartStep(intent, std::nullopt, Store::Sync::kPowerSafe);
      std::lock_guard<std::mutex> lock(g_wal_mu);
      synced_at_return[i] = g_synced_upto;
      if (!id.ok()) errors[i] = id.error().ToString();
    });
  }
  for (std::thread& t : threads) t.join();
  g_wal_sync_delay_ms = 0;
  const int syncs = g_wal_syncs.load() - syncs_before;
  std::lock_guard<std::mutex> lock(g_wal_mu);
  for (int i = 0; i < kThreads; ++i) {
    INFO("thread " << i);
    CHECK(errors[i].empty());
    // Its intent reached the WAL, and it returned only once an fsync that began after that
    // write had finished.
    REQUIRE(g_first_seen.count(i) == 1);
    CHECK(synced_at_return[i] >= g_first_seen[i]);
  }
  // Eight writes at once on a disk that takes 30 ms an fsync: the first fsync carries the
  // first commit, one more carries everything that committed while it ran.
  CHECK(syncs >= 1);
  CHECK(syncs < kThreads);
}

TEST_CASE("the journal's write-ahead log is checkpointed off the writer's thread", "[state]") {
  SyncFixture f;
  {
    std::lock_guard<std::mutex> lock(g_db_sync_mu);
    g_db_sync_threads.clear();
  }
  // 100 steps with 40 KiB of output each: well past the 1000 pages after which SQLite
  // checkpoints (copies the log into the database file and fsyncs it).
  const std::string output(40 * 1024, 'x');
  for (int i = 0; i < 100; ++i) {
    StepIntent intent{f.run, "n01", "install", "c" + std::to_string(i), "", 1};
    Result<int64_t> id = f.store->StartStep(intent, std::nullopt, Store::Sync::kCrashSafe);
    RS_REQUIRE_OK(id);
    StepResult ok;
    ok.output_tail = output;
    RS_REQUIRE_OK(f.store->FinishStep(*id, ok, std::nullopt, false, Store::Sync::kCrashSafe));
  }
  const std::thread::id writer = std::this_thread::get_id();
  auto synced_by = [&](bool want_writer) {
    std::lock_guard<std::mutex> lock(g_db_sync_mu);
    for (std::thread::id t : g_db_sync_threads) {
      if ((t == writer) == want_writer) return true;
    }
    return false;
  };
  // No commit waited for a checkpoint ...
  CHECK_FALSE(synced_by(true));
  // ... and one ran beside them (it may still be running when the writes end).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!synced_by(false) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(synced_by(false));
  Result<std::vector<StepRecord>> steps = f.store->StepsOfNode("n01");
  RS_REQUIRE_OK(steps);
  CHECK(steps->size() == 100);
}

// Sets the WAL's write error for a scope: a failed REQUIRE inside must not leave the disk
// "full" for the tests after it.
struct FullDisk {
  explicit FullDisk(int code) { g_wal_write_error = code; }
  ~FullDisk() { g_wal_write_error = SQLITE_OK; }
  FullDisk(const FullDisk&) = delete;
  FullDisk& operator=(const FullDisk&) = delete;
};

TEST_CASE("a journal commit the disk refuses fails its writes and leaves the store whole",
          "[state]") {
  SyncFixture f;
  StepIntent intent{f.run, "n01", "install", "nvidia_driver", "{}", 1};
  Result<int64_t> first = f.store->StartStep(intent, std::nullopt, Store::Sync::kCrashSafe);
  RS_REQUIRE_OK(first);
  StepResult ok;
  ok.component = ComponentRecord{"", "nvidia_driver", "560.35.03", "h1"};

  SECTION("a waited-for write is told, and nothing of it is kept") {
    std::optional<FullDisk> full(SQLITE_FULL);
    Result<int64_t> refused = f.store->StartStep(intent, std::nullopt, Store::Sync::kPowerSafe);
    Status finish = f.store->FinishStep(*first, ok, std::nullopt, false, Store::Sync::kCrashSafe);
    full.reset();
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == ErrorCode::kIo);
    CHECK_THAT(refused.error().message(), Catch::Contains("full"));
    REQUIRE_FALSE(finish.ok());
    // The disk has room again: the store goes on from what it had committed.
    Result<std::vector<StepRecord>> steps = f.store->StepsOfNode("n01");
    RS_REQUIRE_OK(steps);
    REQUIRE(steps->size() == 1);
    CHECK(steps->front().status == StepStatus::kRunning);
    CHECK(f.store->Components("n01")->empty());
    RS_REQUIRE_OK(f.store->FinishStep(*first, ok, std::nullopt, false, Store::Sync::kCrashSafe));
  }
  SECTION("a deferred result is lost loudly: every later journal write fails with its error") {
    std::optional<FullDisk> failing(SQLITE_IOERR_WRITE);
    RS_REQUIRE_OK(f.store->FinishStep(*first, ok, std::nullopt, false, Store::Sync::kDeferred));
    Status flushed = f.store->FlushJournal();
    failing.reset();
    REQUIRE_FALSE(flushed.ok());
    CHECK(flushed.error().code() == ErrorCode::kIo);
    // The node's next step must not start with its last one unrecorded.
    Result<int64_t> next = f.store->StartStep(intent, std::nullopt, Store::Sync::kCrashSafe);
    REQUIRE_FALSE(next.ok());
    CHECK(next.error().message() == flushed.error().message());
    Result<std::vector<StepRecord>> steps = f.store->StepsOfNode("n01");
    RS_REQUIRE_OK(steps);
    REQUIRE(steps->size() == 1);
    CHECK(steps->front().status == StepStatus::kRunning);  // in flight: its guard decides
  }
  // Either way the file is whole, and the next apply (a new store) reads it.
  RS_REQUIRE_OK(f.store->CheckIntegrity());
  const std::string path = f.store->path();
  f.store.reset();
  std::unique_ptr<Store> again = MustOpen(path, f.clock);
  RS_REQUIRE_OK(again->CheckIntegrity());
  Result<std::vector<StepRecord>> steps = again->StepsOfNode("n01");
  RS_REQUIRE_OK(steps);
  CHECK(steps->size() == 1);
}

}  // namespace
}  // namespace racksmith::state
