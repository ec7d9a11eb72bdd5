// SqliteStore: SSH host keys, BMC facts and burn-in results.
#include <fmt/format.h>

#include "state/sqlite_store.h"
#include "state/store_internal.h"

namespace racksmith::state {
namespace {

constexpr std::string_view kHostKeyColumns = "node, address, key_type, key, first_seen, last_seen";

HostKey ReadHostKey(const Statement& st) {
  return HostKey{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4), st.Int(5)};
}

}  // namespace

// ---- SSH host keys -------------------------------------------------------------------------

Result<std::optional<HostKey>> SqliteStore::LookupHostKey(std::string_view node,
                                                          std::string_view key_type) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      fmt::format("SELECT {} FROM host_keys WHERE node = ? AND key_type = ?", kHostKeyColumns));
  if (!st.ok()) return st.error();
  st->Bind(1, node).Bind(2, key_type);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<HostKey>();
  return std::optional<HostKey>(ReadHostKey(*st));
}

Result<std::vector<HostKey>> SqliteStore::HostKeys(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      fmt::format("SELECT {} FROM host_keys WHERE node = ? ORDER BY key_type", kHostKeyColumns));
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  std::vector<HostKey> keys;
  Status s = ForEachRow(*st, [&] {
    keys.push_back(ReadHostKey(*st));
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return keys;
}

Status SqliteStore::RecordHostKey(std::string_view node, std::string_view address,
                                  std::string_view key_type, std::string_view key) {
  if (node.empty() || key_type.empty() || key.empty()) {
    return InvalidInput(fmt::format(
        "a host key needs a node, a key type and a key; got node '{}', type '{}'", node, key_type));
  }
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  Result<Statement> get =
      db_.Prepare("SELECT key, first_seen, address FROM host_keys WHERE node = ? AND key_type = ?");
  if (!get.ok()) return get.error();
  get->Bind(1, node).Bind(2, key_type);
  Result<bool> row = get->Step();
  if (!row.ok()) return row.error();
  int64_t now = Now();
  if (*row) {
    if (get->Text(0) != key) {
      return Error(ErrorCode::kConflict,
                   fmt::format("{}: the {} host key of node '{}' changed: recorded {} (first "
                               "seen {} at {}), offered {} at {}; if the node was reinstalled, "
                               "forget its host keys first",
                               path(), key_type, node, get->Text(0), FormatTime(get->Int(1)),
                               get->Text(2), key, address));
    }
    Result<Statement> touch = db_.Prepare(
        "UPDATE host_keys SET last_seen = ?, address = ? WHERE node = ? AND key_type = ?");
    if (!touch.ok()) return touch.error();
    touch->Bind(1, now).Bind(2, address).Bind(3, node).Bind(4, key_type);
    if (Status s = touch->Run(); !s.ok()) return s;
  } else {
    Result<Statement> insert = db_.Prepare(
        "INSERT INTO host_keys (node, key_type, address, key, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.error();
    insert->Bind(1, node).Bind(2, key_type).Bind(3, address).Bind(4, key).Bind(5, now);
    insert->Bind(6, now);
    if (Status s = insert->Run(); !s.ok()) return s;
  }
  return tx.Commit();
}

Result<int> SqliteStore::ForgetHostKeys(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare("DELETE FROM host_keys WHERE node = ?");
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  if (Status s = st->Run(); !s.ok()) return s.error();
  return db_.Changes();
}

// ---- BMC facts -----------------------------------------------------------------------------

Status SqliteStore::RecordBmcFacts(std::string_view node, std::string_view facts_json) {
  if (node.empty()) return InvalidInput("BMC facts need a node name");
  if (facts_json.empty() || !IsJson(facts_json)) {
    return InvalidInput(fmt::format("the BMC facts of node '{}' are not valid JSON", node));
  }
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st =
      db_.Prepare("INSERT INTO bmc_facts (node, facts, collected_at) VALUES (?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, node).Bind(2, facts_json).Bind(3, Now());
  return st->Run();
}

Result<std::optional<BmcFacts>> SqliteStore::LatestBmcFacts(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "SELECT node, facts, collected_at FROM bmc_facts WHERE node = ? ORDER BY id DESC "
      "LIMIT 1");
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<BmcFacts>();
  return std::optional<BmcFacts>(BmcFacts{st->Text(0), st->Text(1), st->Int(2)});
}

Result<std::vector<BmcFacts>> SqliteStore::LatestBmcFactsOfAllNodes() {
  std::unique_lock<std::mutex> lock = Settled();
  // max(id) per node walks the bmc_facts(node, id) index once.
  Result<Statement> st = db_.Prepare(
      "SELECT node, facts, collected_at FROM bmc_facts WHERE id IN "
      "(SELECT max(id) FROM bmc_facts GROUP BY node) ORDER BY node");
  if (!st.ok()) return st.error();
  std::vector<BmcFacts> out;
  Status s = ForEachRow(*st, [&] {
    out.push_back(BmcFacts{st->Text(0), st->Text(1), st->Int(2)});
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return out;
}

// ---- Burn-in -------------------------------------------------------------------------------

Status SqliteStore::RecordBurnin(const BurninResult& result) {
  if (!IsJson(result.summary_json)) {
    return InvalidInput(
        fmt::format("the burn-in summary of node '{}' is not valid JSON", result.node));
  }
  std::unique_lock<std::mutex> lock = Settled();
  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  if (Status s = RequireNode(result.node); !s.ok()) return s;
  Result<Statement> st = db_.Prepare(
      "INSERT INTO burnin_results (node, run_id, passed, summary, at) VALUES (?, ?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, result.node);
  BindRunId(*st, 2, result.run_id);
  st->Bind(3, int64_t{result.passed ? 1 : 0});
  st->Bind(4, result.summary_json.empty() ? std::string_view("{}") : result.summary_json);
  st->Bind(5, Now());
  if (Status s = st->Run(); !s.ok()) {
    return s.error().WithContext(
        fmt::format("burn-in of node '{}' (run {})", result.node, result.run_id));
  }
  return tx.Commit();
}

Result<std::vector<BurninResult>> SqliteStore::BurninResults(std::string_view node) {
  std::unique_lock<std::mutex> lock = Settled();
  Result<Statement> st = db_.Prepare(
      "SELECT node, coalesce(run_id, 0), passed, summary, at FROM burnin_results "
      "WHERE node = ? ORDER BY id");
  if (!st.ok()) return st.error();
  st->Bind(1, node);
  std::vector<BurninResult> out;
  Status s = ForEachRow(*st, [&] {
    out.push_back(BurninResult{st->Text(0), st->Int(1), st->Int(2) != 0, st->Text(3), st->Int(4)});
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return out;
}

}  // namespace racksmith::state
