// ClusterDriver: the parsers, the facts schema and the Slurm steps with an in-test
// SlurmControl, then the steps on the real lab (`racksmith lab up` with one node per test on
// its own 127.0.11.B / 127.0.12.B addresses, real sshd, the Redfish simulator, speed 100):
// discover, image, install (and remove) through a playbook, mount through the shipped
// mounts.yaml, burn-in, firmware and power_off, each with its guard.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "bmc/fake_bmc.h"
#include "bmc/hardware_json.h"
#include "exec/cluster_driver.h"
#include "exec/cluster_driver_internal.h"
#include "exec/cluster_driver_redfish.h"
#include "plan/plan_test_util.h"
#include "ssh/ssh_transport.h"
#include "ssh/state_host_key_store.h"
#include "support/cli_runner.h"
#include "support/free_port.h"
#include "support/golden.h"
#include "support/temp_dir.h"

namespace racksmith::exec {
namespace {

using racksmith::testing::CliOptions;
using racksmith::testing::CliResult;
using racksmith::testing::RunCli;
using racksmith::testing::SharedPath;
using racksmith::testing::SourcePath;
using racksmith::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- Parsers ---------------------------------------------------------------------------------

TEST_CASE("dcgmi diag JSON is read from the real DCGM 3 and DCGM 2 captures", "[exec]") {
  auto r3 = ParseDcgmDiag(ReadFile(SharedPath("gpu-tools/dcgm/dcgmi-diag-r3-8gpu-dcgm3.1.json")));
  REQUIRE(r3.ok());
  CHECK(r3->size() == 9 + 8);  // nine Deployment tests for all GPUs, one Custom per GPU
  CHECK(r3->front().test == "Denylist");
  CHECK(r3->front().gpus == "0,1,2,3,4,5,6,7");
  CHECK(r3->back().gpus == "7");
  CHECK(DiagFailures(*r3).empty());

  auto r1 = ParseDcgmDiag(ReadFile(SharedPath("gpu-tools/dcgm/dcgmi-diag-r1-pass-dcgm2.json")));
  REQUIRE(r1.ok());
  CHECK(r1->size() == 9);
  CHECK(r1->front().status == "Pass");
  CHECK(DiagFailures(*r1).empty());
}

TEST_CASE("a failed dcgmi test is named with its GPU and DCGM's warning", "[exec]") {
  auto results = ParseDcgmDiag(R"({"DCGM GPU Diagnostic": {"test_categories": [
      {"category": "Hardware", "tests": [null, {"name": "GPU Memory", "results": [
        {"gpu_ids": 0, "status": "FAIL", "warnings": [{"warning": "double-bit ECC error", "error_id": 44}]},
        {"gpu_ids": 1, "status": "PASS"}]}]}], "version": "3.1.0"}})");
  REQUIRE(results.ok());
  std::vector<std::string> failures = DiagFailures(*results);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0] == "dcgmi diag: GPU Memory failed on GPU 0: double-bit ECC error");
  CHECK_FALSE(ParseDcgmDiag("Error: unable to connect to host engine").ok());
}

TEST_CASE("GPUs from nvidia-smi are compared with the inventory by index and model", "[exec]") {
  auto rows = ParseGpuCsv(
      "0, NVIDIA GeForce RTX 3090, 00000000:01:00.0\n"
      "1, NVIDIA GeForce RTX 3090, 00000000:21:00.0\n"
      "2, NVIDIA A100-SXM4-80GB, 00000000:41:00.0\n");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK(rows->at(2).bus_id == "00000000:41:00.0");
  inventory::GpuSpec want{"NVIDIA GeForce RTX 3090", 4};
  std::vector<std::string> problems = GpuProblems(want, *rows);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "GPU 3: missing (expected 4 x NVIDIA GeForce RTX 3090)");
  CHECK(problems[1] == "GPU 2: NVIDIA A100-SXM4-80GB, expected NVIDIA GeForce RTX 3090");
  CHECK_FALSE(ParseGpuCsv("No devices were found\n").ok());
}

