// The shipped playbooks run on simulated Ubuntu and Rocky nodes: they configure what they
// promise, and a second run changes nothing.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "playbook/test_util.h"
#include "support/cli_runner.h"
#include "support/free_port.h"
#include "support/temp_dir.h"

namespace racksmith::playbook {
namespace {

using testing::FakeTransport;
using testing::Quiet;

Json GpuNode(const std::string& name, const std::string& ip, const std::string& state) {
  return Json::parse(
      R"({"name": ")" + name + R"(", "ip": ")" + ip + R"(", "state": ")" + state +
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
      n.available = {{"munge", "0.5.15-4"},
                     {"slurmd", "23.11.4-1build1"},
                     {"slurm-slurmd", "23.11.4-1.el9"},
                     {"nfs-common", "1:2.6.4-3"},
                     {"nfs-utils", "2.5.4-25.el9"}};
      n.available.insert({{"datacenter-gpu-manager", "1:3.3.7"},
                          {"prometheus-node-exporter", "1.3.1-1ubuntu0.22.04.1"},
                          {"golang-github-prometheus-node-exporter", "1.7.0-1.el9"},
                          {"epel-release", "9-7.el9"},
                          {"docker.io", "24.0.7-0ubuntu2~22.04.1"},
                          {"docker-ce", "3:26.1.3-1.el9"},
                          {"docker-ce-cli", "1:26.1.3-1.el9"},
                          {"containerd.io", "1.6.32-3.1.el9"},
                          {"nvidia-container-toolkit", "1.16.2-1"},
                          {"enroot", "3.5.0-1"},
                          {"enroot+caps", "3.5.0-1"},
                          {"nvslurm-plugin-pyxis", "0.20.0-1"}});
      n.services = {{"munge", {}},
                    {"slurmd", {}},
                    {"nvidia-dcgm", {}},
                    {"dcgm-exporter", {}},
                    {"prometheus-node-exporter", {}},
                    {"node_exporter", {}},
                    {"docker", {}}};
      for (const char* d : {"/usr/local/bin", "/etc/systemd", "/etc/systemd/system"}) n.AddDir(d);
      // The images ship the repositories the playbooks would otherwise download.
      n.AddDir("/etc/yum.repos.d");
      n.AddFile("/etc/yum.repos.d/nvidia-container-toolkit.repo", "[nvidia-container-toolkit]\n");
      n.AddFile("/etc/yum.repos.d/docker-ce.repo", "[docker-ce-stable]\n");
      n.AddDir("/etc/apt");
      n.AddDir("/etc/apt/sources.list.d");
      n.AddFile("/etc/apt/sources.list.d/nvidia-container-toolkit.list", "deb ...\n");
      n.AddDir("/etc/munge");
      n.AddFile("/etc/fstab", "UUID=1 / ext4 defaults 0 1\n");
    }
    fake.On(". /etc/os-release && echo \"$ID\"", [os_id](testing::FakeNode&) {
      transport::ExecResult r;
      r.exit_status = 0;
      r.stdout_text = os_id + "\n";
      return r;
    });
    std::string version_id = os_id == "ubuntu" ? "22.04" : "9.4";
    fake.On(". /etc/os-release && echo \"$ID $VERSION_ID\"",
            [os_id, version_id](testing::FakeNode&) {
              transport::ExecResult r;
              r.exit_status = 0;
              r.stdout_text = os_id + " " + version_id + "\n";
              return r;
            });
    fake.On("'dcgmi' 'diag' '-r' '1'", [](testing::FakeNode&) {
      transport::ExecResult r;
      r.exit_status = 0;
      r.stdout_text = "Successfully ran diagnostic for group.\n";
      return r;
    });
    options.globals = {{"site", "dc1"}, {"nodes", nodes}};
    options.extra_vars = {{"munge_key_file", dir.Write("munge.key", "secret-key-bytes")},
                          {"slurm_control_host", "head1"},
                          {"dcgm_exporter_src", dir.Write("dcgm-exporter", "#!/bin/sh\n")}};
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
    CHECK(n.Content("/etc/slurm/gres.conf")
              .find("NodeName=gpu01 Name=gpu Type=rtx3090 File=/dev/nvidia3\n") !=
          std::string::npos);
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

TEST_CASE("the shipped mounts playbook sets up Lustre, BeeGFS and GPFS clients once",
          "[playbook]") {
  Cluster c("ubuntu");
  for (auto& t : c.targets)
    t.node["mounts"] = Json::parse(R"([
      {"name": "scratch", "type": "lustre", "source": "10.0.9.2@o2ib:/scratch",
       "target": "/lustre/scratch", "options": ["flock"]},
      {"name": "work", "type": "beegfs", "source": "10.0.9.3:/work", "target": "/work",
       "options": []},
      {"name": "gpfs1", "type": "gpfs", "source": "gpfs1", "target": "/gpfs/gpfs1",
       "options": ["ro"]}])");
  for (const char* node : {"gpu01", "gpu02"}) {
    auto& n = c.fake.Node(node);
    n.available.insert({{"beegfs-client", "7.4.2"}, {"beegfs-helperd", "7.4.2"},
                        {"beegfs-utils", "7.4.2"}});
    n.AddFile("/usr/lpp/mmfs/bin/mmmount", "#!/bin/sh\n", 0755);
    n.services["beegfs-client"] = {};  // the unit the package ships
  }
  auto ok = [](const std::string& out) {
    return [out](testing::FakeNode&) {
      transport::ExecResult r;
      r.exit_status = 0;
      r.stdout_text = out;
      return r;
    };
  };
  c.fake.On("modinfo lustre >/dev/null", ok(""));
  // GPFS mounts through mmmount: the first run mounts (with the inventory's -o ro), the
  // second finds it in mmlsmount's list.
  c.fake.On(
      "/usr/lpp/mmfs/bin/mmlsmount gpfs1 -L | grep -q \"$(hostname -s)\" && echo mounted || "
      "{ /usr/lpp/mmfs/bin/mmmount gpfs1 -o ro && echo done; }",
      [&](testing::FakeNode& n) {
        transport::ExecResult r;
        r.exit_status = 0;
        r.stdout_text = n.mounted.insert("/gpfs/gpfs1").second ? "done\n" : "mounted\n";
        return r;
      });
  Playbook pb = Shipped("mounts.yaml");
  RunReport first = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, first, false));
  REQUIRE(first.AllSucceeded());
  auto& n = c.fake.Node("gpu01");
  CHECK_THAT(n.Content("/etc/fstab"),
             Catch::Contains("10.0.9.2@o2ib:/scratch /lustre/scratch lustre flock,_netdev 0 0\n"));
  CHECK(n.mounted.count("/lustre/scratch") == 1);
  CHECK(n.installed.count("beegfs-client") == 1);
  CHECK_THAT(n.Content("/etc/beegfs/beegfs-client-work.conf"),
             Catch::Contains("sysMgmtdHost = 10.0.9.3"));
  CHECK(n.services["beegfs-client"].active);
  CHECK(n.services["beegfs-client"].enabled);
  CHECK(n.Exists("/gpfs/gpfs1"));
  CHECK(n.mounted.count("/gpfs/gpfs1") == 1);
  RunReport second = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, second, true));
  CHECK(second.AllSucceeded());
  CHECK(second.TotalChanged() == 0);
}

