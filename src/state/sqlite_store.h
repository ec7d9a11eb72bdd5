// racksmith/state (internal): the SQLite implementation of Store. Use OpenSqliteStore.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "state/sqlite_db.h"
#include "state/store.h"
#include "state/wal_checkpointer.h"

namespace racksmith::state {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const Clock& clock) : clock_(clock) {}
  ~SqliteStore() override;

  /// Opens, configures and migrates; called once by OpenSqliteStore.
  Status Open(const std::string& path, const StoreOptions& options);

  const std::string& path() const override { return db_.path(); }
  int SchemaVersion() const override { return schema_version_; }

  Result<int> EnsureNodes(const std::vector<std::string>& names, NodeState initial) override;
  Status SetNodeState(std::string_view node, NodeState state, std::string_view reason,
                      int64_t run_id) override;
  Result<NodeRecord> GetNode(std::string_view node) override;
  Result<std::vector<NodeRecord>> ListNodes() override;
  Result<std::vector<StateChange>> NodeHistory(std::string_view node) override;
  Result<std::vector<NodeSnapshot>> LoadSnapshots() override;

  Status RecordComponents(const std::vector<ComponentRecord>& records) override;
  Result<std::vector<ComponentRecord>> Components(std::string_view node) override;
  Status ForgetComponent(std::string_view node, std::string_view component) override;

  Result<int64_t> BeginRun(const RunStart& run) override;
  Status FinishRun(int64_t run_id, RunOutcome outcome) override;
  Result<RunRecord> GetRun(int64_t run_id) override;
  Result<std::optional<RunRecord>> LastRun() override;
  Result<std::vector<RunRecord>> ListRuns(int limit) override;

  Result<int64_t> RecordIntent(const StepIntent& intent) override;
  Status MarkRunning(int64_t step_id) override;
  Status RecordResult(int64_t step_id, const StepResult& result) override;
  Result<int64_t> StartStep(const StepIntent& intent,
                            const std::optional<NodeStateChange>& change, Sync sync) override;
  std::vector<Result<int64_t>> StartSteps(const std::vector<StepStart>& starts,
                                          Sync sync) override;
  bool AheadJournaled(const AheadSlot& slot) override;
  Result<int> WithdrawAhead(const std::vector<int64_t>& step_ids) override;
  Status FinishStep(int64_t step_id, const StepResult& result,
                    const std::optional<NodeStateChange>& change, bool forget_components,
                    Sync sync) override;
  Status FlushJournal() override;
  Result<std::vector<StepRecord>> StepsOfNode(std::string_view node) override;
  Result<std::vector<StepRecord>> StepsOfRun(int64_t run_id) override;
  Result<std::vector<StepRecord>> LastStepPerNode() override;
  Result<std::vector<StepRecord>> UnfinishedStepsOfLastRun() override;
  Result<std::vector<StepRecord>> StepsLeftRunning() override;
  Status NoteInterrupted(int64_t step_id, std::string_view note) override;
  Result<int> CloseInterrupted(std::string_view node, std::string_view kind,
                               std::string_view component, int64_t before_step_id,
                               std::string_view note) override;

  Result<std::optional<HostKey>> LookupHostKey(std::string_view node,
                                               std::string_view key_type) override;
  Result<std::vector<HostKey>> HostKeys(std::string_view node) override;
  Status RecordHostKey(std::string_view node, std::string_view address, std::string_view key_type,
                       std::string_view key) override;
  Result<int> ForgetHostKeys(std::string_view node) override;

  Status RecordBmcFacts(std::string_view node, std::string_view facts_json) override;
  Result<std::optional<BmcFacts>> LatestBmcFacts(std::string_view node) override;
  Result<std::vector<BmcFacts>> LatestBmcFactsOfAllNodes() override;
  Status RecordBurnin(const BurninResult& result) override;
  Result<std::vector<BurninResult>> BurninResults(std::string_view node) override;

  Result<LockInfo> AcquireLock(std::string_view description) override;
  Status ReleaseLock() override;
  Result<std::optional<LockHolder>> CurrentLock() override;
  Result<std::optional<LockHolder>> BreakLock(const LockHolder* expected) override;

  Status CheckIntegrity() override;
  Status BackupTo(const std::string& destination) override;

 private:
  Status Configure();
  Status Migrate();
  Result<int> ReadSchemaVersion();
  Status RequireNode(std::string_view node);
  // keep_reason_in_same_state: a node already in `state` keeps its reason (a step that
  // starts in the state the previous one left, e.g. the next provisioning step).
  Status SetNodeStateLocked(std::string_view node, NodeState state, std::string_view reason,
                            int64_t run_id, bool keep_reason_in_same_state = false);
  // Journal writes without their own transaction (mu_ held, inside the caller's).
  Result<int64_t> InsertStepLocked(const StepIntent& intent, std::string_view status);
  // A journal write inside the open transaction, undone alone if it fails (a savepoint
  // named `name`); the transaction goes on. REQUIRES: mu_ held, a transaction open.
  Status InSavepointLocked(std::string_view name, const std::function<Status()>& body);
  // One StepStart in the open transaction: its record inserted running (or, journaled
  // ahead, marked running), the node's state, and the steps journaled ahead with it.
  Result<int64_t> StartOneLocked(const StepStart& start);
  // StartOneLocked for one start of StartSteps' op, its result into `id`: in a savepoint
  // of its own unless it is `alone` in the op (the op's savepoint is its own then); what it
  // journaled ahead is forgotten if it fails.
  Status StartOfSeveralLocked(const StepStart& start, bool alone, Result<int64_t>* id);
  // Its ahead records were rolled back with it: their slots say so (id 0).
  static void ForgetAhead(const StepStart& start);
  Result<std::pair<std::string, int64_t>> UpdateStepResultLocked(int64_t step_id,
                                                                  const StepResult& result);
  // check_node: look the node up first for a clear error (the foreign key refuses an
  // unknown one either way, less clearly).
  Status UpsertComponent(const ComponentRecord& record, int64_t now, bool check_node = true);
  Result<std::vector<StepRecord>> QuerySteps(std::string_view sql, int64_t id_arg,
                                             std::string_view text_arg);
  Status ReleaseLockLocked();
  // The *Locked variants expect mu_ held, so that LoadSnapshots can combine them.
  Result<std::vector<NodeRecord>> ListNodesLocked();
  Result<std::vector<StepRecord>> LastStepPerNodeLocked();
  int64_t Now() const { return clock_.NowUnixMillis(); }
  // Group commit: runs `op` (mu_ held, inside a transaction) together with the ops other
  // threads submit meanwhile, in one transaction with one commit (synchronous=NORMAL: in
  // the WAL, not fsynced), and returns once that commit is written; a kPowerSafe op returns
  // only after SyncWal. Each op is in its own savepoint: a failing op is rolled back alone
  // and gets its error; a failing commit fails them all.
  // A kDeferred op is queued and not waited for: the thread committing now takes it in its
  // next batch, or, if none is, the store's committer thread. After a deferred op failed,
  // every op fails with its error at once, except a `barrier` (Settled's empty op), which
  // still waits.
  Status InGroupCommit(std::function<Status()> op, Sync sync, bool barrier = false);
  struct PendingOp;
  // The leader's part: commits batches until a waiting thread can take over or nothing
  // is queued. `mine`: the leader's own op (nullptr for a deferred one).
  void LeadBatches(PendingOp* mine);
  // `failed_deferred`: the first deferred write that failed before this batch (ok if none);
  // writes after it, and after one that fails in this batch, fail without running.
  // Returns whether the batch's transaction committed.
  bool CommitBatch(const std::vector<PendingOp*>& batch, Status failed_deferred);
  // Every call of the store except the journal's group commit locks mu_ through this:
  // first waits for deferred journal writes queued before the call (so that a call sees
  // and follows every earlier write), then locks mu_ and puts the connection back to
  // synchronous=FULL if the journal's last commit left it at NORMAL.
  std::unique_lock<std::mutex> Settled();
  // The committer thread: leads a batch when a deferred op finds nobody committing, and
  // syncs the WAL when a commit carried power-safe records journaled ahead.
  void CommitterLoop();
  // Starts the committer thread if it is not running; false when there is no thread to be
  // had. Called with group_mu_ held; the caller notifies committer_cv_ once it has released
  // the lock (a thread woken under it would block on it at once).
  bool EnsureCommitterLocked();
  void StopCommitter();  // after the queue is settled; before db_ closes
  // Makes the journal's commits up to batch `upto` (committed_batches_ after it) durable:
  // fsync of the WAL file (through SQLite's default VFS, on a file object of its own),
  // outside mu_, so that other commits go on meanwhile. Nothing to do when an fsync that
  // began after that commit has finished: leaders whose batches committed while another's
  // fsync ran share the next one instead of queueing one each.
  Status SyncWal(uint64_t upto);

  const Clock& clock_;
  std::mutex mu_;  // serializes every call: one connection, one statement at a time
  // The connection's synchronous setting is NORMAL (the journal's group commit set it)
  // rather than FULL (every other write's). Switched only when the other kind of write
  // comes: a run of journal commits does not switch it back and forth each time (two
  // statements of each commit, a fifth of its cost). Guarded by mu_.
  bool synchronous_normal_ = false;
  // Group commit (InGroupCommit): ops waiting for the next commit, and whether a thread is
  // committing a batch now.
  std::mutex group_mu_;
  std::vector<PendingOp*> group_queue_;
  bool group_leader_ = false;
  // The first deferred op's failure: every later journal write fails with it.
  Status deferred_error_;
  // The committer thread (started by the first deferred op that finds nobody committing).
  std::thread committer_;
  std::condition_variable committer_cv_;
  bool committer_wanted_ = false;
  bool committer_stop_ = false;
  // The committer thread is to make the journal durable up to this batch (SyncWal): a
  // commit carried a power-safe record journaled ahead. Guarded by group_mu_.
  uint64_t sync_wanted_ = 0;
  // The batch being committed carries a power-safe record journaled ahead (set by
  // StartOneLocked inside CommitBatch, read after it by LeadBatches). Only the thread
  // leading the group commit touches it, and one leads at a time.
  bool batch_wants_sync_ = false;
  Database db_;
  // SyncWal's own handle on the WAL file (nullptr until first needed; never for :memory:).
  std::mutex wal_mu_;
  std::unique_ptr<char[]> wal_file_mem_;
  sqlite3_file* wal_file_ = nullptr;
  std::atomic<uint64_t> committed_batches_{0};  // journal batches committed so far
  // The last journal batch whose commit succeeded (batches commit in order: every ahead
  // record of a batch up to it is in the file).
  std::atomic<uint64_t> good_batch_{0};
  // Of them, made durable by a finished fsync (written under wal_mu_; read by
  // AheadJournaled without it).
  std::atomic<uint64_t> synced_batches_{0};
  // Checkpoints the WAL off the writer's thread (not for :memory:). Detached from db_ and
  // destroyed first, in the destructor.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  int schema_version_ = 0;
  bool holds_lock_ = false;
};

}  // namespace racksmith::state
