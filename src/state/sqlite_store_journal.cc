// SqliteStore: runs and the journal of steps.
#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "state/sqlite_store.h"
#include "state/store_internal.h"

namespace racksmith::state {
namespace {

// Enough of a step's output to see why it failed, bounded so that a chatty step cannot
// grow the database without limit.
constexpr size_t kMaxOutputTail = 64 * 1024;

std::string Tail(std::string_view text) {
  if (text.size() <= kMaxOutputTail) return std::string(text);
  size_t start = text.size() - kMaxOutputTail;
  // Never start inside a UTF-8 sequence.
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    ++start;
  }
  return std::string(text.substr(start));
}

constexpr std::string_view kRunColumns =
    "id, command_line, user, host, pid, started_at, finished_at, outcome";

Result<RunRecord> ReadRun(const Statement& st, const std::string& db_path) {
  RunRecord r;
  r.id = st.Int(0);
  r.command_line = st.Text(1);
  r.user = st.Text(2);
  r.host = st.Text(3);
  r.pid = st.Int(4);
  r.started_at = st.Int(5);
  r.finished_at = st.Int(6);
  Result<RunOutcome> outcome = ParseRunOutcome(st.Text(7));
  if (!outcome.ok()) {
    return IoError(fmt::format("{}: damaged state database: run {}: {}", db_path, r.id,
                               outcome.error().message()));
  }
  r.outcome = *outcome;
  return r;
}

Status CheckFinished(int64_t step_id, const StepResult& result) {
  if (IsFinished(result.status)) return Status::Ok();
  return InvalidInput(fmt::format("step {}: a result must be succeeded, failed or skipped, not {}",
                                  step_id, StepStatusName(result.status)));
}

Status CheckIntent(const StepIntent& intent) {
  if (intent.kind.empty()) {
    return InvalidInput(fmt::format("a step for node '{}' has no kind", intent.node));
  }
  if (!IsJson(intent.intent_json)) {
    return InvalidInput(fmt::format("the intent of step {} on node '{}' is not valid JSON",
                                    intent.kind, intent.node));
  }
  return Status::Ok();
}

Error DeferredStart() {
  return InvalidInput("a step's start cannot be deferred: its id is needed to finish it");
}

}  // namespace

// ---- Runs ----------------------------------------------------------------------------------

Result<int64_t> SqliteStore::BeginRun(const RunStart& run) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "INSERT INTO runs (command_line, user, host, pid, started_at) VALUES (?, ?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, run.command_line).Bind(2, run.user).Bind(3, run.host).Bind(4, run.pid);
  st->Bind(5, Now());
  if (Status s = st->Run(); !s.ok()) return s.error();
  return db_.LastInsertRowId();
}

Status SqliteStore::FinishRun(int64_t run_id, RunOutcome outcome) {
  if (outcome == RunOutcome::kRunning) {
    return InvalidInput(fmt::format("run {} cannot finish with outcome 'running'", run_id));
  }
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare("UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?");
  if (!st.ok()) return st.error();
  st->Bind(1, Now()).Bind(2, RunOutcomeName(outcome)).Bind(3, run_id);
  if (Status s = st->Run(); !s.ok()) return s;
  if (db_.Changes() == 0) return NotFound(fmt::format("{}: no run {}", path(), run_id));
  return Status::Ok();
}

Result<RunRecord> SqliteStore::GetRun(int64_t run_id) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns));
  if (!st.ok()) return st.error();
  st->Bind(1, run_id);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.error();
  if (!*row) return NotFound(fmt::format("{}: no run {}", path(), run_id));
  return ReadRun(*st, path());
}

Result<std::optional<RunRecord>> SqliteStore::LastRun() {
  Result<std::vector<RunRecord>> runs = ListRuns(1);
  if (!runs.ok()) return runs.error();
  if (runs->empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs->front()));
}

Result<std::vector<RunRecord>> SqliteStore::ListRuns(int limit) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st =
      db_.Prepare(fmt::format("SELECT {} FROM runs ORDER BY id DESC LIMIT ?", kRunColumns));
  if (!st.ok()) return st.error();
  st->Bind(1, int64_t{limit});
  std::vector<RunRecord> runs;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    Result<RunRecord> r = ReadRun(*st, path());
    if (!r.ok()) return r.error();
    runs.push_back(std::move(*r));
  }
  return runs;
}

// ---- The journal ---------------------------------------------------------------------------

