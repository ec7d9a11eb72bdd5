// SqliteStore: opening, migrations, nodes, components, the apply lock and maintenance.
// The journal (runs, steps) is in sqlite_store_journal.cc; host keys, BMC facts and burn-in
// in sqlite_store_facts.cc.
#include "state/sqlite_store.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

#include "state/migrations.h"
#include "state/store_internal.h"

namespace racksmith::state {
namespace {

constexpr int kBusyTimeoutMillis = 10'000;

// Creates each missing folder above `path` with mode 0700: the store holds host keys and
// the journal of a cluster, which other local users have no business reading.
Status MakeParentDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return IoError(fmt::format("{}: cannot create folder {} for the state database: {}", path,
                                 dir, std::strerror(errno)));
    }
  }
  return Status::Ok();
}

// Creates the file ourselves so that it is 0600 from its first byte whatever the umask.
// SQLite gives the -wal and -shm files the mode of the database file.
Status CreatePrivateFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Ok();  // another process won the race: fine
    return IoError(
        fmt::format("{}: cannot create the state database: {}", path, std::strerror(errno)));
  }
  int rc = fchmod(fd, 0600);
  int err = errno;
  close(fd);
  if (rc != 0) {
    return IoError(fmt::format("{}: cannot set mode 0600: {}", path, std::strerror(err)));
  }
  return Status::Ok();
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// A holder on this host is gone when its pid is not running, or when the process now
// running under that pid is another one (the pid was reused, or the host rebooted). A
// holder on another host is never judged from here.
bool HolderGone(const LockHolder& holder, const std::string& this_host) {
  if (holder.host != this_host) return false;
  if (!ProcessAlive(holder.pid)) return true;
  if (holder.process_identity.empty()) return false;
  std::string now_running = ProcessIdentity(holder.pid);
  return !now_running.empty() && now_running != holder.process_identity;
}

}  // namespace

bool LockHolderIsGone(const LockHolder& holder) { return HolderGone(holder, Hostname()); }

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock,
                                               const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(clock);
  Status s = store->Open(path, options);
  if (!s.ok()) return s.error();
  return std::unique_ptr<Store>(std::move(store));
}

SqliteStore::~SqliteStore() {
  {
    std::unique_lock<std::mutex> lock = Settled();  // deferred journal writes committed first
    if (holds_lock_) (void)ReleaseLockLocked();
    if (checkpointer_ != nullptr) sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
  }
  StopCommitter();
  checkpointer_.reset();
  std::lock_guard<std::mutex> lock(wal_mu_);
  if (wal_file_ != nullptr) wal_file_->pMethods->xClose(wal_file_);
}

Status SqliteStore::Open(const std::string& path, const StoreOptions& options) {
  if (path.empty()) return InvalidInput("the state database path is empty");
  bool memory = path == ":memory:";
  if (!memory) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        return IoError(
            fmt::format("{}: cannot read the state database: {}", path, std::strerror(errno)));
      }
      if (!options.create_if_missing) {
        return NotFound(fmt::format("no state database at {}", path));
      }
      if (Status s = MakeParentDirs(path); !s.ok()) return s;
      if (Status s = CreatePrivateFile(path); !s.ok()) return s;
    } else if (!S_ISREG(st.st_mode)) {
      return InvalidInput(fmt::format("{}: the state database is not a regular file", path));
    }
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (memory) flags |= SQLITE_OPEN_CREATE;
  if (Status s = db_.Open(path, flags); !s.ok()) return s;
  if (Status s = Configure(); !s.ok()) return s;
  if (Status s = Migrate(); !s.ok()) return s;
  if (!memory) {
    checkpointer_ = std::make_unique<WalCheckpointer>(path);
    checkpointer_->Install(db_.handle());
  }
  return Status::Ok();
}

Status SqliteStore::Configure() {
  sqlite3_busy_timeout(db_.handle(), kBusyTimeoutMillis);
  if (Status s = db_.Exec("PRAGMA foreign_keys = ON"); !s.ok()) return s;
  // Refuse a newer schema before anything writes: even switching to WAL changes the file.
  Result<int> version = ReadSchemaVersion();
  if (!version.ok()) return version.error();
  if (*version > LatestSchemaVersion()) {
    return Error(ErrorCode::kUnsupported,
                 fmt::format("{} is schema version {}, this racksmith knows up to {}; upgrade "
                             "racksmith",
                             db_.path(), *version, LatestSchemaVersion()));
  }
  // WAL: readers never block the writer, and a kill at any moment leaves a valid file.
  // synchronous=FULL: a journaled intent survives a power cut, not only a crash.
  if (Status s = db_.Exec("PRAGMA journal_mode = WAL"); !s.ok()) return s;
  return db_.Exec("PRAGMA synchronous = FULL");
}