TEST_CASE("the shipped mounts playbook adds _netdev once when the inventory lists it",
          "[playbook]") {
  Cluster c("ubuntu");
  for (auto& t : c.targets) t.node["mounts"][0]["options"] = Json::array({"ro", "_netdev"});
  Playbook pb = Shipped("mounts.yaml");
  RunReport first = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, first, false));
  REQUIRE(first.AllSucceeded());
  CHECK_THAT(c.fake.Node("gpu01").Content("/etc/fstab"),
             Catch::Contains("10.0.9.1:/export/home /home nfs ro,_netdev 0 0\n"));
}

// Runs `pb` on a fresh cluster in check mode (nothing may change), then for real, then again
// (nothing may change). Returns the first real run's report.
RunReport CheckRunRerun(Cluster& c, const Playbook& pb, const std::vector<std::string>& watched) {
  RunOptions check = c.options;
  check.check = true;
  RunReport dry = RunPlaybook(pb, c.targets, c.fake, check);
  INFO(FormatReport(pb, dry, true));
  CHECK(dry.AllSucceeded());
  CHECK(dry.TotalChanged() > 0);
  auto& n = c.fake.Node("gpu01");
  for (const auto& path : watched) CHECK_FALSE(n.Exists(path));
  CHECK(n.changes.empty());

  RunReport first = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, first, false));
  REQUIRE(first.AllSucceeded());
  for (const auto& path : watched) CHECK(n.Exists(path));
  RunReport second = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, second, true));
  CHECK(second.AllSucceeded());
  CHECK(second.TotalChanged() == 0);
  return first;
}