Result<int64_t> SqliteStore::InsertStepLocked(const StepIntent& intent, std::string_view status) {
  // The executor's hot path (two journal writes per step, inside the group commit, which
  // every other journal write waits for): statements are prepared once per connection
  // (Database::Cached), the intent is checked by the caller before it queues, and the node
  // and run are checked by the foreign keys; only a failed insert looks them up, to say
  // which one is missing.
  Result<Statement*> st = db_.Cached(
      "INSERT INTO steps (run_id, node, kind, component, intent, status, attempt, started_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  Statement& insert = **st;
  insert.Bind(1, intent.run_id).Bind(2, intent.node).Bind(3, intent.kind);
  insert.Bind(4, intent.component);
  insert.Bind(5, intent.intent_json.empty() ? std::string_view("{}") : intent.intent_json);
  insert.Bind(6, status).Bind(7, int64_t{intent.attempt}).Bind(8, Now());
  if (Status s = insert.Run(); !s.ok()) {
    if (Status node = RequireNode(intent.node); !node.ok()) return node.error();
    Result<bool> run = db_.HasRow("SELECT 1 FROM runs WHERE id = ?", intent.run_id);
    if (run.ok() && !*run) return NotFound(fmt::format("{}: no run {}", path(), intent.run_id));
    return s.error();
  }
  return db_.LastInsertRowId();
}

Result<int64_t> SqliteStore::RecordIntent(const StepIntent& intent) {
  if (Status s = CheckIntent(intent); !s.ok()) return s.error();
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s.error();
  Result<int64_t> id = InsertStepLocked(intent, "intended");
  if (!id.ok()) return id.error();
  if (Status s = tx.Commit(); !s.ok()) return s.error();
  return *id;
}

Status SqliteStore::MarkRunning(int64_t step_id) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "UPDATE steps SET status = 'running' WHERE id = ? AND status IN ('intended', 'running')");
  if (!st.ok()) return st.error();
  st->Bind(1, step_id);
  if (Status s = st->Run(); !s.ok()) return s;
  if (db_.Changes() == 0) {
    return NotFound(fmt::format("{}: no unfinished step {}", path(), step_id));
  }
  return Status::Ok();
}

Result<std::pair<std::string, int64_t>> SqliteStore::UpdateStepResultLocked(
    int64_t step_id, const StepResult& result) {
  if (Status s = CheckFinished(step_id, result); !s.ok()) return s.error();
  // One statement: the update says which node and run the step is of (RETURNING); the
  // SQLite statement runs to completion at its first step, so resetting after reading
  // that row is safe.
  Result<Statement*> st = db_.Cached(
      "UPDATE steps SET status = ?, finished_at = ?, error = ?, output_tail = ? WHERE id = ? "
      "RETURNING node, run_id");
  if (!st.ok()) return st.error();
  Statement& update = **st;
  const int64_t now = Now();
  update.Bind(1, StepStatusName(result.status)).Bind(2, now).Bind(3, result.error);
  update.Bind(4, Tail(result.output_tail)).Bind(5, step_id);
  Result<bool> row = update.Step();
  std::string node = row.ok() && *row ? update.Text(0) : "";
  int64_t run_id = row.ok() && *row ? update.Int(1) : 0;
  update.Reset();
  if (!row.ok()) return row.error();
  if (!*row) return NotFound(fmt::format("{}: no step {}", path(), step_id));
  if (result.component && result.status == StepStatus::kSucceeded) {
    ComponentRecord c = *result.component;
    c.node = node;
    c.run_id = run_id;
    // The node is the step's (a foreign key): no need to look it up again.
    if (Status s = UpsertComponent(c, now, /*check_node=*/false); !s.ok()) return s.error();
  }
  return std::pair{node, run_id};
}

