// `racksmith state backup|check|lock|unlock` through the real binary.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "state/store.h"
#include "store_test_util.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::state {
namespace {

using racksmith::testing::RunCli;
using racksmith::testing::TempDir;
using testing::MustOpen;

// Leaves a lock behind whose holder is gone: a child takes it and exits without releasing.
void LeaveStaleLock(const std::string& path) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    SystemClock clock;
    auto store = OpenSqliteStore(path, clock);
    if (!store.ok() || !(*store)->AcquireLock("racksmith apply lab-n01").ok()) _exit(1);
    _exit(0);  // no destructors: the lock stays
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("state backup writes a copy that opens with the same nodes", "[state][cli]") {
  TempDir dir;
  std::string db = dir.Join("state.db");
  SystemClock clock;
  {
    auto store = MustOpen(db, clock);
    RS_REQUIRE_OK(store->EnsureNodes({"lab-n01", "lab-n02"}, NodeState::kNew));
  }
  auto r = RunCli({"--state", db, "state", "backup", dir.Join("copy.db")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  auto copy = MustOpen(dir.Join("copy.db"), clock);
  auto nodes = copy->ListNodes();
  REQUIRE(nodes.ok());
  CHECK(nodes->size() == 2);

  SECTION("an existing destination is never overwritten") {
    auto again = RunCli({"--state", db, "state", "backup", dir.Join("copy.db")});
    CHECK(again.exit_code != 0);
    CHECK(again.err.find("copy.db") != std::string::npos);
  }
}

TEST_CASE("state commands never create a missing store", "[state][cli]") {
  TempDir dir;
  std::string db = dir.Join("missing.db");
  for (auto args : {std::vector<std::string>{"state", "check"},
                    std::vector<std::string>{"state", "lock"},
                    std::vector<std::string>{"state", "backup", dir.Join("b.db")}}) {
    args.insert(args.begin(), {"--state", db});
    auto r = RunCli(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("missing.db") != std::string::npos);
  }
  CHECK(access(db.c_str(), F_OK) != 0);
}

TEST_CASE("state check reports an intact store with its schema version", "[state][cli]") {
  TempDir dir;
  std::string db = dir.Join("state.db");
  SystemClock clock;
  MustOpen(db, clock);
  auto r = RunCli({"--state", db, "state", "check", "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == true);
  CHECK(j["schema_version"] == LatestSchemaVersion());
}

TEST_CASE("state unlock refuses while the holder runs and --force removes it", "[state][cli]") {
  TempDir dir;
  std::string db = dir.Join("state.db");
  SystemClock clock;
  auto store = MustOpen(db, clock);
  RS_REQUIRE_OK(store->AcquireLock("racksmith apply @rack:r01"));

  auto shown = RunCli({"--state", db, "state", "lock", "--json"});
  REQUIRE(shown.exit_code == 0);
  auto j = nlohmann::json::parse(shown.out);
  CHECK(j["pid"] == getpid());
  CHECK(j["gone"] == false);

  auto refused = RunCli({"--state", db, "state", "unlock"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("still running") != std::string::npos);
  auto held = store->CurrentLock();
  REQUIRE(held.ok());
  CHECK(held->has_value());

  auto forced = RunCli({"--state", db, "state", "unlock", "--force"});
  CHECK(forced.exit_code == 0);
  held = store->CurrentLock();
  REQUIRE(held.ok());
  CHECK(!held->has_value());
}

TEST_CASE("state unlock removes a lock whose holder is gone", "[state][cli]") {
  TempDir dir;
  std::string db = dir.Join("state.db");
  LeaveStaleLock(db);
  auto shown = RunCli({"--state", db, "state", "lock"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("process gone") != std::string::npos);
  auto r = RunCli({"--state", db, "state", "unlock"});
  CHECK(r.exit_code == 0);
  CHECK(RunCli({"--state", db, "state", "lock"}).out == "not held\n");
}

}  // namespace
}  // namespace racksmith::state