TEST_CASE("the shipped dcgm playbook installs DCGM and runs dcgm-exporter once", "[playbook]") {
  for (std::string os : {"ubuntu", "rocky"}) {
    INFO(os);
    Cluster c(os);
    Playbook pb = Shipped("dcgm.yaml");
    CheckRunRerun(c, pb,
                  {"/etc/dcgm-exporter/counters.csv", "/etc/systemd/system/dcgm-exporter.service"});
    auto& n = c.fake.Node("gpu01");
    CHECK(n.installed.count("datacenter-gpu-manager") == 1);
    CHECK(n.services["nvidia-dcgm"].active);
    CHECK(n.services["nvidia-dcgm"].enabled);
    CHECK(n.services["dcgm-exporter"].active);
    CHECK(n.services["dcgm-exporter"].enabled);
    CHECK(n.Content("/usr/local/bin/dcgm-exporter") == "#!/bin/sh\n");
    CHECK(n.files["/usr/local/bin/dcgm-exporter"].mode == 0755);
    CHECK_THAT(n.Content("/etc/systemd/system/dcgm-exporter.service"),
               Catch::Contains("ExecStart=/usr/local/bin/dcgm-exporter --collectors "
                               "/etc/dcgm-exporter/counters.csv --address :9400 "));
    CHECK_THAT(n.Content("/etc/dcgm-exporter/counters.csv"),
               Catch::Contains("\nDCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (%)\n"));
  }
}

TEST_CASE("the shipped dcgm playbook takes the exporter's port and address from vars",
          "[playbook]") {
  Cluster c("ubuntu");
  c.options.extra_vars["dcgm_exporter_port"] = 9500;
  c.options.extra_vars["dcgm_exporter_listen"] = "127.0.0.1";
  Playbook pb = Shipped("dcgm.yaml");
  RunReport r = RunPlaybook(pb, c.targets, c.fake, c.options);
  INFO(FormatReport(pb, r, false));
  REQUIRE(r.AllSucceeded());
  CHECK_THAT(c.fake.Node("gpu02").Content("/etc/systemd/system/dcgm-exporter.service"),
             Catch::Contains("--address 127.0.0.1:9500 "));
}

TEST_CASE("the shipped node-exporter playbook configures Ubuntu's and EPEL's package once",
          "[playbook]") {
  for (std::string os : {"ubuntu", "rocky"}) {
    INFO(os);
    Cluster c(os);
    c.options.extra_vars["node_exporter_listen"] = "10.0.0.1:9100";
    bool ubuntu = os == "ubuntu";
    std::string service = ubuntu ? "prometheus-node-exporter" : "node_exporter";
    std::string dropin = "/etc/systemd/system/" + service + ".service.d/racksmith.conf";
    Playbook pb = Shipped("node-exporter.yaml");
    CheckRunRerun(c, pb, {dropin, "/var/lib/prometheus/node-exporter"});
    auto& n = c.fake.Node("gpu01");
    CHECK(n.installed.count(ubuntu ? "prometheus-node-exporter"
                                   : "golang-github-prometheus-node-exporter") == 1);
    CHECK(n.installed.count("epel-release") == (ubuntu ? 0 : 1));
    CHECK(n.services[service].active);
    CHECK(n.services[service].enabled);
    CHECK(n.Content(dropin) ==
          "# node_exporter on gpu01: generated by racksmith (playbooks/node-exporter.yaml).\n"
          "# Replaces the package's command line; `systemctl cat` shows both.\n"
          "[Service]\nExecStart=\nExecStart=" +
              std::string(ubuntu ? "/usr/bin/prometheus-node-exporter" : "/usr/bin/node_exporter") +
              " --web.listen-address=10.0.0.1:9100"
              " --collector.textfile.directory=/var/lib/prometheus/node-exporter\n");
  }
}

