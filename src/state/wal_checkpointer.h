// racksmith/state (internal): checkpoints the store's write-ahead log from a thread and a
// connection of its own, so that the writer's commits never wait for one.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace racksmith::state {

/// SQLite's default checkpoints the WAL inside the commit that pushes it past 1000 pages:
/// that commit copies the pages into the database file and fsyncs both files while every
/// other journal write waits behind it (on a virtual disk, a few milliseconds for each of
/// up to --concurrency waiting steps). Installed on the writer's connection, this moves
/// that work to a thread with its own connection: a PASSIVE checkpoint there copies what the
/// log holds while the writer goes on appending (WAL readers and the writer never block
/// each other), and the writer restarts the log from its start at its next commit once a
/// checkpoint has copied all of it. Durability does not change: a checkpoint fsyncs the log
/// before copying and the database after, whichever thread runs it.
class WalCheckpointer {
 public:
  /// Past this many pages in the log, the background thread is asked for a checkpoint.
  static constexpr int kBackgroundPages = 1000;
  /// Past this many (the thread cannot keep up: its checkpoints never catch up with the
  /// writer's appends), the writer checkpoints itself, as SQLite would: the log stays
  /// bounded whatever the write rate.
  static constexpr int kInlinePages = 16000;

  /// `path`: the database file the writer has open.
  explicit WalCheckpointer(std::string path);
  ~WalCheckpointer();  // stops the thread (after the checkpoint in progress) and closes
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  /// Makes this checkpointer the writer connection's WAL hook (replacing SQLite's
  /// automatic checkpoint). Detach it (sqlite3_wal_hook(db, nullptr, nullptr)) or close
  /// `writer` before destroying this object.
  void Install(sqlite3* writer);

 private:
  static int Hook(void* self, sqlite3* writer, const char* schema, int pages);
  void Request();
  void Loop();

  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stop_ = false;
  std::thread thread_;  // started by the first Request
};

}  // namespace racksmith::state
