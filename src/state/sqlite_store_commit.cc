// The journal's group commit (src/state, SqliteStore): the queue of journal writes, the
// leader that commits a batch of them in one transaction, the committer thread for deferred
// writes, the fsync of the WAL that power-safe writes wait for, and Settled(), through which
// every other call of the store waits for the queue. What each journal write does is in
// sqlite_store_journal.cc; docs/state.md ("Guarantees") says why it is built this way.
#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "state/sqlite_store.h"

namespace racksmith::state {

struct SqliteStore::PendingOp {
  std::function<Status()> op;
  Sync sync = Sync::kPowerSafe;
  bool barrier = false;  // Settled's empty op: runs even after a deferred write failed
  Status result;
  // Set once by another thread: false when this op is done (committed or failed; `result`
  // is written before), true when this thread is to commit the next batch. Unused for a
  // deferred op: nobody waits for it, and the leader that commits it deletes it.
  std::promise<bool> wake;
};

namespace {

constexpr size_t kMaxBatchOps = 8;

// Wakes each waiter with `lead`. The promises were moved out of the waiters' PendingOps
// (which live on the waiters' stacks and may be gone once woken) under the queue lock; set
// here without it, so that a woken thread never runs straight into a lock its waker holds.
void Wake(std::vector<std::promise<bool>>& waiters, bool lead) {
  for (std::promise<bool>& w : waiters) w.set_value(lead);
  waiters.clear();
}

Status DeferredFailure(const Error& e) {
  return e.WithContext("an earlier step result could not be journaled");
}

}  // namespace

// Leader/follower group commit. Each waiter sleeps on its own promise, so a commit wakes
// exactly the threads whose writes it carried and the next leader, not every waiting
// thread (hundreds at high --concurrency), and none of them while the queue is locked.
Status SqliteStore::InGroupCommit(std::function<Status()> op, Sync sync, bool barrier) {
  if (sync == Sync::kDeferred) {
    auto deferred = std::make_unique<PendingOp>();
    deferred->op = std::move(op);
    deferred->sync = sync;
    std::unique_lock<std::mutex> lock(group_mu_);
    if (!deferred_error_.ok()) return deferred_error_;
    group_queue_.push_back(deferred.release());
    if (group_leader_) return Status::Ok();  // the thread committing now takes it next
    // Nobody is committing: the store's committer thread leads this batch, so that the
    // caller does not wait for it either.
    group_leader_ = true;
    committer_wanted_ = true;
    if (EnsureCommitterLocked()) {
      lock.unlock();
      committer_cv_.notify_one();
      return Status::Ok();
    }
    committer_wanted_ = false;  // no thread to be had: this caller commits it, waiting
    lock.unlock();
    LeadBatches(nullptr);
    lock.lock();
    return deferred_error_;
  }
  PendingOp mine;
  mine.op = std::move(op);
  mine.sync = sync;
  mine.barrier = barrier;
  std::future<bool> woken = mine.wake.get_future();
  std::unique_lock<std::mutex> lock(group_mu_);
  if (!deferred_error_.ok() && !barrier) return deferred_error_;
  group_queue_.push_back(&mine);
  bool lead = !group_leader_;
  if (!lead && committer_wanted_) {
    // The committer thread was asked to lead (for deferred ops) and has not woken yet: this
    // thread leads instead and commits them with its own op, without waiting for it.
    committer_wanted_ = false;
    lead = true;
  }
  group_leader_ = true;
  lock.unlock();
  if (!lead && !woken.get()) return mine.result;
  LeadBatches(&mine);
  return mine.result;
}

void SqliteStore::LeadBatches(PendingOp* mine) {
  bool mine_taken = mine == nullptr;
  for (;;) {
    // Commit what is queued so far, up to kMaxBatchOps ops, oldest first. Writes queued
    // while this commit runs go in a later one. The cap: when 32 steps end in the same
    // instant, their results and their nodes' next starts (each ~90 µs of SQLite work on
    // the bench's VM) would otherwise all wait for one commit of all of them; in batches
    // of 8 the first are done after an eighth of it (bench/results/apply.md).
    std::unique_lock<std::mutex> lock(group_mu_);
    std::vector<PendingOp*> batch;
    if (group_queue_.size() <= kMaxBatchOps) {
      batch.swap(group_queue_);
    } else {
      auto cut = group_queue_.begin() + static_cast<std::ptrdiff_t>(kMaxBatchOps);
      batch.assign(group_queue_.begin(), cut);
      group_queue_.erase(group_queue_.begin(), cut);
    }
    if (!mine_taken) mine_taken = std::find(batch.begin(), batch.end(), mine) != batch.end();
    // A deferred write that failed in an earlier batch fails what was queued behind it
    // while that batch committed (they were queued before its failure was known).
    Status failed_before = deferred_error_;
    lock.unlock();
    batch_wants_sync_ = false;
    const bool good = CommitBatch(batch, failed_before);
    const uint64_t committed = ++committed_batches_;
    if (good) good_batch_ = committed;
    // Power-safe records journaled ahead in it: synced in the background, by the committer
    // thread, long before their steps start (AheadJournaled waits for that fsync). When this
    // leader syncs for a power-safe op below, that fsync carries them.
    const bool background_sync = good && batch_wants_sync_;
    // Crash-safe ops (and failed ones) are done now. Power-safe ones wait for the fsync
    // below, which runs after the next leader has taken over: later commits do not wait.
    std::vector<std::promise<bool>> done;
    std::vector<std::promise<bool>> next_leader;
    std::vector<PendingOp*> to_sync;
    std::vector<std::unique_ptr<PendingOp>> deferred;
    lock.lock();
    for (PendingOp* p : batch) {
      if (p->sync == Sync::kDeferred) {
        if (!p->result.ok() && deferred_error_.ok()) {
          deferred_error_ = DeferredFailure(p->result.error());
        }
        deferred.emplace_back(p);
      } else if (p->sync == Sync::kPowerSafe && p->result.ok()) {
        to_sync.push_back(p);
      } else if (p != mine) {
        done.push_back(std::move(p->wake));
      }
    }
    // The next batch is led by the first waiting thread in the queue. Deferred ops have
    // none: if only they are queued, the committer thread commits them (a caller leading
    // for its own op goes back to its work), or this thread does when it is the committer
    // or there is none.
    bool again = false;
    bool wake_committer = false;
    if (background_sync && to_sync.empty()) {
      sync_wanted_ = std::max(sync_wanted_, committed);
      wake_committer = true;
    }
    if (!mine_taken) {
      again = true;  // this thread's own op is still queued, past the cap: it leads on
    } else if (group_queue_.empty()) {
      group_leader_ = false;
    } else {
      auto waiting = std::find_if(group_queue_.begin(), group_queue_.end(),
                                  [](const PendingOp* p) { return p->sync != Sync::kDeferred; });
      if (waiting == group_queue_.end()) {
        if (mine != nullptr && committer_.joinable()) {
          committer_wanted_ = true;
          wake_committer = true;
        } else {
          again = true;
        }
      } else {
        next_leader.push_back(std::move((*waiting)->wake));
      }
    }
    // No thread to be had: the steps whose records wanted a sync start with their own
    // power-safe commit instead.
    if (wake_committer) wake_committer = EnsureCommitterLocked();
    lock.unlock();
    if (wake_committer) committer_cv_.notify_one();
    Wake(next_leader, true);
    Wake(done, false);
    if (!to_sync.empty()) {
      Status synced = SyncWal(committed);
      for (PendingOp* p : to_sync) {
        if (!synced.ok()) p->result = synced;
        if (p != mine) done.push_back(std::move(p->wake));
      }
      Wake(done, false);
    }
    if (!again) return;
  }
}

bool SqliteStore::EnsureCommitterLocked() {
  if (committer_.joinable()) return true;
  try {
    committer_ = std::thread([this] { CommitterLoop(); });
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

void SqliteStore::CommitterLoop() {
  std::unique_lock<std::mutex> lock(group_mu_);
  for (;;) {
    auto sync_due = [&] { return sync_wanted_ > synced_batches_.load(); };
    committer_cv_.wait(lock, [&] { return committer_wanted_ || committer_stop_ || sync_due(); });
    if (committer_wanted_) {
      committer_wanted_ = false;
      lock.unlock();
      LeadBatches(nullptr);
      lock.lock();
      continue;
    }
    if (sync_due() && !committer_stop_) {
      const uint64_t upto = sync_wanted_;
      lock.unlock();
      // A failure leaves the records unsynced: their steps start with their own power-safe
      // commit, which reports the error if it persists.
      (void)SyncWal(upto);
      lock.lock();
      continue;
    }
    return;  // stopping, nothing left to lead
  }
}

void SqliteStore::StopCommitter() {
  {
    std::lock_guard<std::mutex> lock(group_mu_);
    committer_stop_ = true;
  }
  committer_cv_.notify_one();
  if (committer_.joinable()) committer_.join();
}

std::unique_lock<std::mutex> SqliteStore::Settled() {
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(group_mu_);
    queued = group_leader_ || !group_queue_.empty();
  }
  // An empty op, waited for: the queue commits in order, so when it is done every op
  // queued before it is too. Its error (a deferred write's failure) is FlushJournal's.
  if (queued) (void)InGroupCommit([] { return Status::Ok(); }, Sync::kCrashSafe, /*barrier=*/true);
  std::unique_lock<std::mutex> lock(mu_);
  if (synchronous_normal_) {
    // A pragma that touches no file: it fails only without memory, and then the flag stays
    // set and the next call tries again (this call's write commits without its own fsync,
    // as a journal write does, until a later fsync carries it).
    if (db_.ExecCached("PRAGMA synchronous = FULL").ok()) synchronous_normal_ = false;
  }
  return lock;
}

Status SqliteStore::FlushJournal() {
  (void)Settled();
  std::lock_guard<std::mutex> lock(group_mu_);
  return deferred_error_;
}

Status SqliteStore::SyncWal(uint64_t upto) {
  std::lock_guard<std::mutex> lock(wal_mu_);
  if (db_.path() == ":memory:") {  // no file: every commit is as durable as it gets
    synced_batches_ = std::max(synced_batches_.load(), committed_batches_.load());
    return Status::Ok();
  }
  if (synced_batches_ >= upto) return Status::Ok();
  // Every batch committed by now has been written to the file: this fsync carries them all.
  const uint64_t covers = committed_batches_.load();
  const std::string wal_path = db_.path() + "-wal";
  if (wal_file_ == nullptr) {
    sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
    if (vfs == nullptr) return IoError(fmt::format("{}: no SQLite VFS to sync with", wal_path));
    auto mem = std::make_unique<char[]>(static_cast<size_t>(vfs->szOsFile));
    auto* file = reinterpret_cast<sqlite3_file*>(mem.get());
    int out_flags = 0;
    int rc = vfs->xOpen(vfs, wal_path.c_str(), file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_WAL,
                        &out_flags);
    if (rc != SQLITE_OK) {
      if (file->pMethods != nullptr) file->pMethods->xClose(file);
      return IoError(fmt::format("{}: cannot open the journal's write-ahead log to sync it: {}",
                                 wal_path, sqlite3_errstr(rc)));
    }
    wal_file_mem_ = std::move(mem);
    wal_file_ = file;
  }
  int rc = wal_file_->pMethods->xSync(wal_file_, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK) {
    return IoError(fmt::format("{}: the journal could not be synced to disk: {}", wal_path,
                               sqlite3_errstr(rc)));
  }
  synced_batches_ = std::max(synced_batches_.load(), covers);
  return Status::Ok();
}

Status SqliteStore::InSavepointLocked(std::string_view name,
                                      const std::function<Status()>& body) {
  Status s = db_.ExecCached(fmt::format("SAVEPOINT {}", name));
  if (!s.ok()) return s;
  s = body();
  if (s.ok()) return db_.ExecCached(fmt::format("RELEASE {}", name));
  (void)db_.Exec(fmt::format("ROLLBACK TO {}", name));
  (void)db_.Exec(fmt::format("RELEASE {}", name));
  return s;
}

bool SqliteStore::CommitBatch(const std::vector<PendingOp*>& batch, Status failed_deferred) {
  std::lock_guard<std::mutex> lock(mu_);  // not Settled(): this is the queue's commit
  // Every other write of the store commits with synchronous=FULL (set on open, and put
  // back by Settled). A journal batch commits without an fsync; InGroupCommit syncs the WAL
  // afterwards, outside mu_, for the ops that asked for kPowerSafe.
  if (!synchronous_normal_) {
    if (Status s = db_.ExecCached("PRAGMA synchronous = NORMAL"); !s.ok()) {
      for (PendingOp* p : batch) p->result = s;
      return false;
    }
    synchronous_normal_ = true;
  }
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) {
    for (PendingOp* p : batch) p->result = s;
    return false;
  }
  for (PendingOp* p : batch) {
    if (!failed_deferred.ok() && !p->barrier) {
      // Queued after a deferred result that failed: it must not commit as if that result
      // were journaled (the node's next step would start with its last one unrecorded).
      p->result = failed_deferred;
      continue;
    }
    Status s = InSavepointLocked("journal_op", p->op);
    p->result = s;
    if (!s.ok() && sqlite3_get_autocommit(db_.handle())) {
      // SQLite rolled back the whole transaction (an I/O error, a full disk): every write
      // of the batch is gone, those before this one too. Say so to each, and run no more
      // (outside a transaction each would commit on its own, unreported).
      tx.Abandon();
      for (PendingOp* q : batch) q->result = s;
      return false;
    }
    if (!s.ok() && p->sync == Sync::kDeferred && failed_deferred.ok()) {
      failed_deferred = DeferredFailure(s.error());
    }
  }
  Status committed = tx.Commit();
  if (!committed.ok()) {
    for (PendingOp* p : batch) p->result = committed;
  }
  return committed.ok();
}

}  // namespace racksmith::state