TEST_CASE("the shipped container-runtime playbook sets up Docker with the NVIDIA runtime once",
          "[playbook]") {
  for (std::string os : {"ubuntu", "rocky"}) {
    INFO(os);
    Cluster c(os);
    c.options.extra_vars["docker_daemon_options"] = {{"data-root", "/scratch/docker"}};
    Playbook pb = Shipped("container-runtime.yaml");
    CheckRunRerun(c, pb, {"/etc/docker/daemon.json"});
    auto& n = c.fake.Node("gpu01");
    CHECK(n.installed.count("nvidia-container-toolkit") == 1);
    CHECK(n.installed.count(os == "ubuntu" ? "docker.io" : "docker-ce") == 1);
    CHECK(n.installed.count("enroot") == 0);
    CHECK(n.services["docker"].active);
    CHECK(n.services["docker"].enabled);
    auto daemon = nlohmann::json::parse(n.Content("/etc/docker/daemon.json"));
    CHECK(daemon["default-runtime"] == "nvidia");
    CHECK(daemon["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime");
    CHECK(daemon["data-root"] == "/scratch/docker");
  }
}

TEST_CASE("the shipped container-runtime playbook sets up enroot and pyxis when asked",
          "[playbook]") {
  for (std::string os : {"ubuntu", "rocky"}) {
    INFO(os);
    Cluster c(os);
    c.options.extra_vars["container_runtime"] = "enroot";
    for (const auto& t : c.targets) c.fake.Node(t.endpoint.node).AddDir("/etc/slurm");
    Playbook pb = Shipped("container-runtime.yaml");
    CheckRunRerun(c, pb, {"/etc/enroot/enroot.conf", "/etc/slurm/plugstack.conf.d/pyxis.conf"});
    auto& n = c.fake.Node("gpu01");
    for (const char* p : {"enroot", "enroot+caps", "nvslurm-plugin-pyxis"}) {
      CHECK(n.installed.count(p) == 1);
    }
    CHECK(n.installed.count("nvidia-container-toolkit") == 0);
    CHECK_FALSE(n.Exists("/etc/docker/daemon.json"));
    CHECK(n.Content("/etc/slurm/plugstack.conf") == "include /etc/slurm/plugstack.conf.d/*.conf\n");
    CHECK(n.Content("/etc/slurm/plugstack.conf.d/pyxis.conf") ==
          (os == "ubuntu" ? "required /usr/lib/x86_64-linux-gnu/slurm/spank_pyxis.so\n"
                          : "required /usr/lib64/slurm/spank_pyxis.so\n"));
    CHECK_THAT(n.Content("/etc/enroot/enroot.conf"),
               Catch::Contains("ENROOT_RUNTIME_PATH /run/enroot/user-$(id -u)\n"));
  }
}

TEST_CASE("the shipped container-runtime playbook refuses an unknown runtime", "[playbook]") {
  Cluster c("ubuntu");
  c.options.extra_vars["container_runtime"] = "podman";
  Playbook pb = Shipped("container-runtime.yaml");
  RunReport r = RunPlaybook(pb, c.targets, c.fake, c.options);
  CHECK_FALSE(r.AllSucceeded());
  CHECK(c.fake.Node("gpu01").installed.empty());
}

// ---- On the lab: real sshd nodes in bubblewrap sandboxes with the lab's simulated apt,
// systemctl, nvidia-smi and dcgmi (docs/lab.md), through the real binary -----------------

using racksmith::testing::CliOptions;
using racksmith::testing::CliResult;
using racksmith::testing::RunCli;
using racksmith::testing::SourcePath;

// Two lab nodes (4 x RTX 3090; 8 x A100 with NVSwitch, in Slurm partitions, with an NFS
// mount from a loopback address and a two-drive local scratch) with SSH on 127.0.13.B1-B2 and
// their BMCs on 127.0.14.B1-B2 (B: the test's block), addresses no other test uses; `lab
// down` when done.
class PlaybookLab {
 public:
  explicit PlaybookLab(int block = 0) {
    dir_ = tmp_.Join("lab");
    const std::string ssh_net = "127.0.13.", bmc_net = "127.0.14.";
    std::ostringstream y;
    y << "site: pblab\n"
         "defaults:\n"
         "  bmc: {driver: redfish, username: admin, password: {env: PB_LAB_BMC_PW}}\n"
         "  ssh: {user: root, port: "
      << racksmith::testing::FreeLoopbackPort(ssh_net + std::to_string(block * 2 + 1))
      << ", key: " << dir_
      << "/keys/client_ed25519}\n"
         "  software: {nvidia_driver: \"550.127.05\", cuda: \"12.4\", slurm: \"23.11.4\"}\n"
         "  mounts: [datasets, scratch]\n"
         "mounts:\n"
         "  datasets: {type: nfs, source: \"127.0.0.1:/export/datasets\", target: /mnt/datasets, "
         "options: [ro, hard]}\n"
         "  scratch: {type: local, source: \"/dev/nvme1n1,/dev/nvme2n1\", target: /mnt/scratch, "
         "options: [noatime]}\n"
         "profiles:\n"
         "  pl-3090:\n"
         "    hardware: {gpus: {model: \"NVIDIA GeForce RTX 3090\", count: 4}, memory_gib: 256, "
         "cpus: 64}\n"
         "    slurm: {partitions: [gpu], features: [rtx3090]}\n"
         "  pl-a100:\n"
         "    hardware: {gpus: {model: \"NVIDIA A100-SXM4-80GB\", count: 8}, nvswitch: true, "
         "memory_gib: 1024, cpus: 128}\n"
         "    software: {nccl: \"2.21.5\"}\n"
         "    slurm: {partitions: [gpu, a100], features: [a100, nvlink]}\n"
         "racks:\n"
         "  - name: pl-r1\n"
         "    nodes:\n";
    int bmc_port = racksmith::testing::FreeLoopbackPort(bmc_net + std::to_string(block * 2 + 1));
    for (int i = 1; i <= 2; ++i) {
      ips_.push_back(ssh_net + std::to_string(block * 2 + i));
      y << "      - {name: " << Name(i) << ", profile: " << (i == 1 ? "pl-3090" : "pl-a100")
        << ", ip: " << ips_.back() << ", bmc: \"http://" << bmc_net << block * 2 + i << ":"
        << bmc_port << "\"}\n";
    }
    inventory_text_ = y.str();
    inventory_ = tmp_.Write("inventory.yaml", inventory_text_);
    exporter_ = tmp_.Write("dcgm-exporter", "#!/bin/sh\necho dcgm-exporter\n");
  }
  ~PlaybookLab() { RunCli({"lab", "--dir", dir_, "down"}, Env()); }
  PlaybookLab(const PlaybookLab&) = delete;
  PlaybookLab& operator=(const PlaybookLab&) = delete;

  static std::string Name(int i) { return "pl-n" + std::to_string(i); }
  CliOptions Env() const {
    CliOptions o;
    o.env["PB_LAB_BMC_PW"] = "pb-lab-pw";
    o.timeout_s = 180;
    return o;
  }
  CliResult Up() {
    return RunCli({"-i", inventory_, "lab", "--dir", dir_, "up", "--speed", "100"}, Env());
  }
  CliResult Run(const std::string& playbook, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"-i",
                                     inventory_,
                                     "--state",
                                     tmp_.Join("state.db"),
                                     "playbook",
                                     "run",
                                     SourcePath("playbooks/" + playbook),
                                     "pl-n[1-2]",
                                     "--json",
                                     "-e",
                                     "dcgm_exporter_src=" + exporter_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, Env());
  }
  /// Node i's SSH address.
  const std::string& Ip(int i) const { return ips_[i - 1]; }
  /// A file in the test's own folder (on the controller).
  std::string WriteLocal(const std::string& name, const std::string& content) const {
    return tmp_.Write(name, content);
  }
  /// Rewrites the inventory with `from` replaced by `to` (once).
  void EditInventory(const std::string& from, const std::string& to) {
    size_t at = inventory_text_.find(from);
    REQUIRE(at != std::string::npos);
    inventory_text_.replace(at, from.size(), to);
    tmp_.Write("inventory.yaml", inventory_text_);
  }
  bool Exists(int i, const std::string& path) const {
    std::error_code ec;
    return std::filesystem::exists(Path(i, path), ec);
  }
  /// A file in node i's sandbox (path absolute inside the node).
  std::string Path(int i, const std::string& path) const {
    return dir_ + "/nodes/" + Name(i) + "/root" + path;
  }
  std::string Read(int i, const std::string& path) const {
    std::ifstream in(Path(i, path));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  /// What the lab's apt, systemctl, mount and mkfs recorded on node i.
  nlohmann::json State(int i, const std::string& file) const {
    std::string text = Read(i, "/var/lib/racksmith-lab/" + file);
    return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
  }

 private:
  racksmith::testing::TempDir tmp_;
  std::string dir_, inventory_, inventory_text_, exporter_;
  std::vector<std::string> ips_;
};

// Changed tasks per node of a `playbook run --json`.
std::map<std::string, int> ChangedPerNode(const CliResult& r) {
  std::map<std::string, int> out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) return out;
  for (const auto& n : j["nodes"]) out[n["node"]] = n["recap"]["changed"].get<int>();
  return out;
}