Result<int> SqliteStore::ReadSchemaVersion() {
  Result<int64_t> has_table = db_.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", 0);
  if (!has_table.ok()) {
    return has_table.error().WithContext("not a readable racksmith state database");
  }
  if (*has_table == 0) {
    Result<int64_t> tables =
        db_.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table'", 0);
    if (!tables.ok()) return tables.error();
    if (*tables > 0) {
      return InvalidInput(fmt::format(
          "{} is not a racksmith state database: it has tables but no schema_version", db_.path()));
    }
    return 0;
  }
  Result<int64_t> version = db_.QueryInt("SELECT max(version) FROM schema_version", 0);
  if (!version.ok()) return version.error();
  return static_cast<int>(*version);
}

Status SqliteStore::Migrate() {
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  // Read again inside the write transaction: another process may have migrated meanwhile.
  Result<int> version = ReadSchemaVersion();
  if (!version.ok()) return version.error();
  if (*version > LatestSchemaVersion()) {
    return Error(ErrorCode::kUnsupported,
                 fmt::format("{} is schema version {}, this racksmith knows up to {}; upgrade "
                             "racksmith",
                             db_.path(), *version, LatestSchemaVersion()));
  }
  if (Status s = db_.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                          "description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      !s.ok()) {
    return s;
  }
  for (const Migration& m : Migrations()) {
    if (m.version <= *version) continue;
    if (Status s = db_.Exec(std::string(m.sql)); !s.ok()) {
      return s.error().WithContext(fmt::format("migration to schema version {}", m.version));
    }
    Result<Statement> st = db_.Prepare(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)");
    if (!st.ok()) return st.error();
    if (Status s = st->Bind(1, int64_t{m.version}).Bind(2, m.description).Bind(3, Now()).Run();
        !s.ok()) {
      return s;
    }
  }
  if (Status s = tx.Commit(); !s.ok()) return s;
  schema_version_ = LatestSchemaVersion();
  return Status::Ok();
}

Status SqliteStore::RequireNode(std::string_view node) {
  // Cached: bulk writes check every row's node.
  Result<bool> row = db_.HasRow("SELECT 1 FROM nodes WHERE name = ?", node);
  if (!row.ok()) return row.error();
  if (!*row) return NotFound(fmt::format("{}: no node '{}' in the state store", path(), node));
  return Status::Ok();
}

// ---- Nodes -------------------------------------------------------------------------------

Result<int> SqliteStore::EnsureNodes(const std::vector<std::string>& names, NodeState initial) {
  std::unique_lock<std::mutex> lock = Settled();
  for (const std::string& name : names) {
    if (name.empty()) return InvalidInput("a node name is empty");
  }
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s.error();
  Result<Statement> insert = db_.Prepare(
      "INSERT INTO nodes (name, state, reason, created_at, updated_at) VALUES (?, ?, '', ?, ?) "
      "ON CONFLICT (name) DO NOTHING");
  Result<Statement> history = db_.Prepare(
      "INSERT INTO node_state_history (node, from_state, to_state, reason, at) "
      "VALUES (?, NULL, ?, '', ?)");
  if (!insert.ok()) return insert.error();
  if (!history.ok()) return history.error();
  int64_t now = Now();
  int created = 0;
  for (const std::string& name : names) {
    insert->Reset();
    insert->Bind(1, name).Bind(2, NodeStateName(initial)).Bind(3, now).Bind(4, now);
    if (Status s = insert->Run(); !s.ok()) return s.error();
    if (db_.Changes() == 0) continue;
    ++created;
    history->Reset();
    history->Bind(1, name).Bind(2, NodeStateName(initial)).Bind(3, now);
    if (Status s = history->Run(); !s.ok()) return s.error();
  }
  if (Status s = tx.Commit(); !s.ok()) return s.error();
  return created;
}

Status SqliteStore::SetNodeState(std::string_view node, NodeState state, std::string_view reason,
                                 int64_t run_id) {
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  if (Status s = SetNodeStateLocked(node, state, reason, run_id); !s.ok()) return s;
  return tx.Commit();
}

