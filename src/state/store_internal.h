// racksmith/state (internal): row readers and small helpers shared by the SqliteStore files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "state/records.h"
#include "state/sqlite_db.h"

namespace racksmith::state {

/// Run ids are foreign keys; 0 ("no run") is stored as NULL.
void BindRunId(Statement& st, int index, int64_t run_id);

/// A state name read back from the database; an unknown one means the file was damaged
/// or written by a binary that skipped a migration, so the error says which file.
Result<NodeState> ParseStoredState(const std::string& name, const std::string& db_path);

/// Columns: name, state, reason, created_at, updated_at.
Result<NodeRecord> ReadNode(const Statement& st, const std::string& db_path);
/// Columns: node, component, version, content_hash, applied_at, run_id.
ComponentRecord ReadComponent(const Statement& st);
/// Columns: kStepColumns.
Result<StepRecord> ReadStep(const Statement& st, const std::string& db_path);
inline constexpr std::string_view kStepColumns =
    "id, run_id, node, kind, component, intent, status, attempt, started_at, finished_at, "
    "error, output_tail";

/// The apply lock row, if any.
Result<std::optional<LockHolder>> ReadLock(Database& db);

/// This machine's host name.
std::string Hostname();

/// LockHolder::process_identity of a running process, or "" when it cannot be read (the
/// process is gone, or this is not Linux).
std::string ProcessIdentity(int64_t pid);

/// True when `json` parses as JSON (the empty string counts as "{}").
bool IsJson(std::string_view json);

}  // namespace racksmith::state
