// The shipped playbooks run on simulated Ubuntu and Rocky nodes: they configure what they
// promise, and a second run changes nothing.
#include <catch2/catch.hpp>

#include "playbook/test_util.h"
#include "support/cli_runner.h"

namespace racksmith::playbook {
namespace {

using testing::FakeTransport;
using testing::Quiet;

Json GpuNode(const std::string& name, const std::string& ip, const std::string& state) {
  return Json::parse(R"({"name": ")" + name + R"(", "ip": ")" + ip + R"(", "state": ")" + state +
                     R"(", "reason": "", "software": {"slurm": "23.11.4", "nvidia_driver": "550.127.05",
      "cuda": "12.4"},
      "hardware": {"gpus": {"model": "NVIDIA GeForce RTX 3090", "count": 4}, "nvswitch": false,
                   "memory_gib": 256, "cpus": 64, "drives": []},
      "slurm": {"partitions": ["gpu"], "features": ["rtx3090"]},
      "mounts": [{"name": "home", "type": "nfs", "source": "10.0.9.1:/export/home",
                  "target": "/home", "options": ["rw", "hard"]}]})");
}

struct Cluster {
  FakeTransport fake;
  std::vector<Target> targets;
  RunOptions options = Quiet();
  racksmith::testing::TempDir dir;

  explicit Cluster(const std::string& os_id) {
    Json nodes = Json::array();
    for (int i = 1; i <= 2; ++i) {
      std::string name = "gpu0" + std::to_string(i);
      Target t;
      t.endpoint.node = name;
      t.node = GpuNode(name, "10.0.0." + std::to_string(i), i == 2 ? "maintenance" : "active");
      nodes.push_back(t.node);
      targets.push_back(t);
      auto& n = fake.Node(name);
      n.package_manager = os_id == "ubuntu" ? "apt" : "dnf";
      n.available = {{"munge", "0.5.15-4"},          {"slurmd", "23.11.4-1build1"},
                     {"slurm-slurmd", "23.11.4-1.el9"}, {"nfs-common", "1:2.6.4-3"},
                     {"nfs-utils", "2.5.4-25.el9"}};
      n.services = {{"munge", {}}, {"slurmd", {}}};
      n.AddDir("/etc/munge");
      n.AddFile("/etc/fstab", "UUID=1 / ext4 defaults 0 1\n");
    }
    fake.On(". /etc/os-release && echo \"$ID\"", [os_id](testing::FakeNode&) {
      transport::ExecResult r;
      r.exit_status = 0;
      r.stdout_text = os_id + "\n";
      return r;
    });
    options.globals = {{"site", "dc1"}, {"nodes", nodes}};
    options.extra_vars = {{"munge_key_file", dir.Write("munge.key", "secret-key-bytes")},
                          {"slurm_control_host", "head1"}};
  }
};

Playbook Shipped(const std::string& name) {
  LoadOutcome out = LoadPlaybookAll(racksmith::testing::SourcePath("playbooks/" + name));
  REQUIRE(out.ok());
  return std::move(out.playbook);
}

TEST_CASE("the shipped slurm playbook configures Ubuntu and Rocky nodes once", "[playbook]") {
  for (std::string os : {"ubuntu", "rocky"}) {
    Cluster c(os);
    Playbook pb = Shipped("slurm.yaml");
    RunReport first = RunPlaybook(pb, c.targets, c.fake, c.options);
    INFO(FormatReport(pb, first, false));
    REQUIRE(first.AllSucceeded());
    auto& n = c.fake.Node("gpu01");
    CHECK(n.installed.count(os == "ubuntu" ? "slurmd" : "slurm-slurmd") == 1);
    CHECK(n.services["slurmd"].active);
    CHECK(n.services["munge"].enabled);
    CHECK(n.Content("/etc/munge/munge.key") == "secret-key-bytes");
    CHECK(n.files["/etc/munge/munge.key"].mode == 0400);
    CHECK(n.files["/etc/munge/munge.key"].owner == "munge");
    const std::string& conf = n.Content("/etc/slurm/slurm.conf");
    CHECK_THAT(conf, Catch::Contains("ClusterName=dc1\nSlurmctldHost=head1\n"));
    CHECK_THAT(conf, Catch::Contains("NodeName=gpu01 NodeAddr=10.0.0.1 CPUs=64 RealMemory=249036 "
                                     "Gres=gpu:rtx3090:4 Features=rtx3090\n"));
    CHECK_THAT(conf, Catch::Contains("NodeName=gpu02 NodeAddr=10.0.0.2 CPUs=64 RealMemory=249036 "
                                     "Gres=gpu:rtx3090:4 Features=rtx3090 State=DRAIN "
                                     "Reason=\"maintenance\"\n"));
    CHECK_THAT(conf, Catch::Contains("PartitionName=gpu Nodes=gpu[01-02] Default=YES "
                                     "MaxTime=INFINITE State=UP\n"));
    CHECK(n.Content("/etc/slurm/gres.conf").find(
              "NodeName=gpu01 Name=gpu Type=rtx3090 File=/dev/nvidia3\n") != std::string::npos);
    // The munge key never shows up in the report.
    CHECK_THAT(FormatReport(pb, first, true), !Catch::Contains("secret-key-bytes"));

    RunReport second = RunPlaybook(pb, c.targets, c.fake, c.options);
    INFO(FormatReport(pb, second, true));
    CHECK(second.AllSucceeded());
    CHECK(second.TotalChanged() == 0);
  }
}

TEST_CASE("the shipped mounts playbook mounts NFS once", "[playbook]") {
  Cluster c("ubuntu");
  Playbook pb = Shipped("mounts.yaml");
  RunReport first = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, first, false));
  REQUIRE(first.AllSucceeded());
  auto& n = c.fake.Node("gpu01");
  CHECK(n.installed.count("nfs-common") == 1);
  CHECK_THAT(n.Content("/etc/fstab"),
             Catch::Contains("10.0.9.1:/export/home /home nfs rw,hard,_netdev 0 0\n"));
  CHECK(n.mounted.count("/home") == 1);
  RunReport second = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, second, true));
  CHECK(second.TotalChanged() == 0);
}

}  // namespace
}  // namespace racksmith::playbook
