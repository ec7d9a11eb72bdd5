// SqliteStore: runs and the journal of steps.
#include <fmt/format.h>

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

Result<int64_t> SqliteStore::StartStep(const StepIntent& intent,
                                       const std::optional<NodeStateChange>& change, Sync sync) {
  if (sync == Sync::kDeferred) {
    return DeferredStart();
  }
  if (Status s = CheckIntent(intent); !s.ok()) return s.error();
  int64_t id = 0;
  std::function<Status()> op = [&]() -> Status {
    Result<int64_t> inserted = StartOneLocked({intent, change, nullptr, {}});
    if (!inserted.ok()) return inserted.error();
    id = *inserted;
    return Status::Ok();
  };
  if (Status s = InGroupCommit(op, sync); !s.ok()) return s.error();
  return id;
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
      if (a.slot->power_safe) batch_wants_sync_ = true;
      return Status::Ok();
    });
    if (!s.ok() && sqlite3_get_autocommit(db_.handle())) return s.error();
  }
  return id;
}

Status SqliteStore::StartOfSeveralLocked(const StepStart& start, bool alone,
                                         Result<int64_t>* id) {
  auto one = [&]() -> Status {
    *id = StartOneLocked(start);
    return id->ok() ? Status::Ok() : Status(id->error());
  };
  Status s = alone ? one() : InSavepointLocked("journal_start", one);
  if (!s.ok()) ForgetAhead(start);  // rolled back with its start
  return s;
}

void SqliteStore::ForgetAhead(const StepStart& start) {
  for (const AheadStart& a : start.ahead) {
    if (a.slot != nullptr) a.slot->id = 0;
  }
}

bool SqliteStore::AheadJournaled(const AheadSlot& slot) {
  const uint64_t batch = slot.batch.load();
  if (slot.power_safe && batch > synced_batches_.load()) return false;
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
        Result<int64_t> id = int64_t{0};
        if (Status s = StartOfSeveralLocked(start, queued->size() == 1, &id); !s.ok()) {
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
      Status s = StartOfSeveralLocked(starts[i], starts.size() == 1, &ids[i]);
      if (s.ok()) continue;
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
