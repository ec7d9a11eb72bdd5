// `racksmith status` and `racksmith history`, end to end through the real binary, against a
// store this test fills through the Store API.
// Regenerate the golden files: RACKSMITH_UPDATE_GOLDEN=1 build/racksmith_tests "[state]"
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "state/store.h"
#include "store_test_util.h"
#include "support/cli_runner.h"
#include "support/golden.h"
#include "support/temp_dir.h"

namespace racksmith::state {
namespace {

using racksmith::testing::MatchesGolden;
using racksmith::testing::ReplaceAll;
using racksmith::testing::RunCli;
using racksmith::testing::TempDir;
using testing::MustOpen;

// A small cluster in several states: 8 active, 2 provisioning mid-image, 1 failed in
// burn-in, 1 new; a second rack with a different last step.
void FillCluster(Store& store, FakeClock& clock) {
  std::vector<std::string> names;
  for (int i = 1; i <= 12; ++i) names.push_back(fmt::format("gpu-r01-n{:02}", i));
  names.push_back("gpu-r02-n01");
  names.push_back("gpu-r02-n02");
  REQUIRE(store.EnsureNodes(names, NodeState::kNew).ok());
  Result<int64_t> run = store.BeginRun({"racksmith apply gpu-r01-n[01-12]", "ops", "ctl", 7});
  REQUIRE(run.ok());
  for (int i = 1; i <= 12; ++i) {
    std::string node = fmt::format("gpu-r01-n{:02}", i);
    if (i == 12) continue;  // stays new
    clock.Advance(1000);
    Result<int64_t> img =
        store.RecordIntent({*run, node, "image", "image", R"({"image":"u22"})", 1});
    REQUIRE(img.ok());
    if (i == 9 || i == 10) {
      RS_REQUIRE_OK(store.MarkRunning(*img));
      RS_REQUIRE_OK(store.SetNodeState(node, NodeState::kProvisioning, "", *run));
      continue;
    }
    RS_REQUIRE_OK(store.RecordResult(*img, {StepStatus::kSucceeded, "", "", std::nullopt}));
    Result<int64_t> burn = store.RecordIntent({*run, node, "burnin", "", "", 1});
    REQUIRE(burn.ok());
    if (i == 11) {
      RS_REQUIRE_OK(store.RecordResult(
          *burn, {StepStatus::kFailed, "dcgmi diag: GPU 3 not found\non the bus", "", {}}));
      RS_REQUIRE_OK(store.SetNodeState(node, NodeState::kFailed, "GPU 3 fell off the bus", 0));
      continue;
    }
    RS_REQUIRE_OK(store.RecordResult(*burn, {StepStatus::kSucceeded, "", "", std::nullopt}));
    RS_REQUIRE_OK(store.SetNodeState(node, NodeState::kActive, "", *run));
  }
  RS_REQUIRE_OK(store.SetNodeState("gpu-r02-n01", NodeState::kActive, "", 0));
  RS_REQUIRE_OK(store.SetNodeState("gpu-r02-n02", NodeState::kActive, "", 0));
}

struct ClusterFixture {
  TempDir dir;
  std::string path = dir.Join("state/state.db");
  FakeClock clock;

  ClusterFixture() {
    auto store = MustOpen(path, clock);
    FillCluster(*store, clock);
  }