Status SqliteStore::SetNodeStateLocked(std::string_view node, NodeState state,
                                       std::string_view reason, int64_t run_id,
                                       bool keep_reason_in_same_state) {
  // Prepared once per connection: every journaled step start and finish comes here.
  Result<Statement*> get = db_.Cached("SELECT state, reason FROM nodes WHERE name = ?");
  if (!get.ok()) return get.error();
  (*get)->Bind(1, node);
  Result<bool> row = (*get)->Step();
  std::string old_state = row.ok() && *row ? (*get)->Text(0) : "";
  std::string old_reason = row.ok() && *row ? (*get)->Text(1) : "";
  (*get)->Reset();
  if (!row.ok()) return row.error();
  if (!*row) return NotFound(fmt::format("{}: no node '{}' in the state store", path(), node));
  if (old_state == NodeStateName(state) && (keep_reason_in_same_state || old_reason == reason)) {
    return Status::Ok();
  }
  int64_t now = Now();
  Result<Statement*> update =
      db_.Cached("UPDATE nodes SET state = ?, reason = ?, updated_at = ? WHERE name = ?");
  if (!update.ok()) return update.error();
  (*update)->Bind(1, NodeStateName(state)).Bind(2, reason).Bind(3, now).Bind(4, node);
  if (Status s = (*update)->Run(); !s.ok()) return s;
  Result<Statement*> insert = db_.Cached(
      "INSERT INTO node_state_history (node, from_state, to_state, reason, run_id, at) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.error();
  Statement& history = **insert;
  history.Bind(1, node).Bind(2, old_state).Bind(3, NodeStateName(state)).Bind(4, reason);
  BindRunId(history, 5, run_id);
  history.Bind(6, now);
  if (Status s = history.Run(); !s.ok()) {
    return s.error().WithContext(fmt::format("node '{}' (run {})", node, run_id));
  }
  return Status::Ok();
}

Result<NodeRecord> SqliteStore::GetNode(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st =
      db_.Prepare("SELECT name, state, reason, created_at, updated_at FROM nodes WHERE name = ?");
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.error();
  if (!*row) return NotFound(fmt::format("{}: no node '{}' in the state store", path(), node));
  return ReadNode(*st, path());
}

Result<std::vector<NodeRecord>> SqliteStore::ListNodes() {
  std::unique_lock<std::mutex> lock = Settled();
  return ListNodesLocked();
}

Result<std::vector<NodeRecord>> SqliteStore::ListNodesLocked() {
  Result<Statement> st =
      db_.Prepare("SELECT name, state, reason, created_at, updated_at FROM nodes ORDER BY name");
  if (!st.ok()) return st.error();
  std::vector<NodeRecord> nodes;
  Status s = ForEachRow(*st, [&]() -> Status {
    Result<NodeRecord> n = ReadNode(*st, path());
    if (!n.ok()) return n.error();
    nodes.push_back(std::move(*n));
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return nodes;
}

Result<std::vector<StateChange>> SqliteStore::NodeHistory(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "SELECT node, from_state, to_state, reason, coalesce(run_id, 0), at "
      "FROM node_state_history WHERE node = ? ORDER BY id");
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  std::vector<StateChange> changes;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    StateChange c;
    c.node = st->Text(0);
    if (!st->IsNull(1)) {
      Result<NodeState> from = ParseStoredState(st->Text(1), path());
      if (!from.ok()) return from.error();
      c.from = *from;
    }
    Result<NodeState> to = ParseStoredState(st->Text(2), path());
    if (!to.ok()) return to.error();
    c.to = *to;
    c.reason = st->Text(3);
    c.run_id = st->Int(4);
    c.at = st->Int(5);
    changes.push_back(std::move(c));
  }
  return changes;
}

Result<std::vector<NodeSnapshot>> SqliteStore::LoadSnapshots() {
  std::unique_lock<std::mutex> lock = Settled();
  // Three bulk queries in one read transaction: a consistent picture even while an apply
  // in another process writes.
  Transaction tx(db_);
  if (Status s = tx.BeginRead(); !s.ok()) return s.error();
  Result<std::vector<NodeRecord>> nodes = ListNodesLocked();
  if (!nodes.ok()) return nodes.error();
  Result<std::vector<StepRecord>> last_steps = LastStepPerNodeLocked();
  if (!last_steps.ok()) return last_steps.error();

  std::vector<NodeSnapshot> snapshots(nodes->size());
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(nodes->size());
  for (size_t i = 0; i < nodes->size(); ++i) {
    snapshots[i].node = std::move((*nodes)[i]);
    index.emplace(snapshots[i].node.name, i);
  }
  Result<Statement> st = db_.Prepare(
      "SELECT node, component, version, content_hash, applied_at, coalesce(run_id, 0) "
      "FROM components ORDER BY node, component");
  if (!st.ok()) return st.error();
  // Read flat, then give each node exactly its rows (ordered by node): one allocation per
  // node instead of a vector grown row by row (100,000 rows for 10,000 nodes).
  Result<int64_t> count = db_.QueryInt("SELECT count(*) FROM components", 0);
  if (!count.ok()) return count.error();
  std::vector<ComponentRecord> all;
  all.reserve(static_cast<size_t>(*count));
  Status read = ForEachRow(*st, [&] {
    all.push_back(ReadComponent(*st));
    return Status::Ok();
  });
  if (!read.ok()) return read.error();
  for (size_t begin = 0; begin < all.size();) {
    size_t end = begin + 1;
    while (end < all.size() && all[end].node == all[begin].node) ++end;
    auto it = index.find(all[begin].node);
    if (it != index.end()) {
      snapshots[it->second].components.assign(std::make_move_iterator(all.begin() + begin),
                                              std::make_move_iterator(all.begin() + end));
    }
    begin = end;
  }
  for (StepRecord& step : *last_steps) {
    auto it = index.find(step.node);
    if (it != index.end()) snapshots[it->second].last_step = std::move(step);
  }
  // A retirement that stopped after its erase (a power-off that failed, a kill) must not
  // plan the erase again. Only the retirement's own last steps may follow the erase: any
  // other step since (an image, a discover or install of a node brought back into service
  // after an earlier retirement, whatever its status) means the disks may hold data again,
  // and they are erased again. Two lookups per retiring or failed node.
  Result<Statement> erased = db_.Prepare(
      "SELECT name, erased FROM (SELECT name, "
      "(SELECT max(id) FROM steps WHERE node = nodes.name AND kind = 'erase' "
      "AND status = 'succeeded') AS erased, "
      "(SELECT max(id) FROM steps WHERE node = nodes.name "
      "AND kind NOT IN ('erase', 'power_off', 'retire')) AS other "
      "FROM nodes WHERE state IN ('retiring', 'failed')) "
      "WHERE erased IS NOT NULL AND (other IS NULL OR other < erased)");
  if (!erased.ok()) return erased.error();
  read = ForEachRow(*erased, [&] {
    auto it = index.find(erased->Text(0));
    if (it != index.end()) snapshots[it->second].erased_by_step = erased->Int(1);
    return Status::Ok();
  });
  if (!read.ok()) return read.error();
  if (Status s = tx.Commit(); !s.ok()) return s.error();
  return snapshots;
}

// ---- Components --------------------------------------------------------------------------

Status SqliteStore::RecordComponents(const std::vector<ComponentRecord>& records) {
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  int64_t now = Now();
  for (const ComponentRecord& r : records) {
    if (Status s = UpsertComponent(r, now); !s.ok()) return s;
  }
  return tx.Commit();
}

Status SqliteStore::UpsertComponent(const ComponentRecord& r, int64_t now, bool check_node) {
  if (r.component.empty()) {
    return InvalidInput(fmt::format("a component of node '{}' has no name", r.node));
  }
  if (check_node) {
    if (Status s = RequireNode(r.node); !s.ok()) return s;
  }
  Result<Statement*> st = db_.Cached(
      "INSERT INTO components (node, component, version, content_hash, applied_at, run_id) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (node, component) DO UPDATE SET "
      "version = excluded.version, content_hash = excluded.content_hash, "
      "applied_at = excluded.applied_at, run_id = excluded.run_id");
  if (!st.ok()) return st.error();
  Statement& insert = **st;
  insert.Bind(1, r.node).Bind(2, r.component).Bind(3, r.version).Bind(4, r.content_hash);
  insert.Bind(5, now);
  BindRunId(insert, 6, r.run_id);
  if (Status s = insert.Run(); !s.ok()) {
    return s.error().WithContext(
        fmt::format("component {} of node '{}' (run {})", r.component, r.node, r.run_id));
  }
  return Status::Ok();
}

Result<std::vector<ComponentRecord>> SqliteStore::Components(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "SELECT node, component, version, content_hash, applied_at, coalesce(run_id, 0) "
      "FROM components WHERE node = ? ORDER BY component");
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  std::vector<ComponentRecord> out;
  Status s = ForEachRow(*st, [&] {
    out.push_back(ReadComponent(*st));
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return out;
}

Status SqliteStore::ForgetComponent(std::string_view node, std::string_view component) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare("DELETE FROM components WHERE node = ? AND component = ?");
  if (!st.ok()) return st.error();
  st->Bind(1, node).Bind(2, component);
  return st->Run();
}

// ---- The apply lock ----------------------------------------------------------------------

Result<LockInfo> SqliteStore::AcquireLock(std::string_view description) {
  std::unique_lock<std::mutex> lock = Settled();
  LockInfo info;
  int64_t pid = static_cast<int64_t>(getpid());
  info.holder = {std::string(description), pid, Hostname(), Now(), ProcessIdentity(pid)};
  // BEGIN IMMEDIATE: two processes cannot both see the lock free and both take it.
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s.error();
  Result<std::optional<LockHolder>> current = ReadLock(db_);
  if (!current.ok()) return current.error();
  if (*current) {
    const LockHolder& h = **current;
    if (!HolderGone(h, info.holder.host)) {
      return Error(ErrorCode::kConflict,
                   fmt::format("{}: the apply lock is held by '{}' (pid {} on host {}) since {}",
                               path(), h.description, h.pid, h.host, FormatTime(h.since)));
    }
    info.stale = h;
    if (Status s = db_.Exec("DELETE FROM apply_lock"); !s.ok()) return s.error();
  }
  Result<Statement> st = db_.Prepare(
      "INSERT INTO apply_lock (id, description, pid, host, since, process_identity) "
      "VALUES (1, ?, ?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, info.holder.description).Bind(2, info.holder.pid).Bind(3, info.holder.host);
  st->Bind(4, info.holder.since).Bind(5, info.holder.process_identity);
  if (Status s = st->Run(); !s.ok()) return s.error();
  if (Status s = tx.Commit(); !s.ok()) return s.error();
  holds_lock_ = true;
  return info;
}

Status SqliteStore::ReleaseLock() {
  std::unique_lock<std::mutex> lock = Settled();
  return ReleaseLockLocked();
}

Status SqliteStore::ReleaseLockLocked() {
  Result<Statement> st = db_.Prepare("DELETE FROM apply_lock WHERE pid = ? AND host = ?");
  if (!st.ok()) return st.error();
  st->Bind(1, static_cast<int64_t>(getpid())).Bind(2, Hostname());
  if (Status s = st->Run(); !s.ok()) return s;
  holds_lock_ = false;
  if (db_.Changes() == 0) {
    return NotFound(fmt::format("{}: this process (pid {}) holds no apply lock", path(),
                                static_cast<int64_t>(getpid())));
  }
  return Status::Ok();
}

Result<std::optional<LockHolder>> SqliteStore::CurrentLock() {
  std::unique_lock<std::mutex> lock = Settled();
  return ReadLock(db_);
}

Result<std::optional<LockHolder>> SqliteStore::BreakLock(const LockHolder* expected) {
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s.error();
  Result<std::optional<LockHolder>> current = ReadLock(db_);
  if (!current.ok()) return current.error();
  if (expected != nullptr) {
    const std::optional<LockHolder>& now = *current;
    if (!now || now->pid != expected->pid || now->host != expected->host ||
        now->since != expected->since || now->process_identity != expected->process_identity) {
      return Error(ErrorCode::kConflict, fmt::format(
          "{}: the apply lock changed hands since it was read: {}; nothing removed", path(),
          now ? fmt::format("now held by {} (pid {} on host {})", now->description, now->pid,
                            now->host)
              : std::string("nobody holds it now")));
    }
  }
  if (Status s = db_.Exec("DELETE FROM apply_lock"); !s.ok()) return s.error();
  if (Status s = tx.Commit(); !s.ok()) return s.error();
  holds_lock_ = false;
  return current;
}

// ---- Maintenance -------------------------------------------------------------------------

Status SqliteStore::CheckIntegrity() {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare("PRAGMA integrity_check");
  if (!st.ok()) return st.error();
  std::string findings;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    std::string line = st->Text(0);
    if (line == "ok") continue;
    if (!findings.empty()) findings += "; ";
    findings += line;
  }
  if (findings.empty()) return Status::Ok();
  return IoError(fmt::format("{}: integrity check failed: {}", path(), findings));
}

Status SqliteStore::BackupTo(const std::string& destination) {
  std::unique_lock<std::mutex> lock = Settled();
  struct stat st {};
  if (stat(destination.c_str(), &st) == 0) {
    return InvalidInput(fmt::format("backup destination {} already exists", destination));
  }
  // VACUUM INTO accepts an existing empty file: create it 0600 so the copy is as private as
  // the original.
  if (Status s = CreatePrivateFile(destination); !s.ok()) return s;
  Result<Statement> vacuum = db_.Prepare("VACUUM INTO ?");
  if (!vacuum.ok()) return vacuum.error();
  vacuum->Bind(1, destination);
  if (Status s = vacuum->Run(); !s.ok()) {
    unlink(destination.c_str());
    return s.error().WithContext(fmt::format("backup to {}", destination));
  }
  return Status::Ok();
}

}  // namespace racksmith::state
