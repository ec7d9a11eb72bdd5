// The inventory's features, one behaviour per case: site and defaults, profiles, racks,
// hostlist zipping, overrides, state, hardware, versions, Slurm, mounts, burn-in.
#include <catch2/catch.hpp>
#include <string>

#include "inventory/inventory.h"

namespace racksmith::inventory {
namespace {

Inventory MustLoad(const std::string& text) {
  LoadOutcome out = LoadInventoryFromStringAll(text, "f.yaml");
  for (const Error& e : out.errors) UNSCOPED_INFO(e.ToString());
  REQUIRE(out.ok());
  return std::move(out.inventory);
}

TEST_CASE("Site and defaults apply to every node", "[inventory]") {
  Inventory inv = MustLoad(R"(site: dc1
defaults:
  image: img-1
  ssh: {user: ops, port: 2222, agent: true}
  bmc: {driver: redfish, username: root, password: {env: PW}, port: 8443, auth: basic}
racks: [{name: r, nodes: [{name: "n[1-2]", ip: "10.0.0.[1-2]", bmc: "10.9.0.[1-2]"}]}]
)");
  CHECK(inv.site == "dc1");
  CHECK(inv.site_where.ToString() == "f.yaml:1:7");
  for (const Node& n : inv.nodes) {
    CHECK(n.image == "img-1");
    CHECK(n.ssh.user == "ops");
    CHECK(n.ssh.port == 2222);
    CHECK(n.ssh.agent);
    CHECK(n.bmc.auth == BmcAuth::kBasic);
    CHECK(n.bmc.BaseUrl() == "https://" + n.bmc.address + ":8443");
    CHECK(n.state == NodeState::kActive);
  }
}

TEST_CASE("Built-in defaults hold where nothing is set", "[inventory]") {
  Inventory inv = MustLoad("site: s\nracks: [{name: r, nodes: [{name: n, ip: 10.0.0.1}]}]\n");
  const Node& n = inv.nodes[0];
  CHECK(n.ssh.user == "root");
  CHECK(n.ssh.port == 22);
  CHECK(n.bmc.driver == BmcDriver::kRedfish);
  CHECK(n.bmc.tls.verify);
  CHECK(n.height == 1);
  CHECK(n.unit == 0);
  CHECK(n.profile.empty());
  CHECK(inv.racks[0].height == 42);
  CHECK(n.OriginOf("ssh.user") == nullptr);
}

TEST_CASE("Profiles extend over several levels, nearest level winning", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults: {software: {cuda: "11.0", slurm: "23.02"}, image: base-img}
profiles:
  a: {software: {cuda: "11.8", nccl: "2.18"}, hardware: {memory_gib: 128}}
  b: {extends: a, software: {cuda: "12.2"}, hardware: {cpus: 64}}
  c: {extends: b, image: c-img, description: third level}
racks: [{name: r, nodes: [{name: n, profile: c, ip: 10.0.0.1}]}]
)");
  const Node& n = inv.nodes[0];
  CHECK(n.software.at("cuda") == "12.2");
  CHECK(n.software.at("nccl") == "2.18");
  CHECK(n.software.at("slurm") == "23.02");
  CHECK(n.hardware.memory_gib == 128);
  CHECK(n.hardware.cpus == 64);
  CHECK(n.image == "c-img");
  CHECK(n.OriginOf("software.cuda")->line == 5);
  CHECK(n.OriginOf("software.nccl")->line == 4);
  CHECK(n.OriginOf("software.slurm")->line == 2);
  const Profile* c = inv.FindProfile("c");
  REQUIRE(c != nullptr);
  CHECK(c->extends == "b");
  CHECK(c->description == "third level");
}

TEST_CASE("A rack's profile applies to its entries unless an entry names its own", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
profiles: {p: {image: p-img}, q: {image: q-img}}
racks:
  - name: r
    profile: p
    nodes:
      - {name: a, ip: 10.0.0.1}
      - {name: b, ip: 10.0.0.2, profile: q}
)");
  CHECK(inv.FindNode("a")->image == "p-img");
  CHECK(inv.FindNode("b")->image == "q-img");
}