TEST_CASE("the BMC facts discover records are what the planner reads", "[exec]") {
  bmc::HardwareReport r;
  r.manufacturer = "Dell Inc.";
  r.cpu_count = 2;
  r.logical_cpus = 128;
  r.memory_gib = 1024;
  r.gpus.resize(8);
  for (auto& g : r.gpus) g.model = "NVIDIA A100-SXM4-80GB";
  std::string facts = bmc::HardwareFactsJson(r).dump();
  auto hw = plan::ParseHardwareFacts(facts);
  REQUIRE(hw.ok());
  CHECK(hw->gpu_models.size() == 8);
  CHECK(hw->cpus == 128);
  CHECK(hw->memory_gib == 1024);
  inventory::Hardware want;
  want.gpus = {"NVIDIA A100-SXM4-80GB", 8};
  want.cpus = 128;
  want.memory_gib = 1024;
  CHECK_FALSE(plan::HardwareMismatch(want, *hw).has_value());
}

TEST_CASE("busy or unreachable BMCs are transient and other BMC answers are not", "[exec]") {
  CHECK(IsTransientBmcError(Error(
      ErrorCode::kUnreachable, "http://b: GET /redfish/v1/Systems: HTTP 503 Service Unavailable")));
  CHECK(
      IsTransientBmcError(Error(ErrorCode::kUnreachable, "http://b: Couldn't connect to server")));
  CHECK(IsTransientBmcError(Error(ErrorCode::kTimeout, "http://b: timed out after 30 s")));
  CHECK_FALSE(IsTransientBmcError(
      Error(ErrorCode::kUnreachable, "http://b: POST x: HTTP 500 Internal Server Error")));
  CHECK_FALSE(IsTransientBmcError(Error(
      ErrorCode::kUnreachable, "http://b: firmware update completed with errors: bad image")));
  CHECK_FALSE(IsTransientBmcError(Error(ErrorCode::kRefused, "http://b: login refused")));
  CHECK(
      IsTransientSshError(Error(ErrorCode::kUnreachable, "n1 (127.0.0.1:22): connection refused")));
  CHECK_FALSE(IsTransientSshError(Error(ErrorCode::kConflict, "n1: host key changed")));
}

// ---- Slurm steps, with an in-test SlurmControl -------------------------------------------

class ScriptedSlurm : public slurm::SlurmControl {
 public:
  Status Drain(const std::string& node, const std::string& reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back("drain " + node + ": " + reason);
    if (!known) return NotFound("Invalid node name specified");
    info.flags = {"DRAIN"};
    info.reason = reason;
    return Status::Ok();
  }
  Status Resume(const std::string& node) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back("resume " + node);
    info.flags.clear();
    info.base_state = "IDLE";
    return Status::Ok();
  }
  Result<slurm::NodeInfo> GetNode(const std::string& node) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!known) return NotFound("Node " + node + " not found");
    // The running job ends at the `ends_at`-th look.
    if (++polls >= ends_at && info.base_state == "ALLOCATED") {
      info.base_state = "IDLE";
      info.cpus_alloc = 0;
    }
    slurm::NodeInfo n = info;
    n.name = node;
    return n;
  }

  std::mutex mu_;
  bool known = true;
  int polls = 0;
  int ends_at = 3;
  slurm::NodeInfo info = Allocated();
  std::vector<std::string> calls;

  static slurm::NodeInfo Allocated() {
    slurm::NodeInfo n;
    n.base_state = "ALLOCATED";
    n.cpus_total = n.cpus_alloc = 64;
    return n;
  }
};

constexpr const char* kSlurmSite = R"(site: t
defaults:
  bmc: {driver: redfish, username: admin, password: {env: NOT_USED}}
racks:
  - name: r1
    nodes:
      - {name: n1, bmc: 10.0.0.1, ip: 10.1.0.1}
)";

struct SlurmRig {
  inventory::Inventory inv = plan::testing::MustLoad(kSlurmSite);
  SystemClock clock;
  ScriptedSlurm slurm;
  plan::NodePlan node_plan;
  Interrupt interrupt;
  ClusterDriverOptions options;

  SlurmRig() { options.poll_interval_ms = 10; }
  StepContext Ctx() {
    StepContext c;
    c.node_plan = &node_plan;
    c.node = inv.FindNode("n1");
    c.interrupt = &interrupt;
    c.deadline_ms = clock.MonotonicMillis() + 10'000;
    return c;
  }
  static plan::Step Step(plan::StepKind kind) {
    plan::Step s;
    s.node = "n1";
    s.kind = kind;
    s.id = std::string("n1/") + plan::StepKindName(kind);
    return s;
  }
};

