#include "state/wal_checkpointer.h"

#include <system_error>
#include <utility>

namespace racksmith::state {

WalCheckpointer::WalCheckpointer(std::string path) : path_(std::move(path)) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::Install(sqlite3* writer) { sqlite3_wal_hook(writer, &Hook, this); }

// Called by SQLite on the writer's thread after each commit, with the log's size in pages.
int WalCheckpointer::Hook(void* self, sqlite3* writer, const char* schema, int pages) {
  auto* me = static_cast<WalCheckpointer*>(self);
  if (pages >= kInlinePages) {
    // As SQLite's own automatic checkpoint: a failure here is not the commit's (it has
    // happened); the log is checkpointed by a later attempt.
    (void)sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kBackgroundPages) {
    me->Request();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Request() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  requested_ = true;
  if (thread_.joinable()) {
    cv_.notify_one();
    return;
  }
  // Called from inside SQLite (the WAL hook): nothing may be thrown through it. Without a
  // thread the writer checkpoints inline at kInlinePages.
  try {
    thread_ = std::thread([this] { Loop(); });
  } catch (const std::system_error&) {
    stop_ = true;
  }
}

void WalCheckpointer::Loop() {
  sqlite3* db = nullptr;
  // The writer has the file open and in WAL mode (a persistent setting of the file).
  // synchronous=FULL: the checkpoint fsyncs the log before it copies and the database
  // after, as the writer's own checkpoint would.
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    // No second connection: the writer checkpoints inline once the log reaches
    // kInlinePages, as without this thread (later than SQLite's 1000 pages, no worse).
    sqlite3_close(db);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || requested_; });
    if (stop_) break;
    requested_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, never waits for a lock. SQLITE_BUSY
    // (the writer's own inline checkpoint is running) and I/O errors leave the log as it
    // is; the next commit past the threshold asks again.
    (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
  lock.unlock();
  sqlite3_close(db);
}

}  // namespace racksmith::state