TEST_CASE("Racks keep their location, position, height and node order", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
racks:
  - {name: r2, location: "room 1, row B", position: 7, height: 48, nodes: [{name: b, ip: 10.0.0.2, unit: 47, height: 2}]}
  - {name: r1, nodes: [{name: "a[1-3]", ip: "10.0.1.[1-3]"}]}
)");
  REQUIRE(inv.racks.size() == 2);
  CHECK(inv.racks[0].name == "r2");
  CHECK(inv.racks[0].location == "room 1, row B");
  CHECK(inv.racks[0].position == 7);
  CHECK(inv.racks[0].height == 48);
  CHECK(inv.FindNode("b")->unit == 47);
  CHECK(inv.FindNode("a3")->position == 3);
  CHECK(inv.FindNode("a3")->rack == "r1");
  CHECK(inv.racks[1].nodes.size() == 3);
}

TEST_CASE("Names and addresses zip in step across several bracket groups", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults: {bmc: {password: {env: PW}}}
racks:
  - name: r
    nodes:
      - name: "r[1-2]n[01-02]"
        ip: "10.1.[1-2].[11-12]"
        bmc: "10.2.0.[1-4]"
        mac: "02:00:00:00:[01-02]:[0e-0f]"
)");
  REQUIRE(inv.nodes.size() == 4);
  CHECK(inv.nodes[0].name == "r1n01");
  CHECK(inv.nodes[1].name == "r1n02");
  CHECK(inv.nodes[2].name == "r2n01");
  CHECK(inv.nodes[2].ip == "10.1.2.11");
  CHECK(inv.nodes[3].bmc.address == "10.2.0.4");
  CHECK(inv.nodes[1].mac == "02:00:00:00:01:0f");
  CHECK(inv.nodes[3].mac == "02:00:00:00:02:0f");
}

TEST_CASE("MAC ranges count in hexadecimal and MACs are normalised", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
racks:
  - name: r
    nodes:
      - {name: "n[1-8]", ip: "10.0.0.[1-8]", mac: "AA-BB-CC-00-00-[0A-0F],aa:bb:cc:00:00:[10-11]"}
)");
  REQUIRE(inv.nodes.size() == 8);
  CHECK(inv.nodes[0].mac == "aa:bb:cc:00:00:0a");
  CHECK(inv.nodes[5].mac == "aa:bb:cc:00:00:0f");
  CHECK(inv.nodes[6].mac == "aa:bb:cc:00:00:10");
}

TEST_CASE("IPv6 and URL addresses may use bracket ranges too", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults: {bmc: {password: {env: PW}}}
racks:
  - name: r
    nodes:
      - {name: "n[1-2]", ip: "fd00::[1-2]", bmc: "https://127.0.1.1:[8001-8002]"}
)");
  CHECK(inv.nodes[1].ip == "fd00::2");
  CHECK(inv.nodes[1].bmc.address == "https://127.0.1.1:8002");
  CHECK(inv.nodes[1].bmc.BaseUrl() == "https://127.0.1.1:8002");
}

TEST_CASE("A libvirt BMC may be shared by every node of an entry", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults: {bmc: {driver: libvirt}}
racks: [{name: r, nodes: [{name: "vm[1-3]", ip: "10.0.0.[1-3]", bmc: "qemu:///system"}]}]
)");
  CHECK(inv.nodes[2].bmc.address == "qemu:///system");
  CHECK(inv.nodes[2].bmc.driver == BmcDriver::kLibvirt);
}

