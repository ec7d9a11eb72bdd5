// racksmith/state (internal): a thin RAII layer over the sqlite3 C API. Not part of the
// public interface; only the SQLite store uses it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace racksmith::state {

/// A prepared statement; finalized when destroyed. Bind indexes are 1-based, columns 0-based.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string db_path)
      : db_(db), stmt_(stmt), db_path_(std::move(db_path)) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& BindNull(int index);

  /// Runs one step: true when a row is ready, false when done. kConflict for a
  /// constraint violation, kIo otherwise.
  Result<bool> Step();
  /// Steps to completion (for statements that return no rows).
  Status Run();
  /// Resets for another execution with new bindings.
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string db_path_;
};

/// An open connection; closed when destroyed.
class Database {
 public:
  Database() = default;
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Opens `path` with the given sqlite3_open_v2 flags.
  Status Open(const std::string& path, int flags);
  void Close();

  /// Runs one or more statements that return no rows.
  Status Exec(const std::string& sql);
  /// Exec for one statement run often (BEGIN, COMMIT, SAVEPOINT): prepared once per
  /// connection (Cached) instead of parsed each time, reset after it ran; errors as Exec's.
  Status ExecCached(const std::string& sql);
  Result<Statement> Prepare(std::string_view sql);
  /// A statement prepared once per connection and reused (reset, bindings cleared): for
  /// queries run once per row of a bulk write. REQUIRES: not already in use by the caller.
  Result<Statement*> Cached(const std::string& sql);
  /// Whether the cached query `sql`, its one parameter bound to `value`, returns a row. The
  /// statement is reset at once: one left on a row would hold its read snapshot open.
  template <typename T>
  Result<bool> HasRow(const std::string& sql, const T& value) {
    Result<Statement*> st = Cached(sql);
    if (!st.ok()) return st.error();
    (*st)->Bind(1, value);
    Result<bool> row = (*st)->Step();
    (*st)->Reset();
    return row;
  }
  /// The value of the first column of the first row, or `fallback` when there is none.
  Result<int64_t> QueryInt(std::string_view sql, int64_t fallback);

  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  /// An Error for the connection's last failure: "<path>: <what>: <sqlite message>".
  Error LastError(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, Statement> cache_;
};

/// Steps `st` to its end, calling `row()` (returning Status) once per row; the first error
/// (stepping or from `row`) stops it.
template <typename RowFn>
Status ForEachRow(Statement& st, RowFn&& row) {
  for (;;) {
    Result<bool> more = st.Step();
    if (!more.ok()) return more.error();
    if (!*more) return Status::Ok();
    if (Status s = row(); !s.ok()) return s;
  }
}

/// A transaction that rolls back unless Commit() is called. BEGIN IMMEDIATE takes the
/// write lock up front, so two processes never both read-then-write and deadlock.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// A write transaction (BEGIN IMMEDIATE).
  Status Begin();
  /// A read transaction: every query until Commit sees one consistent snapshot, even while
  /// other processes write (WAL).
  Status BeginRead();
  Status Commit();
  /// Forgets the transaction without a ROLLBACK: SQLite already rolled it back itself.
  void Abandon();

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace racksmith::state
