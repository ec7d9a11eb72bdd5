// The `validate` and `inventory` commands through the real binary: output (golden files), exit
// codes, --help, and every inventory shipped under inventory/.
// Regenerate goldens: RACKSMITH_UPDATE_GOLDEN=1 build/racksmith_tests_inventory
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "inventory/inventory.h"
#include "support/cli_runner.h"
#include "support/golden.h"

namespace racksmith::inventory {
namespace {

using testing::CliOptions;
using testing::CliResult;
using testing::MatchesGolden;
using testing::RunCli;
using testing::SourcePath;

constexpr const char* kErrors = "tests/inventory/data/several-errors.yaml";
constexpr const char* kSmall = "tests/inventory/data/small.yaml";

// Runs from the source root so that paths in the output are relative and stable.
CliResult Run(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  CliOptions options;
  options.cwd = SourcePath("");
  options.env = std::move(env);
  options.env.emplace("NO_COLOR", "1");  // not operator=: GCC 12 -O2 warns falsely (-Wrestrict)
  return RunCli(args, options);
}

TEST_CASE("validate reports every error of a file with its line and exits 2", "[inventory]") {
  CliResult r = Run({"validate", kErrors});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(MatchesGolden("inventory/validate_errors.txt", r.err));
  CHECK(r.err.find("hunter2") == std::string::npos);
}

TEST_CASE("validate of a valid inventory prints a summary and exits 0", "[inventory]") {
  CliResult r = Run({"validate", kSmall});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(MatchesGolden("inventory/validate_ok.txt", r.out));
}

TEST_CASE("validate uses -i when no path is given", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "validate"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("4 nodes in 2 racks, 2 profiles") != std::string::npos);
  CliResult missing = Run({"validate", "tests/inventory/data/no-such.yaml"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("found nothing at this path") != std::string::npos);
}

TEST_CASE("inventory list prints the resolved nodes as a table", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "inventory", "list"});
  CHECK(r.exit_code == 0);
  CHECK(MatchesGolden("inventory/list.txt", r.out));
}

TEST_CASE("inventory list takes a selection", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "inventory", "list", "@profile:gpu,!gpu02"});
  CHECK(r.exit_code == 0);
  CHECK(MatchesGolden("inventory/list_selection.txt", r.out));
  CliResult bad = Run({"-i", kSmall, "inventory", "list", "@rack:r09"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("unknown rack 'r09'") != std::string::npos);
}

TEST_CASE("inventory list --json shows secrets as references, never values", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "inventory", "list", "--json"},
                    {{"GOLDEN_BMC_PASSWORD", "do-not-print-me"}});
  CHECK(r.exit_code == 0);
  CHECK(MatchesGolden("inventory/list.json", r.out));
  CHECK(r.out.find("do-not-print-me") == std::string::npos);
  nlohmann::json j = nlohmann::json::parse(r.out);
  REQUIRE(j.size() == 4);
  CHECK(r.out == j.dump(2) + "\n");  // streamed node by node, laid out as one array
  CHECK(j[0]["bmc"]["password"] == "{env: GOLDEN_BMC_PASSWORD}");
  CHECK(j[0]["ssh"]["key"] == "{file: /etc/racksmith/ssh_key}");
  CHECK(j[3]["software"]["cuda"] == "12.6");
}

TEST_CASE("inventory show prints every value with the line that set it", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "inventory", "show", "big01"},
                    {{"GOLDEN_BMC_PASSWORD", "do-not-print-me"}});
  CHECK(r.exit_code == 0);
  CHECK(MatchesGolden("inventory/show.txt", r.out));
  CHECK(r.out.find("do-not-print-me") == std::string::npos);
  CHECK(r.out.find("software.cuda") != std::string::npos);
}

TEST_CASE("inventory show --json gives the node and the origin of each value", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "inventory", "show", "gpu02", "--json"});
  CHECK(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["node"]["ip"] == "10.0.2.2");
  CHECK(j["origins"]["ip"] == "tests/inventory/data/small.yaml:34:13");
  CHECK(j["origins"]["software.cuda"] == "tests/inventory/data/small.yaml:8:49");
  CHECK(j["origins"]["site"] == "tests/inventory/data/small.yaml:2:7");
}