  std::string Stable(const std::string& text) const { return ReplaceAll(text, path, "STATE"); }
};

TEST_CASE("status groups nodes by lifecycle state under compressed hostlists", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "status"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(MatchesGolden("state/status.txt", f.Stable(r.out)));
}

TEST_CASE("status with a hostlist shows only those nodes and names the unknown ones", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "status", "gpu-r01-n[10-13]"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(MatchesGolden("state/status_selection.txt", f.Stable(r.out)));
}

TEST_CASE("status --json lists counts, nodes with components and last step", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "status", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["exists"] == true);
  CHECK(j["schema_version"] == LatestSchemaVersion());
  CHECK(j["counts"]["active"] == 10);
  CHECK(j["counts"]["provisioning"] == 2);
  CHECK(j["counts"]["failed"] == 1);
  CHECK(j["counts"]["new"] == 1);
  CHECK(j["counts"]["retired"] == 0);
  REQUIRE(j["nodes"].size() == 14);
  const nlohmann::json& n11 = j["nodes"][10];
  CHECK(n11["name"] == "gpu-r01-n11");
  CHECK(n11["state"] == "failed");
  CHECK(n11["reason"] == "GPU 3 fell off the bus");
  CHECK(n11["last_step"]["kind"] == "burnin");
  CHECK(n11["last_step"]["status"] == "failed");
  CHECK(j["nodes"][11]["last_step"].is_null());
  CHECK(j["lock"].is_null());
}

TEST_CASE("status of a missing store says so, exits 0 and creates nothing", "[state]") {
  TempDir dir;
  std::string path = dir.Join("none/state.db");
  auto r = RunCli({"--state", path, "status"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "no state database at " + path +
                     ": nothing has been applied yet (use --state or $RACKSMITH_STATE to point "
                     "at another)\n");
  struct stat st {};
  CHECK(stat(dir.Join("none").c_str(), &st) != 0);
  auto j = RunCli({"--state", path, "status", "--json"});
  REQUIRE(j.exit_code == 0);
  CHECK(nlohmann::json::parse(j.out)["exists"] == false);
}

TEST_CASE("status of an empty store says there are no nodes yet", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  { auto store = MustOpen(path, clock); }
  auto r = RunCli({"--state", path, "status"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "state: " + path + "\nno nodes yet: nothing has been applied\n");
}

TEST_CASE("status shows who holds the apply lock", "[state]") {
  ClusterFixture f;
  FakeClock clock;
  auto store = MustOpen(f.path, clock);
  REQUIRE(store->AcquireLock("racksmith apply @rack:r01").ok());
  auto r = RunCli({"--state", f.path, "status"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("apply lock: held by 'racksmith apply @rack:r01' (pid "));
  CHECK_THAT(r.out, !Catch::Contains("stale"));
}

TEST_CASE("status marks a lock left by a dead process as stale", "[state]") {
  ClusterFixture f;
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    SystemClock clock;
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(f.path, clock);
    _exit(store.ok() && (*store)->AcquireLock("racksmith apply").ok() ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WEXITSTATUS(status) == 0);
  auto r = RunCli({"--state", f.path, "status"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(fmt::format("(pid {} on host ", child)));
  CHECK_THAT(r.out,
             Catch::Contains("(stale: that process is gone; the next apply takes the lock over)"));
  auto j = RunCli({"--state", f.path, "status", "--json"});
  CHECK(nlohmann::json::parse(j.out)["lock"]["stale"] == true);
}

TEST_CASE("status with a malformed selection exits 2 with the hostlist error", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "status", "gpu[01-"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("racksmith status: selection 'gpu[01-': "));
}

TEST_CASE("status of a store from a newer racksmith is refused with exit 3", "[state]") {
  TempDir dir;
  std::string path = dir.Join("state.db");
  FakeClock clock;
  { auto store = MustOpen(path, clock); }
  REQUIRE(RunCli({"--state", path, "status"}).exit_code == 0);  // opens fine until...
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 'future', 0)", nullptr, nullptr,
                     nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto r = RunCli({"--state", path, "status"});
  CHECK(r.exit_code == 3);
  CHECK(r.err == "racksmith status: " + path +
                     " is schema version 99, this racksmith knows up to " +
                     std::to_string(LatestSchemaVersion()) + "; upgrade racksmith\n");
}

TEST_CASE("history lists every step of a node oldest first", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "history", "gpu-r01-n11"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(MatchesGolden("state/history.txt", f.Stable(r.out)));
}

TEST_CASE("history --json gives steps with their intent as JSON", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "history", "gpu-r01-n01", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["node"] == "gpu-r01-n01");
  CHECK(j["state"] == "active");
  REQUIRE(j["steps"].size() == 2);
  CHECK(j["steps"][0]["kind"] == "image");
  CHECK(j["steps"][0]["intent"]["image"] == "u22");
  CHECK(j["steps"][1]["kind"] == "burnin");
  CHECK(j["steps"][1]["status"] == "succeeded");
}

TEST_CASE("history of an unknown node or a missing store exits 2 naming it", "[state]") {
  ClusterFixture f;
  auto r = RunCli({"--state", f.path, "history", "ghost"});
  CHECK(r.exit_code == 2);
  CHECK(f.Stable(r.err) == "racksmith history: STATE: no node 'ghost' in the state store\n");
  TempDir dir;
  auto missing = RunCli({"--state", dir.Join("x.db"), "history", "n1"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == "racksmith history: no state database at " + dir.Join("x.db") + "\n");
}

}  // namespace
}  // namespace racksmith::state
