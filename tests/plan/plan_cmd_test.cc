// `racksmith plan` end to end through the real binary, on the lab inventory, with no state
// store and with a store this test fills through the Store API.
// Regenerate the golden files: RACKSMITH_UPDATE_GOLDEN=1 build/racksmith_tests "[plan][cli]"
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "plan_test_util.h"
#include "support/cli_runner.h"
#include "support/golden.h"
#include "support/temp_dir.h"

namespace racksmith::plan {
namespace {

using racksmith::testing::CliResult;
using racksmith::testing::MatchesGolden;
using racksmith::testing::ReplaceAll;
using racksmith::testing::RunCli;
using racksmith::testing::SourcePath;
using racksmith::testing::TempDir;

// Runs from the source tree so that origins read "inventory/lab.yaml:17".
CliResult Plan(const std::string& state, std::vector<std::string> args) {
  std::vector<std::string> argv = {"-i", "inventory/lab.yaml", "--state", state, "plan"};
  argv.insert(argv.end(), args.begin(), args.end());
  racksmith::testing::CliOptions options;
  options.cwd = SourcePath("");
  return RunCli(argv, options);
}

// The lab as it was last applied, then drifted: lab-n[01-04] still have the old driver,
// lab-n05 is in maintenance, lab-n06 failed burn-in, lab-n10's BMC reports 7 GPUs, lab-n11
// was never provisioned, lab-n12 has lost its mounts record, and the store still knows a
// node the inventory no longer names.
void SeedLab(const std::string& path) {
  FakeClock clock;
  Result<std::unique_ptr<state::Store>> opened = state::OpenSqliteStore(path, clock);
  REQUIRE(opened.ok());
  state::Store& store = **opened;
  Result<inventory::Inventory> lab = inventory::LoadInventory(SourcePath("inventory/lab.yaml"));
  REQUIRE(lab.ok());
  testing::SeedConverged(store, *lab);
  PLAN_REQUIRE_OK(store.EnsureNodes({"lab-n99"}, state::NodeState::kActive));
  for (const char* n : {"lab-n01", "lab-n02", "lab-n03", "lab-n04"}) {
    PLAN_REQUIRE_OK(store.RecordComponents(
        {{n, "nvidia_driver", "550.54.15", Sha256Hex("an older driver"), 0, 0}}));
  }
  PLAN_REQUIRE_OK(store.SetNodeState("lab-n05", state::NodeState::kMaintenance, "", 0));
  PLAN_REQUIRE_OK(
      store.SetNodeState("lab-n06", state::NodeState::kFailed, "burn-in: GPU 2 over 90 C", 0));
  DiscoveredHardware seven = testing::MatchingHardware(*lab->FindNode("lab-n10"));
  seven.gpu_models.pop_back();
  PLAN_REQUIRE_OK(store.RecordBmcFacts("lab-n10", testing::FactsJson(seven)));
  PLAN_REQUIRE_OK(store.SetNodeState("lab-n11", state::NodeState::kNew, "", 0));
  PLAN_REQUIRE_OK(store.ForgetComponent("lab-n12", "mounts"));
}

TEST_CASE("plan with no state store adds every lab node and creates no store", "[plan][cli]") {
  TempDir dir;
  std::string state = dir.Join("none/state.db");
  CliResult r = Plan(state, {});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(MatchesGolden("plan/empty.txt", ReplaceAll(r.out, state, "STATE")));
  struct stat st {};
  CHECK(stat(dir.Join("none").c_str(), &st) != 0);
}

TEST_CASE("plan against a drifted lab store shows each change with its reason", "[plan][cli]") {
  TempDir dir;
  std::string state = dir.Join("state.db");
  SeedLab(state);
  CliResult r = Plan(state, {"--max-unavailable-rack", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(MatchesGolden("plan/seeded.txt", ReplaceAll(r.out, state, "STATE")));
}

TEST_CASE("plan --json against a drifted lab store follows the documented schema",
          "[plan][cli]") {
  TempDir dir;
  std::string state = dir.Join("state.db");
  SeedLab(state);
  CliResult r = Plan(state, {"--json", "--max-unavailable-rack", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(MatchesGolden("plan/seeded.json", ReplaceAll(r.out, state, "STATE")));
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == 1);
  CHECK(j["summary"]["change"] == 7);
  CHECK(j["summary"]["quarantine"] == 1);
  CHECK(j["summary"]["held"] == 1);
  CHECK(j["unknown_nodes"] == nlohmann::json::array({"lab-n99"}));
  // Same input, same bytes.
  CHECK(Plan(state, {"--json", "--max-unavailable-rack", "4"}).out == r.out);
}

TEST_CASE("plan with a selection plans only those nodes", "[plan][cli]") {
  TempDir dir;
  std::string state = dir.Join("state.db");
  SeedLab(state);
  CliResult r = Plan(state, {"@rack:lab-r02", "--json"});
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const nlohmann::json& n : j["nodes"]) CHECK(n["rack"] == "lab-r02");
  CHECK(j["summary"]["quarantine"] == 1);
  CHECK(j["summary"]["change"] == 2);
  CHECK(j["summary"]["add"] == 1);
}

TEST_CASE("plan refuses a bad selection or limit with exit code 2", "[plan][cli]") {
  TempDir dir;
  CliResult bad_limit = Plan(dir.Join("s.db"), {"--max-unavailable-rack", "lots"});
  CHECK(bad_limit.exit_code == 2);
  CHECK(bad_limit.err.find("expected a count of nodes") != std::string::npos);
  CliResult bad_sel = Plan(dir.Join("s.db"), {"nosuch-n[1-2]"});
  CHECK(bad_sel.exit_code == 2);
}

}  // namespace
}  // namespace racksmith::plan