TEST_CASE(
    "the shipped playbooks run on lab nodes once, change nothing the second time, and "
    "change nothing under --check",
    "[playbook][lab]") {
  PlaybookLab lab;
  CliResult up = lab.Up();
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  const std::map<std::string, int> unchanged = {{"pl-n1", 0}, {"pl-n2", 0}};

  for (std::string book : {"nvidia-driver.yaml", "cuda.yaml", "dcgm.yaml", "node-exporter.yaml",
                           "container-runtime.yaml"}) {
    INFO(book);
    nlohmann::json packages_before = lab.State(2, "packages.json");
    nlohmann::json services_before = lab.State(2, "services.json");
    CliResult dry = lab.Run(book, {"--check"});
    INFO("--check: " << dry.out << dry.err);
    CHECK(dry.exit_code == 0);
    for (const auto& [node, changed] : ChangedPerNode(dry)) CHECK(changed > 0);
    CHECK(lab.State(2, "packages.json") == packages_before);
    CHECK(lab.State(2, "services.json") == services_before);

    CliResult first = lab.Run(book);
    INFO("first run: " << first.out << first.err);
    REQUIRE(first.exit_code == 0);
    CliResult second = lab.Run(book);
    INFO("second run: " << second.out << second.err);
    CHECK(second.exit_code == 0);
    CHECK(ChangedPerNode(second) == unchanged);
  }

  for (int i = 1; i <= 2; ++i) {
    INFO(PlaybookLab::Name(i));
    nlohmann::json pk = lab.State(i, "packages.json");
    nlohmann::json sv = lab.State(i, "services.json");
    CHECK(pk.value("nvidia-driver-550", "").rfind("550.127.05", 0) == 0);
    CHECK(pk.contains("cuda-toolkit-12-4"));
    CHECK(pk.contains("datacenter-gpu-manager"));
    CHECK(pk.contains("prometheus-node-exporter"));
    CHECK(pk.contains("docker.io"));
    CHECK(pk.contains("nvidia-container-toolkit"));
    CHECK(pk.contains("libnccl2") == (i == 2));
    CHECK(pk.contains("nvidia-fabricmanager-550") == (i == 2));
    for (const char* unit :
         {"nvidia-persistenced.service", "nvidia-dcgm.service", "dcgm-exporter.service",
          "prometheus-node-exporter.service", "docker.service"}) {
      INFO(unit);
      CHECK(sv[unit].value("active", false));
      CHECK(sv[unit].value("enabled", false));
    }
    CHECK_THAT(lab.Read(i, "/etc/systemd/system/dcgm-exporter.service"),
               Catch::Contains("--address :9400 "));
    CHECK(lab.Read(i, "/usr/local/bin/dcgm-exporter") == "#!/bin/sh\necho dcgm-exporter\n");
    CHECK_THAT(lab.Read(i, "/etc/systemd/system/prometheus-node-exporter.service.d/racksmith.conf"),
               Catch::Contains("--web.listen-address=:9100 "));
    CHECK_THAT(lab.Read(i, "/etc/docker/daemon.json"),
               Catch::Contains("\"path\": \"nvidia-container-runtime\""));
    CHECK(lab.Read(i, "/etc/profile.d/cuda.sh").find("/usr/local/cuda-12.4") != std::string::npos);
  }
}

