#include "state/store_internal.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace racksmith::state {

void BindRunId(Statement& st, int index, int64_t run_id) {
  if (run_id == 0) {
    st.BindNull(index);
  } else {
    st.Bind(index, run_id);
  }
}

Result<NodeState> ParseStoredState(const std::string& name, const std::string& db_path) {
  Result<NodeState> state = ParseNodeState(name);
  if (!state.ok()) {
    return IoError(fmt::format("{}: damaged state database: {}", db_path, state.error().message()));
  }
  return state;
}

Result<NodeRecord> ReadNode(const Statement& st, const std::string& db_path) {
  NodeRecord n;
  n.name = st.Text(0);
  Result<NodeState> state = ParseStoredState(st.Text(1), db_path);
  if (!state.ok()) return state.error();
  n.state = *state;
  n.reason = st.Text(2);
  n.created_at = st.Int(3);
  n.updated_at = st.Int(4);
  return n;
}

ComponentRecord ReadComponent(const Statement& st) {
  ComponentRecord c;
  c.node = st.Text(0);
  c.component = st.Text(1);
  c.version = st.Text(2);
  c.content_hash = st.Text(3);
  c.applied_at = st.Int(4);
  c.run_id = st.Int(5);
  return c;
}

Result<StepRecord> ReadStep(const Statement& st, const std::string& db_path) {
  StepRecord s;
  s.id = st.Int(0);
  s.run_id = st.Int(1);
  s.node = st.Text(2);
  s.kind = st.Text(3);
  s.component = st.Text(4);
  s.intent_json = st.Text(5);
  Result<StepStatus> status = ParseStepStatus(st.Text(6));
  if (!status.ok()) {
    return IoError(fmt::format("{}: damaged state database: step {}: {}", db_path, s.id,
                               status.error().message()));
  }
  s.status = *status;
  s.attempt = static_cast<int>(st.Int(7));
  s.started_at = st.Int(8);
  s.finished_at = st.Int(9);
  s.error = st.Text(10);
  s.output_tail = st.Text(11);
  return s;
}

Result<std::optional<LockHolder>> ReadLock(Database& db) {
  Result<Statement> st = db.Prepare(
      "SELECT description, pid, host, since, process_identity FROM apply_lock WHERE id = 1");
  if (!st.ok()) return st.error();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<LockHolder>();
  return std::optional<LockHolder>(
      LockHolder{st->Text(0), st->Int(1), st->Text(2), st->Int(3), st->Text(4)});
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string ProcessIdentity(int64_t pid) {
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  if (!std::getline(boot, boot_id) || boot_id.empty()) return {};
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return {};
  // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  // The fields after comm start at field 3 (state); starttime is field 22.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return {};
  }
  return boot_id + "/" + field;
}

bool IsJson(std::string_view json) {
  if (json.empty()) return true;
  return nlohmann::json::accept(json);
}

}  // namespace racksmith::state
