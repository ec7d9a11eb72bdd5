// Loading and resolving: inheritance, merging, hostlist zipping, origins, directories.
#include <catch2/catch.hpp>

#include "inventory/inventory.h"
#include "support/temp_dir.h"

namespace racksmith::inventory {
namespace {

const char* kBase = R"(site: t
defaults:
  bmc: {username: admin, password: {env: BMC_PW}}
  ssh: {user: ops, key: ~/.ssh/k}
  software: {nvidia_driver: "550.54.15", cuda: "12.4"}
  vars: {a: {x: 1, y: 2}, list: [1, 2]}
profiles:
  base:
    hardware: {gpus: {model: "Tesla V100-SXM2-32GB", count: 8}, memory_gib: 512}
    slurm: {partition: gpu, features: [v100]}
    mounts: [data]
  big:
    extends: base
    software: {cuda: "12.6"}
    hardware: {memory_gib: 1024}
    vars: {a: {y: 3}, list: [9]}
mounts:
  data: {type: gpfs, source: gpfs0, target: /data}
racks:
  - name: r01
    nodes:
      - {name: "n[01-04]", profile: big, bmc: "10.1.0.[11-14]", ip: "10.2.0.[11-14]", unit: 1, height: 2}
      - {name: n05, profile: base, bmc: 10.1.0.15, ip: 10.2.0.15, software: {cuda: "11.8"}, state: retired, reason: old}
)";

Inventory MustLoad(const std::string& text) {
  LoadOutcome out = LoadInventoryFromStringAll(text, "t.yaml");
  for (const Error& e : out.errors) UNSCOPED_INFO(e.ToString());
  REQUIRE(out.ok());
  return std::move(out.inventory);
}

TEST_CASE("A hostlist entry expands names and zips addresses in step", "[inventory]") {
  Inventory inv = MustLoad(kBase);
  REQUIRE(inv.nodes.size() == 5);
  CHECK(inv.nodes[0].name == "n01");
  CHECK(inv.nodes[3].name == "n04");
  CHECK(inv.nodes[3].bmc.address == "10.1.0.14");
  CHECK(inv.nodes[3].ip == "10.2.0.14");
  CHECK(inv.nodes[2].unit == 5);
  CHECK(inv.nodes[2].height == 2);
  CHECK(inv.nodes[2].position == 3);
  CHECK(inv.racks[0].nodes.size() == 5);
}

TEST_CASE("A profile inherits from the profile it extends and from defaults", "[inventory]") {
  Inventory inv = MustLoad(kBase);
  const Node& n = inv.nodes[0];
  CHECK(n.profile == "big");
  CHECK(n.hardware.gpus.model == "Tesla V100-SXM2-32GB");
  CHECK(n.hardware.gpus.count == 8);
  CHECK(n.hardware.memory_gib == 1024);
  CHECK(n.software.at("cuda") == "12.6");
  CHECK(n.software.at("nvidia_driver") == "550.54.15");
  CHECK(n.slurm.partitions == std::vector<std::string>{"gpu"});
  CHECK(n.ssh.user == "ops");
  CHECK(n.bmc.password.ToString() == "{env: BMC_PW}");
  REQUIRE(n.mounts.size() == 1);
  CHECK(n.mounts[0].type == MountType::kGpfs);
  CHECK(n.mounts[0].target == "/data");
}

TEST_CASE("Maps merge deeply while scalars and lists replace", "[inventory]") {
  Inventory inv = MustLoad(kBase);
  const Node& n = inv.nodes[0];
  CHECK(n.vars["a"]["x"] == 1);
  CHECK(n.vars["a"]["y"] == 3);
  CHECK(n.vars["list"] == nlohmann::json::array({9}));
}

TEST_CASE("A node entry's value beats its profile's", "[inventory]") {
  Inventory inv = MustLoad(kBase);
  const Node& n = *inv.FindNode("n05");
  CHECK(n.software.at("cuda") == "11.8");
  CHECK(n.state == NodeState::kRetired);
  CHECK(n.reason == "old");
  CHECK(n.hardware.memory_gib == 512);
}

TEST_CASE("Every resolved value knows the line that set it", "[inventory]") {
  Inventory inv = MustLoad(kBase);
  const Node& n = *inv.FindNode("n02");
  REQUIRE(n.OriginOf("software.cuda") != nullptr);
  CHECK(n.OriginOf("software.cuda")->ToString() == "t.yaml:14:22");
  CHECK(n.OriginOf("software.nvidia_driver")->line == 5);
  CHECK(n.OriginOf("hardware.gpus.count")->line == 9);
  CHECK(n.OriginOf("ip")->line == 22);
  CHECK(n.OriginOf("vars.a.x")->line == 6);
  CHECK(n.OriginOf("image") == nullptr);
  const Node& m = *inv.FindNode("n05");
  CHECK(m.OriginOf("software.cuda")->line == 23);
  CHECK(m.AllOrigins().count("software.cuda") == 1);
}

TEST_CASE("Null in a node entry resets a value to its built-in default", "[inventory]") {
  std::string text = kBase;
  text += "      - {name: n06, profile: base, ip: 10.2.0.16, hardware: {memory_gib: ~}}\n";
  Inventory inv = MustLoad(text);
  const Node& n = *inv.FindNode("n06");
  CHECK(n.hardware.memory_gib == 0);
  CHECK(n.hardware.gpus.count == 8);
  CHECK(n.bmc.address.empty());
}

TEST_CASE("A directory of yaml files is merged in file-name order", "[inventory]") {
  testing::TempDir dir;
  dir.Write("00-site.yaml", "site: d\ndefaults: {ssh: {user: admin}}\n");
  dir.Write("10-profiles.yaml", "profiles:\n  p: {image: img}\n");
  dir.Write("20-r1.yaml",
            "racks:\n  - {name: r1, nodes: [{name: a1, profile: p, ip: 10.0.0.1}]}\n");
  dir.Write("30-r2.yml", "racks:\n  - {name: r2, nodes: [{name: a2, profile: p, ip: 10.0.0.2}]}\n");
  dir.Write("notes.txt", "not yaml: [");
  LoadOutcome out = LoadInventoryAll(dir.path());
  for (const Error& e : out.errors) UNSCOPED_INFO(e.ToString());
  REQUIRE(out.ok());
  CHECK(out.inventory.files.size() == 4);
  REQUIRE(out.inventory.nodes.size() == 2);
  CHECK(out.inventory.nodes[1].name == "a2");
  CHECK(out.inventory.nodes[1].ssh.user == "admin");
  CHECK(out.inventory.nodes[1].image == "img");
}

TEST_CASE("The node context holds references to secrets, never their values", "[inventory]") {
  Inventory inv = MustLoad(kBase);
  setenv("BMC_PW", "s3cret-value", 1);
  nlohmann::json j = NodeContext(inv, inv.nodes[0]);
  CHECK(j["bmc"]["password"] == "{env: BMC_PW}");
  CHECK(j["software"]["cuda"] == "12.6");
  CHECK(j["rack"]["name"] == "r01");
  CHECK(j.dump().find("s3cret-value") == std::string::npos);
  unsetenv("BMC_PW");
}

TEST_CASE("ResolveSecret reads an environment variable or a file at the last moment",
          "[inventory]") {
  testing::TempDir dir;
  SecretRef file{SecretRef::Kind::kFile, dir.Write("pw", "from-file\n")};
  Result<std::string> v = ResolveSecret(file);
  REQUIRE(v.ok());
  CHECK(*v == "from-file");
  setenv("RS_TEST_SECRET", "from-env", 1);
  CHECK(*ResolveSecret(SecretRef{SecretRef::Kind::kEnv, "RS_TEST_SECRET"}) == "from-env");
  unsetenv("RS_TEST_SECRET");
  Result<std::string> missing = ResolveSecret(SecretRef{SecretRef::Kind::kEnv, "RS_TEST_SECRET"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("RS_TEST_SECRET") != std::string::npos);
}

TEST_CASE("GPU models are known by nvidia-smi's name or a short alias", "[inventory]") {
  std::string c;
  CHECK(CanonicalGpuModel("NVIDIA A100-SXM4-80GB", &c));
  CHECK(CanonicalGpuModel("V100-SXM2-32GB", &c));
  CHECK(c == "Tesla V100-SXM2-32GB");
  CHECK(CanonicalGpuModel("RTX 3090", &c));
  CHECK(c == "NVIDIA GeForce RTX 3090");
  CHECK(CanonicalGpuModel("GeForce GTX 1070 Ti", &c));
  CHECK(c == "NVIDIA GeForce GTX 1070 Ti");
  CHECK_FALSE(CanonicalGpuModel("NVIDIA RTX 9999", &c));
}

TEST_CASE("BaseUrl adds https and the port unless the address has them", "[inventory]") {
  BmcConfig b;
  b.address = "10.0.0.1";
  CHECK(b.BaseUrl() == "https://10.0.0.1");
  b.port = 8443;
  CHECK(b.BaseUrl() == "https://10.0.0.1:8443");
  b.address = "http://127.0.1.1:8000";
  CHECK(b.BaseUrl() == "http://127.0.1.1:8000");
}

}  // namespace
}  // namespace racksmith::inventory
