#include "state/sqlite_db.h"

#include <fmt/format.h>

#include <utility>

namespace racksmith::state {
namespace {

// A constraint refused it (kConflict), or anything else went wrong with the database (kIo).
Error ErrorOfCode(int rc, std::string text) {
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return Error(ErrorCode::kConflict, std::move(text));
  return IoError(std::move(text));
}

Error ErrorFromCode(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return ErrorOfCode(rc, fmt::format("{}: {}: {}", path, what, msg));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      db_path_(std::move(other.db_path_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_path_ = std::move(other.db_path_);
  }
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: the statement copies, so callers may pass temporaries.
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorFromCode(db_, rc, db_path_, "query failed");
}

Status Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.error();
    if (!*row) return Status::Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Database::~Database() { Close(); }

Status Database::Open(const std::string& path, int flags) {
  Close();
  path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = ErrorFromCode(db_, rc, path_, "cannot open the state database");
    Close();
    return e;
  }
  sqlite3_extended_result_codes(db_, 1);
  return Status::Ok();
}

void Database::Close() {
  cache_.clear();  // statements go before their connection
  if (db_ != nullptr) {
    // close_v2 defers the close until stray statements are finalized instead of failing.
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return ErrorOfCode(rc, fmt::format("{}: {}", path_, msg));
}

Status Database::ExecCached(const std::string& sql) {
  Result<Statement*> st = Cached(sql);
  if (!st.ok()) return st.error();
  Status run = (*st)->Run();
  if (run.ok()) {
    (*st)->Reset();
    return run;
  }
  // As Exec says it: "<path>: <sqlite message>", read before the reset. Reset at once: a
  // statement left halted by an error must not linger until its next use.
  Error e = ErrorOfCode(sqlite3_extended_errcode(db_),
                        fmt::format("{}: {}", path_, sqlite3_errmsg(db_)));
  (*st)->Reset();
  return e;
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorFromCode(db_, rc, path_, "cannot prepare a query");
  return Statement(db_, stmt, path_);
}

Result<Statement*> Database::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    Result<Statement> st = Prepare(sql);
    if (!st.ok()) return st.error();
    it = cache_.emplace(sql, std::move(*st)).first;
  } else {
    it->second.Reset();
  }
  return &it->second;
}

Result<int64_t> Database::QueryInt(std::string_view sql, int64_t fallback) {
  Result<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.error();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.error();
  if (!*row || stmt->IsNull(0)) return fallback;
  return stmt->Int(0);
}

Error Database::LastError(std::string_view what) const {
  return ErrorFromCode(db_, sqlite3_errcode(db_), path_, what);
}

// Cached: the journal's group commit begins and commits a transaction per batch, one or
// more per step of an apply; parsing BEGIN and COMMIT each time was a tenth of a commit.
Transaction::~Transaction() {
  if (open_) (void)db_.ExecCached("ROLLBACK");
}

Status Transaction::Begin() {
  Status s = db_.ExecCached("BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Transaction::BeginRead() {
  Status s = db_.ExecCached("BEGIN DEFERRED");
  open_ = s.ok();
  return s;
}

void Transaction::Abandon() { open_ = false; }

Status Transaction::Commit() {
  Status s = db_.ExecCached("COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace racksmith::state
