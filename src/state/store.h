// racksmith/state: the state store, what racksmith knows about the cluster between runs.
//
// Contract:
// - `Store` is the only way into state.db. It holds nodes and their lifecycle history,
//   per-node component records (the hashes the planner compares), runs and their journal
//   of steps, SSH host keys, BMC facts, burn-in results, and the exclusive apply lock.
//   All SQL lives in this module; the interface says nothing about SQLite, so another
//   backend (PostgreSQL, for several controllers) can sit behind it later.
// - OpenSqliteStore opens or creates one SQLite file: WAL mode, foreign keys on, a busy
//   timeout, the file (and its -wal/-shm) mode 0600 when created, a missing parent folder
//   created 0700. Pending schema migrations are applied in one transaction on open; a file
//   whose schema is newer than this binary knows is refused (ErrorCode::kUnsupported) and
//   not touched.
// - Every write is one transaction: a crash or kill -9 at any moment leaves either the
//   old or the new state, never a corrupt file.
// - Thread-safety: a Store may be shared between threads; its calls are serialized.
//   Several processes may open the same file at once; AcquireLock decides who applies.
// - Errors: kNotFound for an unknown node/step/run, kInvalidInput for bad arguments
//   (a JSON field that does not parse), kConflict for a held lock or a changed host key,
//   kIo for database trouble. Messages name the database path and the node.
// - Timestamps come from the Clock given to OpenSqliteStore, which must outlive the Store.
//
// For unit tests of other modules: OpenMemoryStore(clock) (or OpenSqliteStore(":memory:",
// clock)) gives a fresh, private, fully migrated store that vanishes with the object.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "state/node_state.h"
#include "state/records.h"

namespace racksmith::state {

class Store {
 public:
  virtual ~Store() = default;

  /// Where the data lives, for messages ("/var/lib/racksmith/state.db", ":memory:").
  virtual const std::string& path() const = 0;
  /// The schema version of the open database (equal to LatestSchemaVersion() after open).
  virtual int SchemaVersion() const = 0;

  // ---- Nodes and lifecycle -------------------------------------------------------------

  /// Creates the nodes among `names` that the store does not know yet, in `initial` state
  /// (usually NodeState::kNew), in one transaction (fast for 10,000 names). Known nodes are
  /// left as they are. Returns how many were created.
  virtual Result<int> EnsureNodes(const std::vector<std::string>& names, NodeState initial) = 0;

  /// Moves a node to `state` with `reason`, recording the change in its history (only when
  /// state or reason differ). kNotFound if the node is unknown. run_id 0: no run.
  virtual Status SetNodeState(std::string_view node, NodeState state, std::string_view reason,
                              int64_t run_id) = 0;

  /// kNotFound if unknown.
  virtual Result<NodeRecord> GetNode(std::string_view node) = 0;
  /// All nodes, sorted by name.
  virtual Result<std::vector<NodeRecord>> ListNodes() = 0;
  /// Lifecycle history of a node, oldest first (empty if the node is unknown).
  virtual Result<std::vector<StateChange>> NodeHistory(std::string_view node) = 0;

  /// Everything the planner (and `racksmith status`) needs, for all nodes, sorted by name:
  /// a constant number of queries whatever the node count, never one per node.
  virtual Result<std::vector<NodeSnapshot>> LoadSnapshots() = 0;

  // ---- Components ------------------------------------------------------------------------

  /// Records (inserting or replacing) what a node has of each component; applied_at is set
  /// to now. All records go in one transaction. kNotFound if a node is unknown (then
  /// nothing is recorded).
  virtual Status RecordComponents(const std::vector<ComponentRecord>& records) = 0;
  /// A node's components, sorted by name.
  virtual Result<std::vector<ComponentRecord>> Components(std::string_view node) = 0;
  /// Forgets one component of a node (so the planner applies it afresh). Not an error if
  /// there was none.
  virtual Status ForgetComponent(std::string_view node, std::string_view component) = 0;

  // ---- Runs and the journal ----------------------------------------------------------------