TEST_CASE("drain waits until Slurm has the node drained and admit until it is in service",
          "[exec]") {
  SlurmRig rig;
  ClusterDriver driver(rig.inv, nullptr, {}, &rig.slurm, rig.clock, rig.options);
  plan::Step drain = SlurmRig::Step(plan::StepKind::kDrain);
  drain.params["slurm_reason"] = "racksmith: change nvidia_driver";
  StepOutcome out = driver.Run(drain, rig.Ctx());
  INFO(out.error << "\n" << out.output);
  REQUIRE(out.kind == StepOutcome::Kind::kSucceeded);
  CHECK(rig.slurm.calls.front() == "drain n1: racksmith: change nvidia_driver");
  CHECK(rig.slurm.polls == 3);  // it waited for the job to leave
  CHECK_THAT(out.output, Catch::Contains("State=IDLE+DRAIN"));
  CHECK(driver.CheckGuard(drain, rig.Ctx()).verdict == GuardVerdict::kDone);

  plan::Step admit = SlurmRig::Step(plan::StepKind::kAdmit);
  CHECK(driver.CheckGuard(admit, rig.Ctx()).verdict == GuardVerdict::kNotDone);
  out = driver.Run(admit, rig.Ctx());
  REQUIRE(out.kind == StepOutcome::Kind::kSucceeded);
  CHECK(driver.CheckGuard(admit, rig.Ctx()).verdict == GuardVerdict::kDone);
}

TEST_CASE("without a Slurm controller drain and admit fail but quarantine succeeds", "[exec]") {
  SlurmRig rig;
  ClusterDriver none(rig.inv, nullptr, {}, nullptr, rig.clock, rig.options);
  StepOutcome out = none.Run(SlurmRig::Step(plan::StepKind::kDrain), rig.Ctx());
  CHECK(out.kind == StepOutcome::Kind::kFailed);
  CHECK(out.error == "no Slurm controller configured");
  CHECK(none.Run(SlurmRig::Step(plan::StepKind::kAdmit), rig.Ctx()).error ==
        "no Slurm controller configured");
  CHECK(none.Run(SlurmRig::Step(plan::StepKind::kQuarantine), rig.Ctx()).kind ==
        StepOutcome::Kind::kSucceeded);

  // A node Slurm does not know is quarantined without a drain.
  rig.slurm.known = false;
  ClusterDriver driver(rig.inv, nullptr, {}, &rig.slurm, rig.clock, rig.options);
  out = driver.Run(SlurmRig::Step(plan::StepKind::kQuarantine), rig.Ctx());
  CHECK(out.kind == StepOutcome::Kind::kSucceeded);
  CHECK_THAT(out.output, Catch::Contains("not in Slurm"));
}

TEST_CASE("image and erase refuse to start while Slurm runs jobs on the node", "[exec]") {
  SlurmRig rig;
  rig.inv = plan::testing::MustLoad(racksmith::testing::ReplaceAll(kSlurmSite, "ip: 10.1.0.1}",
                                               "ip: 10.1.0.1, image: ubuntu-22.04}"));
  rig.slurm.ends_at = 1'000'000;  // a job that stays: a failed node the plan did not drain
  // No BMC at all: the check comes before anything is touched.
  ClusterDriver driver(rig.inv, nullptr, {}, &rig.slurm, rig.clock, rig.options);
  for (plan::StepKind kind : {plan::StepKind::kImage, plan::StepKind::kErase}) {
    StepOutcome out = driver.Run(SlurmRig::Step(kind), rig.Ctx());
    INFO(out.error);
    CHECK(out.kind == StepOutcome::Kind::kFailed);
    CHECK_THAT(out.error, Catch::StartsWith("Slurm still runs jobs on the node (State=ALLOCATED, "
                                            "CPUs 64/64 allocated): drain it before racksmith ") &&
                              Catch::EndsWith("; nothing was done"));
  }
  CHECK(rig.slurm.calls.empty());  // and it asked Slurm for nothing else
  // Jobs gone (or the node unknown to Slurm): the step goes on to the BMC.
  rig.slurm.info.base_state = "IDLE";
  rig.slurm.info.cpus_alloc = 0;
  StepOutcome idle = driver.Run(SlurmRig::Step(plan::StepKind::kErase), rig.Ctx());
  CHECK_THAT(idle.error, !Catch::Contains("Slurm"));
  rig.slurm.known = false;
  StepOutcome unknown = driver.Run(SlurmRig::Step(plan::StepKind::kErase), rig.Ctx());
  CHECK_THAT(unknown.error, !Catch::Contains("Slurm"));
}

