// Opening the store: file creation and modes, pragmas, migrations, refusals.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "state/migrations.h"
#include "state/store.h"
#include "store_test_util.h"
#include "support/temp_dir.h"

namespace racksmith::state {
namespace {

using racksmith::testing::TempDir;
using testing::MustOpen;

// Runs SQL on a database file through a plain connection, as an older racksmith (or an
// operator with the sqlite3 shell) would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  INFO(msg);
  REQUIRE(rc == SQLITE_OK);
}

std::string RawQueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

TEST_CASE("a new store is created 0600 with its -wal and -shm, in folders created 0700",
          "[state]") {
  TempDir dir;
  std::string path = dir.Join("a/b/state.db");
  FakeClock clock;
  // A permissive umask must not leak into the file's mode.
  mode_t old_umask = umask(0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock);
  umask(old_umask);
  REQUIRE(store.ok());
  REQUIRE((*store)->EnsureNodes({"n01"}, NodeState::kNew).ok());
  CHECK(ModeOf(dir.Join("a")) == 0700);
  CHECK(ModeOf(dir.Join("a/b")) == 0700);
  CHECK(ModeOf(path) == 0600);
  CHECK(ModeOf(path + "-wal") == 0600);
  CHECK(ModeOf(path + "-shm") == 0600);
}

TEST_CASE("the store runs in WAL mode and its connection enforces foreign keys", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto store = MustOpen(path, clock);
  CHECK(RawQueryText(path, "PRAGMA journal_mode") == "wal");
  REQUIRE(store->EnsureNodes({"n01"}, NodeState::kNew).ok());
  // Run 42 does not exist: the history row's foreign key must refuse it.
  Status s = store->SetNodeState("n01", NodeState::kActive, "", 42);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == ErrorCode::kConflict);
  CHECK_THAT(s.error().message(), Catch::Contains("FOREIGN KEY"));
  // And nothing of the refused change was kept.
  CHECK(store->GetNode("n01")->state == NodeState::kNew);
}

TEST_CASE("a fresh store is at the latest schema version", "[state]") {
  FakeClock clock;
  auto store = OpenMemoryStore(clock);
  REQUIRE(store.ok());
  CHECK((*store)->SchemaVersion() == LatestSchemaVersion());
  CHECK(LatestSchemaVersion() == static_cast<int>(Migrations().size()));
  for (size_t i = 0; i < Migrations().size(); ++i) {
    CHECK(Migrations()[i].version == static_cast<int>(i + 1));
  }
}

TEST_CASE("a version 1 database is migrated on open and keeps its data", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  // The database an early racksmith left: schema version 1 with one node.
  RawExec(path, std::string(Migrations()[0].sql) +
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at INTEGER NOT NULL);"
                    "INSERT INTO schema_version VALUES (1, 'v1', 1);"
                    "INSERT INTO nodes VALUES ('gpu01', 'active', 'ok', 5, 6);");
  FakeClock clock;
  auto store = MustOpen(path, clock);
  CHECK(store->SchemaVersion() == LatestSchemaVersion());
  Result<NodeRecord> node = store->GetNode("gpu01");
  REQUIRE(node.ok());
  CHECK(node->state == NodeState::kActive);
  CHECK(node->reason == "ok");
  // Tables of later versions now exist and work.
  RS_REQUIRE_OK(store->RecordHostKey("gpu01", "10.0.0.1:22", "ssh-ed25519", "AAAA"));
  RS_REQUIRE_OK(store->RecordBurnin({"gpu01", 0, true, "{}", 0}));
  CHECK(RawQueryText(path, "SELECT group_concat(version) FROM schema_version") == "1,2,3,4,5");
}

TEST_CASE("a database with a newer schema is refused and left untouched", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  RawExec(path,
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
          "applied_at INTEGER NOT NULL);"
          "INSERT INTO schema_version VALUES (7, 'from the future', 1);"
          "CREATE TABLE future (x);");
  std::string before = ReadFile(path);
  FakeClock clock;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == ErrorCode::kUnsupported);
  CHECK(store.error().message() == path + " is schema version 7, this racksmith knows up to " +
                                       std::to_string(LatestSchemaVersion()) +
                                       "; upgrade racksmith");
  CHECK(ReadFile(path) == before);
  CHECK_FALSE(Exists(path + "-wal"));
}

TEST_CASE("a missing database is not created when the caller says not to", "[state]") {
  TempDir dir;
  std::string path = dir.Join("nothing/state.db");
  FakeClock clock;
  StoreOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock, options);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == ErrorCode::kNotFound);
  CHECK(store.error().message() == "no state database at " + path);
  CHECK_FALSE(Exists(dir.Join("nothing")));
}

TEST_CASE("a SQLite file of another program is refused with its path", "[state]") {
  TempDir dir;
  std::string path = dir.Join("other.db");
  RawExec(path, "CREATE TABLE customers (id INTEGER);");
  FakeClock clock;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == ErrorCode::kInvalidInput);
  CHECK(store.error().message() == path +
                                       " is not a racksmith state database: it has tables "
                                       "but no schema_version");
}

TEST_CASE("a file that is not a database gives an error naming it, not a crash", "[state]") {
  TempDir dir;
  std::string path = dir.Write("state.db", std::string(4096, 'x'));
  FakeClock clock;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == ErrorCode::kIo);
  CHECK_THAT(store.error().message(), Catch::Contains(path));
  CHECK_THAT(store.error().message(), Catch::Contains("not a database"));
}

TEST_CASE("two opens of the same file see each other's writes", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  auto a = MustOpen(path, clock);
  auto b = MustOpen(path, clock);
  REQUIRE(a->EnsureNodes({"n1", "n2"}, NodeState::kNew).ok());
  Result<std::vector<NodeRecord>> nodes = b->ListNodes();
  REQUIRE(nodes.ok());
  CHECK(nodes->size() == 2);
}

}  // namespace
}  // namespace racksmith::state