  /// Starts a run; returns its id (increasing).
  virtual Result<int64_t> BeginRun(const RunStart& run) = 0;
  /// Ends a run with its outcome (REQUIRES: outcome != kRunning).
  virtual Status FinishRun(int64_t run_id, RunOutcome outcome) = 0;
  virtual Result<RunRecord> GetRun(int64_t run_id) = 0;
  /// The most recent run, if any.
  virtual Result<std::optional<RunRecord>> LastRun() = 0;
  /// The most recent runs, newest first, at most `limit`.
  virtual Result<std::vector<RunRecord>> ListRuns(int limit) = 0;

  /// Journals a step before it runs (status intended); returns the step id. The node must
  /// be known (kNotFound) and the run must exist (kNotFound).
  virtual Result<int64_t> RecordIntent(const StepIntent& intent) = 0;
  /// Marks an intended step as running (just before it starts touching the machine).
  /// kNotFound if there is no such unfinished step.
  virtual Status MarkRunning(int64_t step_id) = 0;
  /// Journals a step's result after it ran, with its component record if given, in one
  /// transaction. kInvalidInput if result.status is not finished.
  virtual Status RecordResult(int64_t step_id, const StepResult& result) = 0;

  /// How far StartStep/FinishStep's commit must reach before they return.
  enum class Sync {
    /// On disk (fsync of the WAL): survives a power cut of this machine. For the intent of
    /// a destructive step (power off, firmware, reimage, erase), which must outlive
    /// anything before the step touches the machine.
    kPowerSafe,
    /// Written to the OS (the WAL, not fsynced): survives kill -9 of racksmith, not a power
    /// cut. Made durable by the next power-safe commit (the WAL is a log: a later fsync
    /// carries every earlier commit), a checkpoint, or the run's end. After a power cut the
    /// store is a prefix of its commits: a lost intent of a non-destructive step means the
    /// planner plans it again (such steps are idempotent); a lost result of any step leaves
    /// it in flight, and the next apply checks its guard before anything else. Saves the
    /// fsyncs of most journal writes (see bench/results/apply.md).
    kCrashSafe,
    /// FinishStep, and StartSteps of steps journaled ahead (their intent is committed
    /// already; only "running" is queued): queued for the next group commit, not waited for. It
    /// is committed as kCrashSafe, in order: before any journal write submitted after it
    /// and before any other call of this store reads or writes (each settles the queue
    /// first). What is lost to a kill -9 in the fraction of a millisecond before its commit
    /// is a result, which leaves the step in flight: the next apply checks its guard.
    /// A deferred write that fails makes every later journal write and FlushJournal fail
    /// with its error. For every step's result: the worker moves on to the node's next step
    /// instead of waiting for a commit.
    kDeferred,
  };
  /// A node's new state and why, for StartStep/FinishStep.
  struct NodeStateChange {
    NodeState state = NodeState::kNew;
    std::string reason;
  };
  /// The executor's write before a step: journals the intent already marked running and,
  /// if given, moves the node to its new state (a node already in that state keeps its
  /// reason, so consecutive provisioning steps make one history entry), in one transaction
  /// (one fsync per step start instead of three). Same errors as RecordIntent.
  virtual Result<int64_t> StartStep(const StepIntent& intent,
                                    const std::optional<NodeStateChange>& change,
                                    Sync sync) = 0;
  /// Journal-ahead: the record of a step written before the step may start (status
  /// intended), in the commit of the start of the step it waits for, so that its own start
  /// waits for no commit (see StartSteps). Filled in by the journal's commit; read from any
  /// thread.
  struct AheadSlot {
    std::atomic<int64_t> id{0};       // the record's id once inserted (0: not yet, or refused)
    std::atomic<uint64_t> batch{0};   // the journal commit that carries it
    /// The step is destructive: its intent must be on disk (fsynced: power-safe) before it
    /// starts. The journal syncs such a record in the background after its commit;
    /// AheadJournaled says yes only once that fsync has finished. Set before the slot is
    /// handed to StartSteps.
    bool power_safe = false;
  };
  /// A step to journal ahead with a start: its intent and the slot that receives its id.
  struct AheadStart {
    StepIntent intent;
    std::shared_ptr<AheadSlot> slot;
  };
  /// One step's start, for StartSteps.
  struct StepStart {
    StepIntent intent;
    std::optional<NodeStateChange> change;
    /// Set when the step was journaled ahead: its record (the slot's, when the commit
    /// inserted it) is marked running instead of a new one inserted.
    std::shared_ptr<AheadSlot> journaled;
    /// Steps journaled ahead in the same commit: recorded intended, each with the id of
    /// this step's record ("after" in its intent), so that a resume can tell which of them
    /// cannot have started (this step failed).
    std::vector<AheadStart> ahead;
  };
  /// StartStep for several steps at once, in one commit: each is journaled, or refused with
  /// StartStep's error, on its own (one refused start does not undo the others), in the
  /// order given; the results are in that order. The executor journals the steps it starts
  /// together this way: one commit and one wait instead of one each. kDeferred only when
  /// every start was journaled ahead and AheadJournaled says so (the others are refused):
  /// the step's intent is on disk already, and only "running" (and the node's state) is
  /// queued, as a deferred result is.
  virtual std::vector<Result<int64_t>> StartSteps(const std::vector<StepStart>& starts,
                                                  Sync sync) = 0;
  /// Whether the record journaled ahead into `slot` is committed (crash-safe), and for a
  /// power_safe slot also synced to disk: its step may start with a deferred StartSteps.
  virtual bool AheadJournaled(const AheadSlot& slot) = 0;
  /// Removes records journaled ahead whose steps never started (still intended): the run
  /// ends, or its step's predecessor failed. They tell of nothing that happened; a record
  /// no longer intended is left alone. Returns how many it removed.
  virtual Result<int> WithdrawAhead(const std::vector<int64_t>& step_ids) = 0;
  /// The executor's write after a step: the result (with its component record), the node's
  /// new state if given, and, when `forget_components`, the removal of every component
  /// record of the node (it was retired), in one transaction: "step done", "component at
  /// this hash" and "node in this state" never disagree after a crash.
  virtual Status FinishStep(int64_t step_id, const StepResult& result,
                            const std::optional<NodeStateChange>& change,
                            bool forget_components, Sync sync) = 0;