TEST_CASE("the firmware guard cannot tell while an update task is unfinished on the BMC",
          "[exec]") {
  SlurmRig rig;
  bmc::FakeBmc fake;  // BIOS 1.0
  BmcFactory factory = [&](const inventory::Node&) -> Result<std::unique_ptr<bmc::Bmc>> {
    return std::unique_ptr<bmc::Bmc>(std::make_unique<bmc::BmcWrapper>(fake));
  };
  ClusterDriver driver(rig.inv, factory, {}, nullptr, rig.clock, rig.options);
  plan::Step bios = SlurmRig::Step(plan::StepKind::kFirmware);
  bios.component = "bios";
  bios.to_version = "2.0";
  GuardResult g = driver.CheckGuard(bios, rig.Ctx());
  CHECK(g.verdict == GuardVerdict::kNotDone);
  CHECK(g.evidence == "the BMC reports bios at 1.0, and no task of it is unfinished");
  // A run killed (or an answer lost) in the middle of the flash: the BMC still reports the
  // old version while its task runs. Flashing again now is what must not happen.
  fake.tasks = {{"5", "Completed earlier", "Completed", 100},
                {"7", "BIOS update", "Running", 40}};
  g = driver.CheckGuard(bios, rig.Ctx());
  CHECK(g.verdict == GuardVerdict::kUnknown);
  CHECK(g.evidence == "the BMC reports bios at 1.0, and its task BIOS update is Running (40%): "
                      "an update may still be running");
  fake.FailNext("ListTasks", Error(ErrorCode::kTimeout, "no answer within 30000 ms"));
  CHECK(driver.CheckGuard(bios, rig.Ctx()).verdict == GuardVerdict::kUnknown);
  fake.firmware[0].version = "2.0";  // done meanwhile
  CHECK(driver.CheckGuard(bios, rig.Ctx()).verdict == GuardVerdict::kDone);
}