// What a --check run must leave alone on the lab nodes: the lab's records and the files
// the slurm and mounts playbooks write ("-" for a missing file).
std::map<std::string, std::string> LabSnapshot(const PlaybookLab& lab) {
  std::map<std::string, std::string> out;
  for (int i = 1; i <= 2; ++i) {
    for (const char* f : {"packages.json", "services.json", "mounts.json", "disks.json"})
      out[PlaybookLab::Name(i) + ":" + f] = lab.Read(i, std::string("/var/lib/racksmith-lab/") + f);
    for (const char* f :
         {"/etc/slurm", "/etc/slurm/slurm.conf", "/etc/slurm/gres.conf", "/etc/slurm/cgroup.conf",
          "/etc/munge/munge.key", "/etc/passwd", "/etc/fstab", "/etc/mdadm/mdadm.conf",
          "/etc/mdadm.conf", "/etc/racksmith/mounts", "/mnt/datasets", "/mnt/scratch"}) {
      out[PlaybookLab::Name(i) + ":" + f] = lab.Exists(i, f) ? "+" + lab.Read(i, f) : "-";
    }
  }
  return out;
}

// The recorded mount at `target` on node i ({} when none).
nlohmann::json LabMount(const PlaybookLab& lab, int i, const std::string& target) {
  for (const auto& m : lab.State(i, "mounts.json"))
    if (m.is_object() && m.value("target", "") == target) return m;
  return nlohmann::json::object();
}