  /// Waits until every deferred journal write (Sync::kDeferred) is committed; the error of
  /// the first one that failed, if any. The executor calls it before it finishes a run.
  virtual Status FlushJournal() = 0;

  /// Every step ever journaled for a node, oldest first.
  virtual Result<std::vector<StepRecord>> StepsOfNode(std::string_view node) = 0;
  /// The steps of a run, in the order they were journaled.
  virtual Result<std::vector<StepRecord>> StepsOfRun(int64_t run_id) = 0;
  /// Each node's most recent step, sorted by node name (nodes without steps are absent).
  virtual Result<std::vector<StepRecord>> LastStepPerNode() = 0;
  /// The steps of the most recent run still intended or running: what a resume must look
  /// at before anything else. Call it before BeginRun of the new run.
  virtual Result<std::vector<StepRecord>> UnfinishedStepsOfLastRun() = 0;
  /// Every step still journaled as running, of any run, oldest first. With the apply lock
  /// held and before BeginRun, these are steps in flight when their run stopped (killed, or
  /// a second interrupt): they stay running, whatever later applies do without reaching
  /// them, until a run checks the step's guard and closes them with CloseInterrupted.
  virtual Result<std::vector<StepRecord>> StepsLeftRunning() = 0;
  /// Sets the error text of a step left running (what history shows), keeping it running.
  virtual Status NoteInterrupted(int64_t step_id, std::string_view note) = 0;
  /// Closes (skipped, with `note`) the node's records of step (kind, component) left
  /// running before record `before_step_id`, the one journaling the guard check that
  /// resolved them. Returns how many it closed.
  virtual Result<int> CloseInterrupted(std::string_view node, std::string_view kind,
                                       std::string_view component, int64_t before_step_id,
                                       std::string_view note) = 0;

  // ---- SSH host keys ----------------------------------------------------------------------
  // Host keys and BMC facts are facts about machines, which may be seen before a node enters
  // the lifecycle: they do not require the node to be known.