TEST_CASE("a drain that never ends stops at the interrupt", "[exec]") {
  SlurmRig rig;
  rig.slurm.ends_at = 1'000'000;  // the job never leaves
  ClusterDriver driver(rig.inv, nullptr, {}, &rig.slurm, rig.clock, rig.options);
  StepContext ctx = rig.Ctx();
  std::thread raise([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rig.interrupt.Raise();
    rig.interrupt.Raise();
  });
  int64_t start = rig.clock.MonotonicMillis();
  StepOutcome out = driver.Run(SlurmRig::Step(plan::StepKind::kDrain), ctx);
  raise.join();
  CHECK(out.kind == StepOutcome::Kind::kFailed);
  CHECK_THAT(out.error, Catch::StartsWith("interrupted"));
  CHECK_THAT(out.error, Catch::Contains("State=ALLOCATED+DRAIN"));
  CHECK(rig.clock.MonotonicMillis() - start < 2'000);
}

// ---- The lab ---------------------------------------------------------------------------------

constexpr const char* kPasswordVar = "RACKSMITH_CD_TEST_BMC_PW";
constexpr const char* kPassword = "cd-test-pw";

redfish::FleetOptions FastFleet() {
  redfish::FleetOptions o;
  o.engine.backoff_base_ms = 20;
  o.client.connect_timeout_ms = 1'000;
  o.client.request_timeout_ms = 2'000;
  o.client.deadline_ms = 3'000;
  o.client.task_poll_interval_ms = 20;
  return o;
}

// One lab node cd<block>-n1 (4 x RTX 3090) with SSH on 127.0.11.<block> and its BMC on
// 127.0.12.<block>, a store, and a ClusterDriver wired as `apply` wires it: Redfish BMCs
// from the inventory, SSH with host keys in the store, the inventory's key file.
class DriverLab {
 public:
  explicit DriverLab(int block) : fleet_(std::make_unique<redfish::RedfishFleet>(FastFleet())) {
    setenv(kPasswordVar, kPassword, 1);
    dir_ = tmp_.Join("lab");
    name_ = "cd" + std::to_string(block) + "-n1";
    std::ostringstream y;
    y << "site: cdtest\n"
         "defaults:\n"
         "  bmc: {driver: redfish, username: admin, password: {env: "
      << kPasswordVar
      << "}}\n"
         "  ssh: {user: root, port: "
      << racksmith::testing::FreeLoopbackPort() << ", key: " << dir_
      << "/keys/client_ed25519}\n"
         "  image: ubuntu-22.04-gpu\n"
         "  software: {nvidia_driver: \"525.147.05\", cuda: \"12.0\"}\n"
         "  burnin: standard\n"
         "  vars: {firmware_images: {bios: \"http://127.0.0.1:9/fw/bios-{version}.bin\"}}\n"
         "  mounts: [home]\n"
         "mounts:\n"
         "  home: {type: nfs, source: \"10.0.9.1:/export/home\", target: /home, options: [rw]}\n"
         "profiles:\n"
         "  cd-3090:\n"
         "    hardware: {gpus: {model: \"NVIDIA GeForce RTX 3090\", count: 4}, memory_gib: 256}\n"
         "racks:\n"
         "  - name: cd-r"
      << block
      << "\n    nodes:\n"
         "      - {name: "
      << name_ << ", profile: cd-3090, ip: 127.0.11." << block << ", bmc: \"http://127.0.12."
      << block << ":" << racksmith::testing::FreeLoopbackPort() << "\"}\n";
    inventory_path_ = tmp_.Write("inventory.yaml", y.str());
    inv_ = plan::testing::MustLoad(y.str(), inventory_path_);
    node_ = inv_.FindNode(name_);
    store_ = plan::testing::MustOpenMemory(clock_);
    REQUIRE(store_->EnsureNodes({name_}, state::NodeState::kNew).ok());
    host_keys_ = std::make_unique<ssh::StateHostKeyStore>(*store_);
    transport::TransportOptions t;
    t.connect_timeout = std::chrono::seconds(3);
    transport_ = std::make_unique<ssh::SshTransport>(*host_keys_, t);
    plan_ = plan::BuildPlan(inv_, plan::Observed{}, plan::Policy{});
    REQUIRE(plan_.nodes.size() == 1);
    options.poll_interval_ms = 100;
    options.boot_timeout_ms = 60'000;  // generous: a loaded 2-core CI machine boots slowly
    options.power_timeout_ms = 10'000;
    options.playbooks_dir = SourcePath("playbooks");
  }
  ~DriverLab() {
    driver_.reset();
    fleet_.reset();  // log out and close the connections while the BMCs still answer
    Lab({"down"});
  }

  void Up() {
    CliResult r =
        RunCli({"-i", inventory_path_, "lab", "--dir", dir_, "up", "--speed", "100"}, Env());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  CliResult Lab(const std::vector<std::string>& args) const {
    std::vector<std::string> all = {"lab", "--dir", dir_};
    all.insert(all.end(), args.begin(), args.end());
    return RunCli(all, Env());
  }
  void Fault(const std::string& fault) {
    CliResult r = Lab({"fault", name_, fault});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }

  ClusterDriver& Driver() {
    if (!driver_) {
      SshAccess ssh;
      ssh.transport = transport_.get();
      ssh.host_keys = host_keys_.get();
      driver_ = std::make_unique<ClusterDriver>(inv_, RedfishBmcFactory(*fleet_), ssh, nullptr,
                                                clock_, options, store_.get());
    }
    return *driver_;
  }
  StepContext Ctx() {
    StepContext c;
    c.node_plan = &plan_.nodes.front();
    c.node = node_;
    c.interrupt = &interrupt_;
    c.store = store_.get();
    c.deadline_ms = clock_.MonotonicMillis() + 90'000;
    return c;
  }
  const plan::Step& PlanStep(const std::string& suffix) {
    for (const auto& s : plan_.nodes.front().steps) {
      if (s.id == name_ + "/" + suffix) return s;
    }
    static const plan::Step none;
    FAIL("no step " << suffix);
    return none;
  }
  StepOutcome Run(const plan::Step& step) { return Driver().Run(step, Ctx()); }
  GuardVerdict Guard(const plan::Step& step) { return Driver().CheckGuard(step, Ctx()).verdict; }

  std::string NodeFile(const std::string& relative) const {
    return ReadFile(dir_ + "/nodes/" + name_ + "/" + relative);
  }
  const std::string& name() const { return name_; }
  const inventory::Node& node() const { return *node_; }
  state::Store& store() { return *store_; }
  std::string Write(const std::string& relative, const std::string& content) const {
    return tmp_.Write(relative, content);
  }
  std::string Path(const std::string& relative) const { return tmp_.Join(relative); }

  ClusterDriverOptions options;

 private:
  CliOptions Env() const {
    CliOptions o;
    o.env[kPasswordVar] = kPassword;
    o.timeout_s = 60;
    return o;
  }

  TempDir tmp_;
  std::string dir_, name_, inventory_path_;
  inventory::Inventory inv_;
  const inventory::Node* node_ = nullptr;
  SystemClock clock_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<transport::HostKeyStore> host_keys_;
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<redfish::RedfishFleet> fleet_;
  plan::Plan plan_;
  Interrupt interrupt_;
  std::unique_ptr<ClusterDriver> driver_;
};

#define REQUIRE_SUCCEEDED(out)                                       \
  do {                                                               \
    INFO("error: " << (out).error << "\noutput:\n" << (out).output); \
    REQUIRE((out).kind == StepOutcome::Kind::kSucceeded);            \
  } while (0)

TEST_CASE("discover records the BMC's facts and fails a node whose GPUs are not all there",
          "[exec][lab]") {
  DriverLab lab(1);
  lab.Up();
  const plan::Step& discover = lab.PlanStep("discover/hardware");
  StepOutcome out = lab.Run(discover);
  REQUIRE_SUCCEEDED(out);
  auto facts = lab.store().LatestBmcFacts(lab.name());
  REQUIRE(facts.ok());
  REQUIRE(facts->has_value());
  auto hw = plan::ParseHardwareFacts((*facts)->facts_json);
  REQUIRE(hw.ok());
  CHECK(hw->gpu_models.size() == 4);
  CHECK(lab.Driver().FirmwareGroup(lab.node()) == "Racksmith Lab");  // the BMC's vendor

  lab.Fault("bmc-gpu-missing");
  out = lab.Run(discover);
  CHECK(out.kind == StepOutcome::Kind::kFailed);
  CHECK(out.error ==
        "hardware does not match profile cd-3090: 3 GPUs, expected 4 x NVIDIA GeForce RTX 3090");
  // The mismatching facts are recorded: the planner quarantines the node from them.
  auto latest = lab.store().LatestBmcFacts(lab.name());
  REQUIRE(latest.ok());
  CHECK(plan::ParseHardwareFacts((*latest)->facts_json)->gpu_models.size() == 3);

  lab.Fault("bmc-503");
  out = lab.Run(discover);
  INFO(out.error);
  CHECK(out.kind == StepOutcome::Kind::kTransient);
}

TEST_CASE("image boots the node from the network through its BMC and writes the image marker",
          "[exec][lab]") {
  DriverLab lab(2);
  lab.Up();
  const plan::Step& image = lab.PlanStep("image");
  CHECK(lab.Guard(image) == GuardVerdict::kNotDone);
  std::string boot_before = lab.NodeFile("boot_id");
  std::ofstream(lab.Path("lab/nodes/" + lab.name() + "/root/etc/canary")) << "old root\n";

  StepOutcome out = lab.Run(image);
  REQUIRE_SUCCEEDED(out);
  CHECK(lab.NodeFile("boot_id") != boot_before);
  CHECK(lab.NodeFile("root/etc/canary").empty());  // the root is a fresh copy of the image
  std::string marker = lab.NodeFile("root/etc/racksmith/image");
  CHECK_THAT(marker, Catch::Contains("image=ubuntu-22.04-gpu\nhash=" + image.hash + "\n"));
  CHECK(lab.Guard(image) == GuardVerdict::kDone);
  CHECK_THAT(out.output, Catch::Contains("boot override: Pxe, once"));
}

TEST_CASE("an image whose network boot falls back to the old root fails instead of succeeding",
          "[exec][lab]") {
  DriverLab lab(2);
  lab.Up();
  const plan::Step& image = lab.PlanStep("image");
  REQUIRE_SUCCEEDED(lab.Run(image));
  std::string first = lab.NodeFile("root/etc/racksmith/image");
  std::ofstream(lab.Path("lab/nodes/" + lab.name() + "/root/etc/canary")) << "old root\n";

  lab.Fault("pxe-fails");  // the node reboots, but from its disk
  std::string boot_before = lab.NodeFile("boot_id");
  StepOutcome out = lab.Run(image);
  INFO(out.output);
  CHECK(out.kind == StepOutcome::Kind::kFailed);
  CHECK_THAT(out.error, Catch::Contains("came back with its old root"));
  CHECK(lab.NodeFile("boot_id") != boot_before);              // it did reboot
  CHECK(lab.NodeFile("root/etc/canary") == "old root\n");     // into the old root
  CHECK(lab.NodeFile("root/etc/racksmith/image") == first);  // its marker left as it was
  // Resumed after a crash, the same image must not pass for done: the marker is an earlier
  // image's with this hash, in the root the reimage was meant to replace.
  CHECK(lab.Guard(image) == GuardVerdict::kNotDone);

  lab.Fault("clear");
  REQUIRE_SUCCEEDED(lab.Run(image));
  CHECK(lab.NodeFile("root/etc/canary").empty());
}

TEST_CASE("install runs the component's playbook with its version and proves it with a marker",
          "[exec][lab]") {
  DriverLab lab(3);
  // The shipped nvidia-driver.yaml reboots with `systemctl reboot` and starts
  // nvidia-persistenced, which the lab's tools do not simulate (yet); this test ships a
  // playbook of the same name that installs and checks the driver the same way.
  lab.Write("playbooks/nvidia-driver.yaml", R"(name: nvidia driver (lab)
vars:
  driver_version: "{{ node.software.nvidia_driver }}"
tasks:
  - name: driver packages at the inventory's version
    package: {name: "nvidia-driver-{{ driver_version.split('.')[0] }}", version: "{{ driver_version }}"}
  - name: the driver answers with the inventory's version
    shell: nvidia-smi --query-gpu=driver_version --format=csv,noheader | sort -u
    register: smi
    changed_when: false
    failed_when: smi.stdout | trim != driver_version
)");
  lab.options.playbooks_dir = lab.Path("playbooks");
  lab.Up();
  const plan::Step& driver = lab.PlanStep("install/nvidia_driver");
  CHECK(lab.Guard(driver) == GuardVerdict::kNotDone);
  StepOutcome out = lab.Run(driver);
  REQUIRE_SUCCEEDED(out);
  CHECK_THAT(lab.NodeFile("root/var/lib/racksmith-lab/packages.json"),
             Catch::Contains("\"nvidia-driver-525\": \"525.147.05"));
  CHECK_THAT(lab.NodeFile("root/etc/racksmith/components/nvidia_driver"),
             Catch::Contains("version=525.147.05\nhash=" + driver.hash + "\n"));
  CHECK(lab.Guard(driver) == GuardVerdict::kDone);
  plan::Step newer = driver;
  newer.hash = std::string(64, 'a');
  CHECK(lab.Guard(newer) == GuardVerdict::kNotDone);

  // Removal takes the package away and the marker with it.
  plan::Step remove = driver;
  remove.kind = plan::StepKind::kRemove;
  remove.from_version = "525.147.05";
  CHECK(lab.Guard(remove) == GuardVerdict::kNotDone);
  StepOutcome removed = lab.Run(remove);
  REQUIRE_SUCCEEDED(removed);
  CHECK(lab.Guard(remove) == GuardVerdict::kDone);
  CHECK_THAT(lab.NodeFile("root/var/lib/racksmith-lab/packages.json"),
             !Catch::Contains("nvidia-driver-525"));
}

TEST_CASE("mount runs the shipped mounts playbook and proves it with a marker", "[exec][lab]") {
  DriverLab lab(4);
  lab.Up();
  const plan::Step& mount = lab.PlanStep("mount/mounts");
  StepOutcome mounted = lab.Run(mount);
  REQUIRE_SUCCEEDED(mounted);
  CHECK_THAT(lab.NodeFile("root/etc/fstab"),
             Catch::Contains("10.0.9.1:/export/home /home nfs rw,_netdev 0 0"));
  CHECK_THAT(lab.NodeFile("root/var/lib/racksmith-lab/mounts.json"), Catch::Contains("/home"));
  CHECK(lab.Guard(mount) == GuardVerdict::kDone);
}

TEST_CASE("burn-in passes a healthy node and names the missing GPU or the failed dcgmi test",
          "[exec][lab]") {
  DriverLab lab(5);
  lab.Up();
  const plan::Step& burnin = lab.PlanStep("burnin");
  StepOutcome out = lab.Run(burnin);
  REQUIRE_SUCCEEDED(out);
  auto results = lab.store().BurninResults(lab.name());
  REQUIRE(results.ok());
  REQUIRE(results->size() == 1);
  CHECK(results->back().passed);
  CHECK_THAT(results->back().summary_json, Catch::Contains("\"Page Retirement/Row Remap\""));

  lab.Fault("gpu-missing");
  out = lab.Run(burnin);
  CHECK(out.kind == StepOutcome::Kind::kFailed);
  CHECK(out.error == "GPU 3: missing (expected 4 x NVIDIA GeForce RTX 3090)");

  REQUIRE(lab.Lab({"fault", lab.name(), "clear"}).exit_code == 0);
  lab.Fault("ecc");
  out = lab.Run(burnin);
  CHECK(out.kind == StepOutcome::Kind::kFailed);
  CHECK_THAT(out.error, Catch::StartsWith("dcgmi diag: Page Retirement/Row Remap failed on GPUs "
                                          "0,1,2,3: GPU 0 had uncorrectable memory errors"));
  results = lab.store().BurninResults(lab.name());
  REQUIRE(results->size() == 3);
  CHECK_FALSE(results->back().passed);

  // The guard of a burn-in a stopped run left in flight: a pass recorded since it started
  // is done, unless that burn-in was for other settings (another hash) than this one.
  REQUIRE(lab.Lab({"fault", lab.name(), "clear"}).exit_code == 0);
  REQUIRE(lab.store().EnsureNodes({lab.name()}, state::NodeState::kNew).ok());
  Result<int64_t> run = lab.store().BeginRun({"racksmith apply", "tester", "host", 1});
  REQUIRE(run.ok());
  plan::Step step = burnin;
  step.hash = "0123456789abcdef0123";
  auto in_flight = [&](const std::string& hash) {
    state::StepIntent intent{*run, lab.name(), "burnin", step.component,
                             "{\"hash\":\"" + hash + "\"}", 1};
    REQUIRE(lab.store().StartStep(intent, std::nullopt, state::Store::Sync::kCrashSafe).ok());
    REQUIRE_SUCCEEDED(lab.Run(step));  // the killed run's burn-in got as far as its result
  };
  in_flight(step.hash);
  CHECK(lab.Guard(step) == GuardVerdict::kDone);
  in_flight("fedcba9876543210fedc");
  GuardResult other = lab.Driver().CheckGuard(step, lab.Ctx());
  CHECK(other.verdict == GuardVerdict::kNotDone);
  CHECK(other.evidence ==
        "the burn-in in flight was for other settings (hash fedcba987654, now 0123456789ab): "
        "it runs again");
}

TEST_CASE("firmware is flashed and power_off turns the node off through its BMC", "[exec][lab]") {
  DriverLab lab(6);
  lab.Up();
  plan::Step bios;
  bios.id = lab.name() + "/firmware/bios";
  bios.node = lab.name();
  bios.kind = plan::StepKind::kFirmware;
  bios.component = "bios";
  bios.to_version = "2.20.1";
  bios.destructive = true;
  CHECK(lab.Guard(bios) == GuardVerdict::kNotDone);
  StepOutcome flashed = lab.Run(bios);
  REQUIRE_SUCCEEDED(flashed);
  CHECK_THAT(flashed.output, Catch::Contains("BIOS 2.19.1 -> 2.20.1 from "
                                             "http://127.0.0.1:9/fw/bios-2.20.1.bin"));
  CHECK(lab.Guard(bios) == GuardVerdict::kDone);
  StepOutcome again = lab.Run(bios);
  REQUIRE_SUCCEEDED(again);
  CHECK_THAT(again.output, Catch::Contains("BIOS already at 2.20.1"));
  plan::Step nic = bios;
  nic.component = "firmware_nic";
  StepOutcome no_nic = lab.Run(nic);
  CHECK(no_nic.kind == StepOutcome::Kind::kFailed);
  CHECK_THAT(no_nic.error, Catch::Contains("reports no firmware component for 'nic' (it has: "));

  plan::Step off;
  off.id = lab.name() + "/power_off";
  off.node = lab.name();
  off.kind = plan::StepKind::kPowerOff;
  off.destructive = true;
  CHECK(lab.Guard(off) == GuardVerdict::kNotDone);
  StepOutcome done = lab.Run(off);
  REQUIRE_SUCCEEDED(done);
  CHECK_THAT(lab.NodeFile("power"), Catch::StartsWith("Off"));
  CHECK(lab.Guard(off) == GuardVerdict::kDone);
  StepOutcome off_again = lab.Run(off);
  REQUIRE_SUCCEEDED(off_again);
  CHECK_THAT(off_again.output, Catch::Contains("already off"));

  // A node that is off refuses connections: worth retrying, not a failure.
  StepOutcome burnin = lab.Run(lab.PlanStep("burnin"));
  INFO(burnin.error);
  CHECK(burnin.kind == StepOutcome::Kind::kTransient);
}

}  // namespace
}  // namespace racksmith::exec