TEST_CASE("A node entry overrides its profile key by key", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
profiles:
  p:
    hardware: {gpus: {model: "RTX 2080 Ti", count: 4}, memory_gib: 256}
    slurm: {partitions: [gpu], features: [turing]}
    burnin: standard
racks:
  - name: r
    nodes:
      - {name: a, profile: p, ip: 10.0.0.1}
      - {name: b, profile: p, ip: 10.0.0.2, hardware: {gpus: {count: 3}}, burnin: quick,
         slurm: {features: [turing, degraded]}}
)");
  const Node& a = *inv.FindNode("a");
  const Node& b = *inv.FindNode("b");
  CHECK(a.hardware.gpus.count == 4);
  CHECK(b.hardware.gpus.count == 3);
  CHECK(b.hardware.gpus.model == "NVIDIA GeForce RTX 2080 Ti");
  CHECK(b.hardware.memory_gib == 256);
  CHECK(b.burnin == "quick");
  CHECK(a.burnin == "standard");
  CHECK(b.slurm.features == std::vector<std::string>{"turing", "degraded"});
  CHECK(b.slurm.partitions == std::vector<std::string>{"gpu"});
  CHECK(b.OriginOf("hardware.gpus.count")->line == 11);
  CHECK(b.OriginOf("hardware.gpus.model")->line == 4);
}

TEST_CASE("State and its reason are read, active by default", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
racks:
  - name: r
    nodes:
      - {name: a, ip: 10.0.0.1}
      - {name: b, ip: 10.0.0.2, state: maintenance, reason: "PSU 2 replaced, re-burn pending"}
      - {name: c, ip: 10.0.0.3, state: retired, reason: end of life}
)");
  CHECK(inv.FindNode("a")->state == NodeState::kActive);
  CHECK(inv.FindNode("b")->state == NodeState::kMaintenance);
  CHECK(inv.FindNode("b")->reason == "PSU 2 replaced, re-burn pending");
  CHECK(inv.FindNode("c")->state == NodeState::kRetired);
  CHECK(inv.FindNode("c")->reason == "end of life");
}

TEST_CASE("Hardware expectations cover GPUs, NVSwitch, memory, CPUs and drives", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults:
  hardware:
    gpus: {model: a100-sxm4-80gb, count: 8}
    nvswitch: true
    memory_gib: 2048
    cpus: 256
    drives: [{type: nvme, count: 8, size_gb: 3840}, {type: ssd, size_gb: 960}]
racks: [{name: r, nodes: [{name: n, ip: 10.0.0.1}]}]
)");
  const Hardware& h = inv.nodes[0].hardware;
  CHECK(h.gpus.model == "NVIDIA A100-SXM4-80GB");
  CHECK(h.gpus.count == 8);
  CHECK(h.nvswitch);
  CHECK(h.memory_gib == 2048);
  CHECK(h.cpus == 256);
  REQUIRE(h.drives.size() == 2);
  CHECK(h.drives[0].count == 8);
  CHECK(h.drives[0].size_gb == 3840);
  CHECK(h.drives[1].type == "ssd");
  CHECK(h.drives[1].count == 1);
}

TEST_CASE("Firmware, image and software versions are kept as written", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults:
  image: ubuntu-22.04-gpu
  firmware: {bios: "2.19.1", bmc: 7.10.30.00, nic: 22.39.1002}
  software: {nvidia_driver: 550.127.05, cuda: "12.4", slurm: 23.11.4, gpfs: 5.1.9-2}
racks: [{name: r, nodes: [{name: n, ip: 10.0.0.1, software: {cuda: ~}}]}]
)");
  const Node& n = inv.nodes[0];
  CHECK(n.image == "ubuntu-22.04-gpu");
  CHECK(n.firmware.at("bmc") == "7.10.30.00");
  CHECK(n.firmware.at("nic") == "22.39.1002");
  CHECK(n.software.at("nvidia_driver") == "550.127.05");
  CHECK(n.software.at("gpfs") == "5.1.9-2");
  CHECK(n.software.count("cuda") == 0);
}

TEST_CASE("Slurm partitions and features are read in either spelling", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
profiles:
  one: {slurm: {partition: gpu, features: [a100, nvlink]}}
  many: {slurm: {partitions: [gpu, debug]}}
racks: [{name: r, nodes: [{name: a, profile: one, ip: 10.0.0.1}, {name: b, profile: many, ip: 10.0.0.2}]}]
)");
  CHECK(inv.FindNode("a")->slurm.partitions == std::vector<std::string>{"gpu"});
  CHECK(inv.FindNode("a")->slurm.features == std::vector<std::string>{"a100", "nvlink"});
  CHECK(inv.FindNode("b")->slurm.partitions == std::vector<std::string>{"gpu", "debug"});
}

