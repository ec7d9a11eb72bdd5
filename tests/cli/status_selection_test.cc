// `racksmith status SELECTION` through the real binary: plain hostlists need no inventory;
// selectors are applied to the inventory given with -i.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "state/store.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::cli {
namespace {

using racksmith::testing::RunCli;
using racksmith::testing::TempDir;

// An inventory of two racks, and a store that knows three of its nodes and one node the
// inventory no longer lists.
struct Cluster {
  TempDir dir;
  std::string inventory = dir.Join("inventory.yaml");
  std::string state = dir.Join("state.db");

  Cluster() {
    std::ofstream(inventory) << "site: test\n"
                                "profiles:\n"
                                "  small: {}\n"
                                "  big: {}\n"
                                "racks:\n"
                                "  - name: r01\n"
                                "    nodes:\n"
                                "      - {name: \"gpu-n[01-02]\", profile: small, "
                                "ip: \"10.0.0.[1-2]\"}\n"
                                "  - name: r02\n"
                                "    nodes:\n"
                                "      - {name: gpu-n03, profile: big, ip: 10.0.0.3, "
                                "state: maintenance}\n"
                                "      - {name: gpu-n04, profile: big, ip: 10.0.0.4}\n";
    SystemClock clock;
    auto store = state::OpenSqliteStore(state, clock);
    REQUIRE(store.ok());
    REQUIRE((*store)
                ->EnsureNodes({"gpu-n01", "gpu-n02", "gpu-n03", "old-n01"}, state::NodeState::kNew)
                .ok());
    REQUIRE((*store)->SetNodeState("gpu-n03", state::NodeState::kMaintenance, "fan", 0).ok());
  }

  std::vector<std::string> Names(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"--state", state, "-i", inventory, "status", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCli(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> names;
    auto j = nlohmann::json::parse(r.out);
    for (const auto& n : j["nodes"]) names.push_back(n["name"]);
    for (const auto& n : j["not_in_store"]) names.push_back("missing:" + n.get<std::string>());
    return names;
  }
};

TEST_CASE("status applies rack and profile selectors to the inventory", "[cli][status]") {
  Cluster c;
  CHECK(c.Names({"@rack:r01"}) == std::vector<std::string>{"gpu-n01", "gpu-n02"});
  CHECK(c.Names({"@profile:big"}) == std::vector<std::string>{"gpu-n03", "missing:gpu-n04"});
}

TEST_CASE("status applies state selectors and exclusions", "[cli][status]") {
  Cluster c;
  CHECK(c.Names({"@state:maintenance"}) == std::vector<std::string>{"gpu-n03"});
  CHECK(c.Names({"all,!gpu-n02"}) ==
        std::vector<std::string>{"gpu-n01", "gpu-n03", "missing:gpu-n04"});
  CHECK(c.Names({"!@rack:r02"}) == std::vector<std::string>{"gpu-n01", "gpu-n02"});
}

TEST_CASE("status with a plain hostlist shows nodes the inventory no longer lists",
          "[cli][status]") {
  Cluster c;
  CHECK(c.Names({"old-n01,gpu-n01"}) == std::vector<std::string>{"gpu-n01", "old-n01"});
  // No inventory at all: a plain hostlist still works.
  auto r = RunCli({"--state", c.state, "-i", c.dir.Join("nowhere"), "status", "old-n01"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("old-n01"));
}

TEST_CASE("status refuses selectors without an inventory and unknown racks", "[cli][status]") {
  Cluster c;
  auto r = RunCli({"--state", c.state, "-i", c.dir.Join("nowhere"), "status", "@rack:r01"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("selectors need the inventory"));
  auto u = RunCli({"--state", c.state, "-i", c.inventory, "status", "@rack:r77"});
  CHECK(u.exit_code == 2);
  CHECK_THAT(u.err, Catch::Contains("r77"));
}

}  // namespace
}  // namespace racksmith::cli
