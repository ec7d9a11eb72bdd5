// `racksmith template render --node NODE` through the real binary: the node's full inventory
// context is `node`, its name `inventory_hostname`; --set applies on top.
#include <catch2/catch.hpp>
#include <fstream>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::cli {
namespace {

using racksmith::testing::RunCli;
using racksmith::testing::TempDir;

struct Site {
  TempDir dir;
  std::string inventory = dir.Join("inventory.yaml");

  Site() {
    std::ofstream(inventory)
        << "site: dc1\n"
           "defaults:\n"
           "  bmc: {username: admin, password: {env: BMC_PASSWORD}}\n"
           "profiles:\n"
           "  a100:\n"
           "    hardware: {gpus: {model: \"NVIDIA A100-SXM4-80GB\", count: 8}}\n"
           "    software: {cuda: \"12.4\"}\n"
           "    slurm: {partitions: [gpu], features: [a100]}\n"
           "racks:\n"
           "  - name: r01\n"
           "    nodes:\n"
           "      - {name: \"gpu-n[01-02]\", profile: a100, ip: \"10.0.0.[1-2]\", "
           "bmc: \"10.1.0.[1-2]\", vars: {role: compute}}\n";
  }
  std::string Template(const std::string& text) const { return dir.Write("t.j2", text); }
};

TEST_CASE("template render --node gives the template the node's inventory context",
          "[cli][template]") {
  Site s;
  std::string t = s.Template(
      "{{ inventory_hostname }} {{ node.ip }} {{ node.rack.name }} {{ node.site }}\n"
      "NodeName={{ node.name }} Gres=gpu:{{ node.hardware.gpus.count }} "
      "Feature={{ node.slurm.features | join(',') }} cuda={{ node.software.cuda }} "
      "role={{ node.vars.role }}\n");
  auto r = RunCli({"-i", s.inventory, "template", "render", t, "--node", "gpu-n02"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "gpu-n02 10.0.0.2 r01 dc1\n"
        "NodeName=gpu-n02 Gres=gpu:8 Feature=a100 cuda=12.4 role=compute\n");
}

TEST_CASE("template render --node shows secrets as references, never values", "[cli][template]") {
  Site s;
  std::string t = s.Template("{{ node.bmc.password }}\n");
  racksmith::testing::CliOptions opt;
  opt.env["BMC_PASSWORD"] = "hunter2-secret";
  auto r = RunCli({"-i", s.inventory, "template", "render", t, "--node", "gpu-n01"}, opt);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{env: BMC_PASSWORD}\n");
  CHECK(r.out.find("hunter2") == std::string::npos);
}

TEST_CASE("template render --node also gives every node as nodes and the site", "[cli][template]") {
  Site s;
  std::string t = s.Template(
      "{{ site }}: {{ nodes | map(attribute='name') | list | hostlist }} "
      "{{ nodes | map(attribute='ip') | join(',') }}\n");
  auto r = RunCli({"-i", s.inventory, "template", "render", t, "--node", "gpu-n01"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "dc1: gpu-n[01-02] 10.0.0.1,10.0.0.2\n");
}

TEST_CASE("template render --set overrides the node's context", "[cli][template]") {
  Site s;
  std::string t = s.Template("{{ inventory_hostname }} {{ extra }}\n");
  auto r = RunCli({"-i", s.inventory, "template", "render", t, "--node", "gpu-n01", "--set",
                   "inventory_hostname=other", "--set", "extra=3"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "other 3\n");
}

TEST_CASE("template render --node with an unknown node exits 2 naming it", "[cli][template]") {
  Site s;
  std::string t = s.Template("x\n");
  auto r = RunCli({"-i", s.inventory, "template", "render", t, "--node", "gpu-n99"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("gpu-n99"));
  auto n = RunCli({"-i", s.dir.Join("none.yaml"), "template", "render", t, "--node", "gpu-n01"});
  CHECK(n.exit_code == 2);
  CHECK_THAT(n.err, Catch::Contains("--node needs the inventory"));
}

}  // namespace
}  // namespace racksmith::cli