TEST_CASE("Mounts of every type resolve by name in the order listed", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
mounts:
  home: {type: nfs, source: "nas:/home", target: /home, options: [rw, hard]}
  lus: {type: lustre, source: "10.0.0.5@o2ib:/lfs", target: /lustre}
  bee: {type: beegfs, source: beegfs0, target: /beegfs}
  gp: {type: gpfs, source: fs1, target: /gpfs/fs1}
  scratch: {type: local, source: /dev/nvme0n1, target: /scratch, options: [noatime]}
racks: [{name: r, nodes: [{name: n, ip: 10.0.0.1, mounts: [scratch, gp, bee, lus, home]}]}]
)");
  const std::vector<Mount>& m = inv.nodes[0].mounts;
  REQUIRE(m.size() == 5);
  CHECK(m[0].type == MountType::kLocal);
  CHECK(m[1].type == MountType::kGpfs);
  CHECK(m[2].type == MountType::kBeegfs);
  CHECK(m[3].type == MountType::kLustre);
  CHECK(m[3].source == "10.0.0.5@o2ib:/lfs");
  CHECK(m[4].type == MountType::kNfs);
  CHECK(m[4].options == std::vector<std::string>{"rw", "hard"});
  CHECK(inv.mounts.size() == 5);
}

TEST_CASE("The burn-in profile is inherited and overridable", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
defaults: {burnin: standard}
profiles: {long: {burnin: extended}}
racks: [{name: r, nodes: [{name: a, ip: 10.0.0.1}, {name: b, profile: long, ip: 10.0.0.2},
                          {name: c, profile: long, ip: 10.0.0.3, burnin: ~}]}]
)");
  CHECK(inv.FindNode("a")->burnin == "standard");
  CHECK(inv.FindNode("b")->burnin == "extended");
  CHECK(inv.FindNode("c")->burnin.empty());
}

TEST_CASE("Selections combine hostlists, selectors and exclusions", "[inventory]") {
  Inventory inv = MustLoad(R"(site: s
profiles: {p: {slurm: {partitions: [gpu], features: [v100]}}, q: {}}
racks:
  - {name: r1, nodes: [{name: "n[1-4]", profile: p, ip: "10.0.0.[1-4]"}]}
  - {name: r2, nodes: [{name: "m[1-2]", profile: q, ip: "10.0.1.[1-2]", state: retired}]}
)");
  auto names = [&](const std::string& expr) {
    std::vector<std::string> out;
    Result<std::vector<const Node*>> r = Select(inv, expr);
    INFO(expr << ": " << (r.ok() ? "" : r.error().ToString()));
    REQUIRE(r.ok());
    for (const Node* n : *r) out.push_back(n->name);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(names("all").size() == 6);
  CHECK(names("n[2-3]") == V{"n2", "n3"});
  CHECK(names("@rack:r2") == V{"m1", "m2"});
  CHECK(names("@profile:p,!n1") == V{"n2", "n3", "n4"});
  CHECK(names("@state:retired") == V{"m1", "m2"});
  CHECK(names("@partition:gpu,m1") == V{"n1", "n2", "n3", "n4", "m1"});
  CHECK(names("@feature:v100,^n[1-3]") == V{"n4"});
  CHECK(names("!@rack:r1") == V{"m1", "m2"});
  CHECK(names("m2,n1,m2") == V{"n1", "m2"});
  Result<std::vector<const Node*>> unknown = Select(inv, "@rack:r3");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message().find("unknown rack 'r3'") != std::string::npos);
  CHECK_FALSE(Select(inv, "x9").ok());
  CHECK_FALSE(Select(inv, "").ok());
}

}  // namespace
}  // namespace racksmith::inventory