TEST_CASE("inventory show of an unknown node exits 2 naming it", "[inventory]") {
  CliResult r = Run({"-i", kSmall, "inventory", "show", "gpu04"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown node 'gpu04'") != std::string::npos);
}

TEST_CASE("inventory commands on an invalid inventory exit 2", "[inventory]") {
  CliResult r = Run({"-i", kErrors, "inventory", "list"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("run `racksmith validate` for details") != std::string::npos);
}

TEST_CASE("Help works on validate and every inventory command", "[inventory]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"validate", "--help"},
                                               {"inventory", "--help"},
                                               {"inventory", "list", "--help"},
                                               {"inventory", "show", "--help"}}) {
    CliResult r = Run(args);
    INFO(args[0] << " " << args[1]);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage") != std::string::npos);
  }
  CHECK(Run({"inventory", "list", "--bogus"}).exit_code == 2);
  CHECK(Run({"inventory"}).exit_code == 2);
}

TEST_CASE("Every inventory shipped under inventory/ validates", "[inventory]") {
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourcePath("inventory"))) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    std::string rel = std::filesystem::relative(e.path(), SourcePath("")).string();
    CliResult r = Run({"validate", rel});
    INFO(rel << "\n" << r.err);
    CHECK(r.exit_code == 0);
  }
  CHECK(files >= 5);
}

int TotalGpus(const Inventory& inv) {
  int n = 0;
  for (const Node& node : inv.nodes) n += node.hardware.gpus.count;
  return n;
}

Inventory LoadExample(const std::string& name) {
  LoadOutcome out = LoadInventoryAll(SourcePath("inventory/examples/" + name));
  for (const Error& e : out.errors) UNSCOPED_INFO(e.ToString());
  REQUIRE(out.ok());
  return std::move(out.inventory);
}

TEST_CASE("The hospital example has 30 nodes, 80 mixed GPUs and NFS storage", "[inventory]") {
  Inventory inv = LoadExample("hospital-30node.yaml");
  CHECK(inv.nodes.size() == 30);
  CHECK(TotalGpus(inv) == 80);
  std::set<std::string> models;
  for (const Node& n : inv.nodes) {
    if (!n.hardware.gpus.model.empty()) models.insert(n.hardware.gpus.model);
  }
  CHECK(models ==
        std::set<std::string>{"NVIDIA GeForce GTX 1080 Ti", "NVIDIA GeForce RTX 2080 Ti"});
  REQUIRE(inv.mounts.count("projects") == 1);
  CHECK(inv.mounts.at("projects").type == MountType::kNfs);
  CHECK(inv.FindNode("gpu-a01")->vars["monitoring"]["prometheus"] == true);
}

TEST_CASE("The DGX-1 example has 53 nodes of 8 V100 on GPFS", "[inventory]") {
  Inventory inv = LoadExample("dgx1-53.yaml");
  CHECK(inv.nodes.size() == 53);
  CHECK(TotalGpus(inv) == 53 * 8);
  for (const Node& n : inv.nodes) {
    CHECK(n.hardware.gpus.model == "Tesla V100-SXM2-32GB");
    CHECK(n.mounts[0].type == MountType::kGpfs);
  }
}

TEST_CASE("The workstation example is one node with 2 RTX 3090", "[inventory]") {
  Inventory inv = LoadExample("workstation.yaml");
  REQUIRE(inv.nodes.size() == 1);
  CHECK(inv.nodes[0].hardware.gpus.count == 2);
  CHECK(inv.nodes[0].hardware.gpus.model == "NVIDIA GeForce RTX 3090");
}

TEST_CASE("The Lustre example has 4 nodes of 4 V100 on Lustre", "[inventory]") {
  Inventory inv = LoadExample("lustre-4x4v100.yaml");
  CHECK(inv.nodes.size() == 4);
  CHECK(TotalGpus(inv) == 16);
  CHECK(inv.nodes[0].mounts[0].type == MountType::kLustre);
}

}  // namespace
}  // namespace racksmith::inventory