  /// The recorded key of `key_type` for `node`, if any.
  virtual Result<std::optional<HostKey>> LookupHostKey(std::string_view node,
                                                       std::string_view key_type) = 0;
  /// All keys recorded for a node, sorted by key type.
  virtual Result<std::vector<HostKey>> HostKeys(std::string_view node) = 0;
  /// Trust on first use: records the key when none of this type is known for the node
  /// (first_seen = last_seen = now); when the same key is known, updates last_seen and
  /// address; when a different key is known, changes nothing and returns kConflict naming
  /// the node, the key type, both keys and when the recorded one was first seen.
  virtual Status RecordHostKey(std::string_view node, std::string_view address,
                               std::string_view key_type, std::string_view key) = 0;
  /// Forgets every key of a node (after a reimage); returns how many were forgotten.
  virtual Result<int> ForgetHostKeys(std::string_view node) = 0;

  // ---- BMC facts and burn-in --------------------------------------------------------------

  /// Records what a BMC reported now; earlier reports are kept as history.
  virtual Status RecordBmcFacts(std::string_view node, std::string_view facts_json) = 0;
  /// The most recent report for a node, if any.
  virtual Result<std::optional<BmcFacts>> LatestBmcFacts(std::string_view node) = 0;
  /// The most recent report of every node that has one, sorted by node name, in one query
  /// (for the planner's bulk read; nodes need not be known).
  virtual Result<std::vector<BmcFacts>> LatestBmcFactsOfAllNodes() = 0;

  /// Records a burn-in result (at = now). The node must be known.
  virtual Status RecordBurnin(const BurninResult& result) = 0;
  /// A node's burn-in results, oldest first.
  virtual Result<std::vector<BurninResult>> BurninResults(std::string_view node) = 0;

  // ---- The apply lock ---------------------------------------------------------------------

  /// Takes the one exclusive apply lock for this process (pid, host, now). If another
  /// live holder has it: kConflict, "... held by <description> (pid P on host H) since T".
  /// A lock left by a dead pid on this host is taken over, and LockInfo::stale says so.
  /// Safe between processes. A Store releases a lock it still holds when destroyed.
  virtual Result<LockInfo> AcquireLock(std::string_view description) = 0;
  /// Releases the lock held by this process. kNotFound if it holds none.
  virtual Status ReleaseLock() = 0;
  /// Who holds the lock now, if anyone (for `status` and messages).
  virtual Result<std::optional<LockHolder>> CurrentLock() = 0;
  /// Removes the lock (an operator's decision, e.g. after a host change): whoever holds it
  /// when `expected` is null, else only if `expected` still holds it (kConflict naming the
  /// holder now: an apply that took the lock over since it was read keeps it). Returns the
  /// holder it removed, if any.
  virtual Result<std::optional<LockHolder>> BreakLock(const LockHolder* expected) = 0;

  // ---- Maintenance ------------------------------------------------------------------------

  /// PRAGMA integrity_check; kIo with SQLite's findings if the file is damaged.
  virtual Status CheckIntegrity() = 0;
  /// Writes a consistent copy of the database to `destination` (VACUUM INTO), safe while
  /// other processes use the store. The destination must not exist.
  virtual Status BackupTo(const std::string& destination) = 0;
};

struct StoreOptions {
  /// When false, a missing file is kNotFound instead of being created (for read commands
  /// such as `racksmith status`, which must not create a database). Default: true.
  bool create_if_missing = true;
};

/// True when `holder` ran on this host and is gone (its pid is not running, or now runs
/// another process): the next AcquireLock will take the lock over.
bool LockHolderIsGone(const LockHolder& holder);

/// The newest schema version this binary knows (the length of the migration list).
int LatestSchemaVersion();

/// Opens (creating if allowed) the SQLite store at `path` and migrates it. ":memory:" gives
/// a private in-memory store. `clock` must outlive the Store.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock,
                                               const StoreOptions& options = {});

/// A fresh in-memory store, for unit tests of other modules.
inline Result<std::unique_ptr<Store>> OpenMemoryStore(const Clock& clock) {
  return OpenSqliteStore(":memory:", clock);
}

}  // namespace racksmith::state