TEST_CASE(
    "the shipped slurm and mounts playbooks run on lab nodes once, change nothing the second "
    "time, and change nothing under --check",
    "[playbook][lab]") {
  PlaybookLab lab(1);
  CliResult up = lab.Up();
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  const std::map<std::string, int> unchanged = {{"pl-n1", 0}, {"pl-n2", 0}};
  const std::string key_bytes = "lab-munge-key-5f0e2c9a8b7d6e41";
  const std::vector<std::string> vars = {
      "-e", "slurm_control_host=pblab-head", "-e",
      "munge_key_file=" + lab.WriteLocal("munge.key", key_bytes)};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), vars.begin(), vars.end());
    return more;
  };

  for (std::string book : {"slurm.yaml", "mounts.yaml"}) {
    INFO(book);
    auto before = LabSnapshot(lab);
    CliResult dry = lab.Run(book, with({"--check", "--diff"}));
    INFO("--check: " << dry.out << dry.err);
    CHECK(dry.exit_code == 0);
    CHECK(ChangedPerNode(dry).size() == 2);
    for (const auto& [node, changed] : ChangedPerNode(dry)) CHECK(changed > 0);
    auto after = LabSnapshot(lab);
    for (const auto& [what, value] : before) {
      INFO(what);
      CHECK(after[what] == value);
    }

    CliResult first = lab.Run(book, with({"--diff"}));
    INFO("first run: " << first.out << first.err);
    REQUIRE(first.exit_code == 0);
    // The munge key is no_log: never in a report, even with --diff.
    CHECK_THAT(dry.out + dry.err + first.out + first.err, !Catch::Contains(key_bytes));
    CliResult second = lab.Run(book, with({}));
    INFO("second run: " << second.out << second.err);
    CHECK(second.exit_code == 0);
    CHECK(ChangedPerNode(second) == unchanged);
  }

  // slurm.yaml: the same slurm.conf on every node, from the whole inventory.
  const std::string conf = lab.Read(1, "/etc/slurm/slurm.conf");
  CHECK_THAT(conf, Catch::Contains("ClusterName=pblab\nSlurmctldHost=pblab-head\n"));
  CHECK_THAT(conf, Catch::Contains("NodeName=pl-n1 NodeAddr=" + lab.Ip(1) +
                                   " CPUs=64 RealMemory=249036 Gres=gpu:rtx3090:4 "
                                   "Features=rtx3090\n"));
  CHECK_THAT(conf, Catch::Contains("NodeName=pl-n2 NodeAddr=" + lab.Ip(2) +
                                   " CPUs=128 RealMemory=996147 Gres=gpu:a100:8 "
                                   "Features=a100,nvlink\n"));
  CHECK_THAT(conf, Catch::Contains("PartitionName=gpu Nodes=pl-n[1-2] Default=YES MaxTime=INFINITE "
                                   "State=UP\nPartitionName=a100 Nodes=pl-n2 MaxTime=INFINITE "
                                   "State=UP\n"));
  CHECK(lab.Read(2, "/etc/slurm/slurm.conf") == conf);
  for (int i = 1; i <= 2; ++i) {
    INFO(PlaybookLab::Name(i));
    nlohmann::json pk = lab.State(i, "packages.json");
    nlohmann::json sv = lab.State(i, "services.json");
    CHECK(pk.contains("munge"));
    CHECK(pk.value("slurmd", "").rfind("23.11.4", 0) == 0);
    for (const char* unit : {"munge.service", "slurmd.service"}) {
      INFO(unit);
      CHECK(sv[unit].value("active", false));
      CHECK(sv[unit].value("enabled", false));
      // The handlers restarted each once, on the first run only.
      CHECK(sv[unit].value("restarts", 0) == 1);
    }
    const std::string gres = lab.Read(i, "/etc/slurm/gres.conf");
    const int gpus = i == 1 ? 4 : 8;
    const std::string type = i == 1 ? "rtx3090" : "a100";
    for (int g = 0; g < gpus; ++g) {
      CHECK_THAT(gres, Catch::Contains("NodeName=" + PlaybookLab::Name(i) + " Name=gpu Type=" +
                                       type + " File=/dev/nvidia" + std::to_string(g) + "\n"));
    }
    CHECK_THAT(gres, !Catch::Contains("File=/dev/nvidia" + std::to_string(gpus)));
    CHECK_THAT(lab.Read(i, "/etc/slurm/cgroup.conf"), Catch::Contains("ConstrainSwapSpace=yes\n"));
    // The munge key: the controller's bytes, 0400, owned by the munge user apt created.
    CHECK(lab.Read(i, "/etc/munge/munge.key") == key_bytes);
    struct stat st {};
    REQUIRE(::stat(lab.Path(i, "/etc/munge/munge.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0400);
    CHECK(st.st_uid != 0);
    CHECK_THAT(lab.Read(i, "/etc/passwd"),
               Catch::Contains("\nmunge:x:" + std::to_string(st.st_uid) + ":" +
                               std::to_string(st.st_gid) + ":"));
  }

  // mounts.yaml: fstab lines with the inventory's options, mounts and the RAID0 scratch.
  for (int i = 1; i <= 2; ++i) {
    INFO(PlaybookLab::Name(i));
    nlohmann::json pk = lab.State(i, "packages.json");
    for (const char* p : {"nfs-common", "mdadm", "xfsprogs"}) CHECK(pk.contains(p));
    const std::string fstab = lab.Read(i, "/etc/fstab");
    CHECK_THAT(fstab, Catch::Contains(
                          "\n127.0.0.1:/export/datasets /mnt/datasets nfs ro,hard,_netdev 0 0\n"));
    CHECK_THAT(fstab, Catch::Contains("\n/dev/md/scratch /mnt/scratch xfs noatime 0 0\n"));
    nlohmann::json nfs = LabMount(lab, i, "/mnt/datasets");
    CHECK(nfs.value("source", "") == "127.0.0.1:/export/datasets");
    CHECK(nfs.value("type", "") == "nfs");
    CHECK(nfs.value("options", "") == "ro,hard,_netdev");
    nlohmann::json scratch = LabMount(lab, i, "/mnt/scratch");
    CHECK(scratch.value("source", "") == "/dev/md/scratch");
    CHECK(scratch.value("type", "") == "xfs");
    nlohmann::json md =
        lab.State(i, "disks.json").value("/dev/md/scratch", nlohmann::json::object());
    CHECK(md.value("fstype", "") == "xfs");
    CHECK(md.value("label", "") == "scratch");
    CHECK(md["raid"] == nlohmann::json::array({"/dev/nvme1n1", "/dev/nvme2n1"}));
    CHECK_THAT(lab.Read(i, "/etc/mdadm/mdadm.conf"), Catch::Contains("ARRAY /dev/md/scratch "));
  }

  // New options in the inventory: the fstab line is replaced and the mount remounted; a new
  // source: unmounted and mounted from it. Each once.
  lab.EditInventory("options: [ro, hard]}", "options: [ro, hard, noatime]}");
  const std::map<std::string, int> one = {{"pl-n1", 1}, {"pl-n2", 1}};
  CliResult opts = lab.Run("mounts.yaml");
  INFO("new options: " << opts.out << opts.err);
  CHECK(opts.exit_code == 0);
  CHECK(ChangedPerNode(opts) == one);
  CHECK(LabMount(lab, 1, "/mnt/datasets").value("options", "") == "ro,hard,noatime,_netdev");
  lab.EditInventory("127.0.0.1:/export/datasets", "127.0.0.2:/export/datasets");
  CliResult moved = lab.Run("mounts.yaml");
  INFO("new source: " << moved.out << moved.err);
  CHECK(moved.exit_code == 0);
  CHECK(ChangedPerNode(moved) == one);
  for (int i = 1; i <= 2; ++i) {
    CHECK(LabMount(lab, i, "/mnt/datasets").value("source", "") == "127.0.0.2:/export/datasets");
    CHECK_THAT(lab.Read(i, "/etc/fstab"),
               Catch::Contains("\n127.0.0.2:/export/datasets /mnt/datasets nfs "
                               "ro,hard,noatime,_netdev 0 0\n"));
    CHECK(lab.State(i, "mounts.json").size() == 2);
  }
  CliResult again = lab.Run("mounts.yaml");
  INFO("again: " << again.out << again.err);
  CHECK(ChangedPerNode(again) == unchanged);
}

}  // namespace
}  // namespace racksmith::playbook