Status SqliteStore::RecordResult(int64_t step_id, const StepResult& result) {
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  Result<std::pair<std::string, int64_t>> r = UpdateStepResultLocked(step_id, result);
  if (!r.ok()) return r.error();
  return tx.Commit();
}

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
    if (committer_.joinable()) {
      committer_cv_.notify_one();
      return Status::Ok();
    }
    try {
      committer_ = std::thread([this] { CommitterLoop(); });
      return Status::Ok();
    } catch (const std::system_error&) {
      committer_wanted_ = false;  // no thread to be had: this caller commits it, waiting
    }
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
  for (;;) {
    // Commit everything queued so far. Writes queued while this commit runs go in the next.
    std::unique_lock<std::mutex> lock(group_mu_);
    std::vector<PendingOp*> batch;
    batch.swap(group_queue_);
    // A deferred write that failed in an earlier batch fails what was queued behind it
    // while that batch committed (they were queued before its failure was known).
    Status failed_before = deferred_error_;
    lock.unlock();
    const bool good = CommitBatch(batch, failed_before);
    const uint64_t committed = ++committed_batches_;
    if (good) good_batch_ = committed;
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
    if (group_queue_.empty()) {
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

void SqliteStore::CommitterLoop() {
  std::unique_lock<std::mutex> lock(group_mu_);
  for (;;) {
    committer_cv_.wait(lock, [&] { return committer_wanted_ || committer_stop_; });
    if (!committer_wanted_) return;  // stopping, nothing left to lead
    committer_wanted_ = false;
    lock.unlock();
    LeadBatches(nullptr);
    lock.lock();
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
  if (db_.path() == ":memory:") return Status::Ok();  // no file, nothing to sync
  std::lock_guard<std::mutex> lock(wal_mu_);
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
  synced_batches_ = std::max(synced_batches_, covers);
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

Result<int64_t> SqliteStore::StartStep(const StepIntent& intent,
                                       const std::optional<NodeStateChange>& change, Sync sync) {
  if (sync == Sync::kDeferred) {
    return DeferredStart();
  }
  if (Status s = CheckIntent(intent); !s.ok()) return s.error();
  int64_t id = 0;
  std::function<Status()> op = [&]() -> Status {
    Result<int64_t> inserted = StartStepLocked(intent, change);
    if (!inserted.ok()) return inserted.error();
    id = *inserted;
    return Status::Ok();
  };
  if (Status s = InGroupCommit(op, sync); !s.ok()) return s.error();
  return id;
}

Result<int64_t> SqliteStore::StartStepLocked(const StepIntent& intent,
                                             const std::optional<NodeStateChange>& change) {
  StepStart start;
  start.intent = intent;
  start.change = change;
  return StartOneLocked(start);
}

namespace {

// The intent of a step journaled ahead, with the id of the record of the step it waits for.
std::string WithAfter(const std::string& intent_json, int64_t after) {
  std::string json = intent_json.empty() ? std::string("{}") : intent_json;
  const bool empty_object = json.find_first_not_of(" \t\r\n{") == json.size() - 1;
  json.insert(json.size() - 1, fmt::format("{}\"after\":{}", empty_object ? "" : ",", after));
  return json;
}

bool IsJsonObject(const std::string& json) {
  return !json.empty() && json.front() == '{' && json.back() == '}' && IsJson(json);
}

}  // namespace

Result<int64_t> SqliteStore::StartOneLocked(const StepStart& start) {
  const StepIntent& intent = start.intent;
  int64_t id = start.journaled != nullptr ? start.journaled->id.load() : 0;
  if (id != 0) {
    // Journaled ahead: "running" from now, and started now, not when it was journaled.
    Result<Statement*> st = db_.Cached(
        "UPDATE steps SET status = 'running', started_at = ?, attempt = ? WHERE id = ? AND "
        "status = 'intended'");
    if (!st.ok()) return st.error();
    (*st)->Bind(1, Now()).Bind(2, int64_t{intent.attempt}).Bind(3, id);
    if (Status s = (*st)->Run(); !s.ok()) return s.error();
    // Its record is gone (the commit that carried it failed, and so did the start it came
    // with): journaled anew, as a step that was never journaled ahead.
    if (db_.Changes() == 0) id = 0;
  }
  if (id == 0) {
    Result<int64_t> inserted = InsertStepLocked(intent, "running");
    if (!inserted.ok()) return inserted.error();
    id = *inserted;
  }
  if (start.change) {
    Status s = SetNodeStateLocked(intent.node, start.change->state, start.change->reason,
                                  intent.run_id, /*keep_reason_in_same_state=*/true);
    if (!s.ok()) return s.error();
  }
  // The batch this op commits with: LeadBatches counts it once CommitBatch returns, and no
  // other batch commits meanwhile.
  const uint64_t batch = committed_batches_.load() + 1;
  for (const AheadStart& a : start.ahead) {
    if (a.slot == nullptr || !IsJsonObject(a.intent.intent_json)) continue;
    StepIntent ahead = a.intent;
    ahead.intent_json = WithAfter(ahead.intent_json, id);
    // An ahead record that cannot be written costs only its step's own commit later: the
    // start goes on without it.
    Status s = InSavepointLocked("journal_ahead", [&]() -> Status {
      Result<int64_t> inserted = InsertStepLocked(ahead, "intended");
      if (!inserted.ok()) return inserted.error();
      a.slot->batch = batch;
      a.slot->id = *inserted;
      return Status::Ok();
    });
    if (!s.ok() && sqlite3_get_autocommit(db_.handle())) return s.error();
  }
  return id;
}

void SqliteStore::ForgetAhead(const StepStart& start) {
  for (const AheadStart& a : start.ahead) {
    if (a.slot != nullptr) a.slot->id = 0;
  }
}

bool SqliteStore::AheadJournaled(const AheadSlot& slot) {
  const uint64_t batch = slot.batch.load();
  return slot.id.load() != 0 && batch != 0 && batch <= good_batch_.load();
}

Result<int> SqliteStore::WithdrawAhead(const std::vector<int64_t>& step_ids) {
  if (step_ids.empty()) return 0;
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s.error();
  int removed = 0;
  for (int64_t id : step_ids) {
    Result<Statement*> st = db_.Cached("DELETE FROM steps WHERE id = ? AND status = 'intended'");
    if (!st.ok()) return st.error();
    (*st)->Bind(1, id);
    if (Status s = (*st)->Run(); !s.ok()) return s.error();
    removed += db_.Changes();
  }
  if (Status s = tx.Commit(); !s.ok()) return s.error();
  return removed;
}

std::vector<Result<int64_t>> SqliteStore::StartSteps(const std::vector<StepStart>& starts,
                                                     Sync sync) {
  std::vector<Result<int64_t>> ids;
  ids.reserve(starts.size());
  if (sync == Sync::kDeferred) {
    // Only "running" is queued: each intent must be in the file already.
    auto queued = std::make_shared<std::vector<StepStart>>();
    for (const StepStart& start : starts) {
      if (start.journaled == nullptr || !AheadJournaled(*start.journaled)) {
        ids.emplace_back(DeferredStart());
        continue;
      }
      ids.emplace_back(start.journaled->id.load());
      queued->push_back(start);
    }
    if (queued->empty()) return ids;
    std::function<Status()> op = [this, queued]() -> Status {
      for (const StepStart& start : *queued) {
        auto one = [&]() -> Status {
          Result<int64_t> id = StartOneLocked(start);
          return id.ok() ? Status::Ok() : Status(id.error());
        };
        Status s = queued->size() == 1 ? one() : InSavepointLocked("journal_start", one);
        if (!s.ok()) {
          // Rolled back with its op: a deferred write that fails fails every later one.
          for (const StepStart& q : *queued) ForgetAhead(q);
          return s;
        }
      }
      return Status::Ok();
    };
    if (Status s = InGroupCommit(op, sync); !s.ok()) {
      for (Result<int64_t>& id : ids) {
        if (id.ok()) id = s.error();
      }
    }
    return ids;
  }
  for (const StepStart& start : starts) {
    if (Status s = CheckIntent(start.intent); !s.ok()) {
      ids.emplace_back(s.error());
    } else {
      ids.emplace_back(int64_t{0});
    }
  }
  // One op of the group commit (so that it commits after every journal write queued before
  // it, the results of these nodes' previous steps among them); each start in a savepoint
  // of its own, as each op of a batch is (the op's own savepoint is that of a lone start).
  std::function<Status()> op = [&]() -> Status {
    for (size_t i = 0; i < starts.size(); ++i) {
      if (!ids[i].ok()) continue;
      auto start = [&]() -> Status {
        Result<int64_t> id = StartOneLocked(starts[i]);
        ids[i] = id;
        return id.ok() ? Status::Ok() : Status(id.error());
      };
      Status s = starts.size() == 1 ? start() : InSavepointLocked("journal_start", start);
      if (s.ok()) continue;
      ForgetAhead(starts[i]);  // rolled back with its start
      // A lone start is undone with its op's savepoint; SQLite rolled the whole transaction
      // back (an I/O error): nothing of it stands.
      if (starts.size() == 1 || sqlite3_get_autocommit(db_.handle())) {
        for (const StepStart& q : starts) ForgetAhead(q);
        return s;
      }
    }
    return Status::Ok();
  };
  if (Status s = InGroupCommit(op, sync); !s.ok()) {
    for (Result<int64_t>& id : ids) {
      if (id.ok()) id = s.error();
    }
  }
  return ids;
}

Status SqliteStore::FinishStep(int64_t step_id, const StepResult& result,
                               const std::optional<NodeStateChange>& change,
                               bool forget_components, Sync sync) {
  // A deferred op's errors come later; this one is the caller's and is reported now.
  if (Status s = CheckFinished(step_id, result); !s.ok()) return s;
  // By value: a deferred op runs after this call has returned. Only the part of the output
  // the journal keeps is copied: a queued result holds at most kMaxOutputTail of it.
  StepResult kept{result.status, result.error, Tail(result.output_tail), result.component};
  std::function<Status()> op = [this, step_id, kept = std::move(kept), change,
                                forget_components]() -> Status {
    Result<std::pair<std::string, int64_t>> r = UpdateStepResultLocked(step_id, kept);
    if (!r.ok()) return r.error();
    const auto& [node, run_id] = *r;
    if (forget_components) {
      Result<Statement> st = db_.Prepare("DELETE FROM components WHERE node = ?");
      if (!st.ok()) return st.error();
      st->Bind(1, node);
      if (Status s = st->Run(); !s.ok()) return s;
    }
    if (change) return SetNodeStateLocked(node, change->state, change->reason, run_id);
    return Status::Ok();
  };
  return InGroupCommit(op, sync);
}

Result<std::vector<StepRecord>> SqliteStore::QuerySteps(std::string_view sql, int64_t id_arg,
                                                        std::string_view text_arg) {
  Result<Statement> st = db_.Prepare(sql);
  if (!st.ok()) return st.error();
  if (!text_arg.empty()) {
    st->Bind(1, text_arg);
  } else if (id_arg != 0) {
    st->Bind(1, id_arg);
  }
  std::vector<StepRecord> steps;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    Result<StepRecord> s = ReadStep(*st, path());
    if (!s.ok()) return s.error();
    steps.push_back(std::move(*s));
  }
  return steps;
}

Result<std::vector<StepRecord>> SqliteStore::StepsOfNode(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  return QuerySteps(fmt::format("SELECT {} FROM steps WHERE node = ? ORDER BY id", kStepColumns), 0,
                    node);
}

Result<std::vector<StepRecord>> SqliteStore::StepsOfRun(int64_t run_id) {
  std::unique_lock<std::mutex> lock = Settled();
  return QuerySteps(fmt::format("SELECT {} FROM steps WHERE run_id = ? ORDER BY id", kStepColumns),
                    run_id, {});
}

Result<std::vector<StepRecord>> SqliteStore::LastStepPerNode() {
  std::unique_lock<std::mutex> lock = Settled();
  return LastStepPerNodeLocked();
}

Result<std::vector<StepRecord>> SqliteStore::LastStepPerNodeLocked() {
  // One seek into the (node, id) index per node: the cost follows the node count, not the
  // length of the journal (10 ms for 10,000 nodes with 500,000 steps, where a GROUP BY
  // over all steps took 30 ms). The step columns do not clash with the nodes' columns.
  return QuerySteps(fmt::format("SELECT {} FROM nodes JOIN steps ON steps.id = "
                                "(SELECT max(id) FROM steps WHERE node = nodes.name) "
                                "ORDER BY nodes.name",
                                kStepColumns),
                    0, {});
}

Result<std::vector<StepRecord>> SqliteStore::UnfinishedStepsOfLastRun() {
  std::unique_lock<std::mutex> lock = Settled();
  return QuerySteps(fmt::format("SELECT {} FROM steps WHERE run_id = "
                                "(SELECT max(id) FROM runs) AND status IN ('intended', "
                                "'running') ORDER BY id",
                                kStepColumns),
                    0, {});
}

Result<std::vector<StepRecord>> SqliteStore::StepsLeftRunning() {
  std::unique_lock<std::mutex> lock = Settled();
  // The partial index steps_open keeps this a short scan however long the journal is
  // (SQLite uses it only for a query that repeats its WHERE term, hence the IN).
  return QuerySteps(fmt::format("SELECT {} FROM steps WHERE status IN ('intended', 'running') "
                                "AND status = 'running' ORDER BY id",
                                kStepColumns),
                    0, {});
}

Status SqliteStore::NoteInterrupted(int64_t step_id, std::string_view note) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st =
      db_.Prepare("UPDATE steps SET error = ? WHERE id = ? AND status = 'running'");
  if (!st.ok()) return st.error();
  st->Bind(1, note).Bind(2, step_id);
  if (Status s = st->Run(); !s.ok()) return s;
  if (db_.Changes() == 0) return NotFound(fmt::format("{}: no running step {}", path(), step_id));
  return Status::Ok();
}

Result<int> SqliteStore::CloseInterrupted(std::string_view node, std::string_view kind,
                                          std::string_view component, int64_t before_step_id,
                                          std::string_view note) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "UPDATE steps SET status = 'skipped', finished_at = ?, error = ? WHERE status IN "
      "('intended', 'running') AND status = 'running' AND node = ? AND kind = ? AND "
      "component = ? AND id < ?");
  if (!st.ok()) return st.error();
  st->Bind(1, Now())
      .Bind(2, note)
      .Bind(3, node)
      .Bind(4, kind)
      .Bind(5, component)
      .Bind(6, before_step_id);
  if (Status s = st->Run(); !s.ok()) return s.error();
  return static_cast<int>(db_.Changes());
}

}  // namespace racksmith::state
