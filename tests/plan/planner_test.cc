// The planner, one behaviour per test, on small inventories and in-memory stores.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "plan_test_util.h"
#include "support/golden.h"

namespace racksmith::plan {
namespace {

using testing::Find;
using testing::MustLoad;
using testing::MustObserve;
using testing::MustOpenMemory;
using testing::SeedConverged;
using testing::SimulateApply;
using testing::StepNames;
using racksmith::testing::ReplaceAll;

// Eight 4-GPU nodes in one rack and four in another, all in partition gpu.
constexpr const char* kSite = R"(site: t
defaults:
  bmc: {driver: redfish, username: admin, password: {env: BMC_PW}}
  image: ubuntu-22.04-gpu
  firmware: {bios: "2.19.1", bmc: "7.10.30.00"}
  software: {nvidia_driver: "DRIVER", cuda: "12.4", slurm: "23.11.4"}
  mounts: [home]
  burnin: standard
profiles:
  gpu4:
    hardware: {gpus: {model: "NVIDIA A100-SXM4-80GB", count: 4}, memory_gib: 512, cpus: 64}
    slurm: {partitions: [gpu]}
mounts:
  home: {type: nfs, source: "nfs1:/export/home", target: /home, options: [rw]}
racks:
  - name: r01
    nodes:
      - {name: "n[01-08]", profile: gpu4, bmc: "10.0.0.[1-8]", ip: "10.1.0.[1-8]"}
  - name: r02
    nodes:
      - {name: "n[09-12]", profile: gpu4, bmc: "10.0.0.[9-12]", ip: "10.1.0.[9-12]"}
)";

std::string Site(const std::string& driver = "550.54.15") {
  return ReplaceAll(kSite, "DRIVER", driver);
}

Policy Permissive() {
  Policy p;
  p.max_unavailable_per_partition = {true, 100};
  p.max_unavailable_per_rack = {true, 100};
  return p;
}

TEST_CASE("a new node gets discovery, firmware, image, software, Slurm, mounts, burn-in, admit",
          "[plan]") {
  inventory::Inventory inv = MustLoad(Site());
  Plan plan = BuildPlan(inv, Observed{}, Policy{});
  const NodePlan* np = Find(plan, "n01");
  REQUIRE(np != nullptr);
  CHECK(np->action == NodeAction::kAdd);
  CHECK(np->wave == 0);
  CHECK(StepNames(*np) == std::vector<std::string>{
                              "discover/hardware", "firmware/bmc_firmware", "firmware/bios",
                              "image/image", "install/nvidia_driver", "install/cuda",
                              "configure/slurm", "mount/mounts", "burnin/burnin", "admit"});
  CHECK(plan.summary.add == 12);
  CHECK(np->steps.front().on_success == NodeState::kDiscovered);
  CHECK(np->steps.back().on_success == NodeState::kActive);
}

TEST_CASE("every step needs only earlier steps of its own node, and ids are unique", "[plan]") {
  inventory::Inventory inv = MustLoad(Site());
  Plan plan = BuildPlan(inv, Observed{}, Policy{});
  for (const NodePlan& np : plan.nodes) {
    std::set<std::string> seen;
    for (const Step& s : np.steps) {
      for (const std::string& need : s.needs) CHECK(seen.count(need) == 1);
      CHECK(seen.insert(s.id).second);
      CHECK(s.node == np.node);
    }
  }
  // Slurm and mounts are independent of each other; burn-in needs both.
  const NodePlan* np = Find(plan, "n01");
  const Step& slurm = np->steps[6];
  const Step& mounts = np->steps[7];
  const Step& burnin = np->steps[8];
  CHECK(slurm.needs == mounts.needs);
  CHECK(burnin.needs == std::vector<std::string>{slurm.id, mounts.id});
}

TEST_CASE("an unchanged cluster plans nothing", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(Site());
  SeedConverged(*store, inv);
  Plan plan = BuildPlan(inv, MustObserve(*store), Policy{});
  CHECK(plan.summary.steps == 0);
  CHECK(plan.summary.unchanged == 12);
}

TEST_CASE("a driver upgrade drains, installs, burns in and admits, naming the inventory line",
          "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  inventory::Inventory inv = MustLoad(Site("560.35.03"));
  Plan plan = BuildPlan(inv, MustObserve(*store), Permissive());
  const NodePlan* np = Find(plan, "n03");
  CHECK(np->action == NodeAction::kChange);
  CHECK(StepNames(*np) ==
        std::vector<std::string>{"drain", "install/nvidia_driver", "burnin/burnin", "admit"});
  CHECK(np->steps[1].reason == "nvidia_driver 550.54.15 -> 560.35.03 (inventory/site.yaml:6)");
  CHECK(np->steps[1].from_version == "550.54.15");
  CHECK(np->steps[1].to_version == "560.35.03");
  CHECK(np->steps[2].reason == "burnin standard: after changes to nvidia_driver");
  CHECK(np->steps[0].on_success == NodeState::kMaintenance);
  CHECK_FALSE(np->steps[1].destructive);
  CHECK(plan.summary.change == 12);
}

LiveComponent Live(std::string version, std::string hash, bool missing, std::string evidence,
                   std::vector<std::string> changed_files = {}) {
  return {std::move(version), std::move(hash), missing, std::move(evidence),
          std::move(changed_files)};
}

TEST_CASE("live facts that disagree with the record plan steps to bring the node back",
          "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(Site());
  SeedConverged(*store, inv);
  Observed observed = MustObserve(*store);
  // n01: someone installed another driver and deleted Slurm's marker.
  LiveFacts& n01 = observed.live["n01"];
  n01.power = "On";
  n01.components["nvidia_driver"] = Live("535.104.05", "", false, "nvidia-smi");
  n01.components["slurm"] = Live("", "", true, "no /etc/racksmith/components/slurm");
  // n02: nvcc reports major.minor of the recorded toolkit; the BIOS matches: no drift.
  LiveFacts& n02 = observed.live["n02"];
  n02.power = "On";
  n02.components["cuda"] = Live("12.4", "", false, "nvcc --version");
  n02.components["bios"] = Live("2.19.1", "", false, "BMC: firmware BIOS");
  // n03: powered off while recorded active.
  observed.live["n03"].power = "Off";
  observed.live["n03"].power_evidence = "BMC https://10.0.0.3: PowerState Off";
  // n04: SSH did not answer.
  observed.live["n04"].power = "On";
  observed.live["n04"].unreadable.push_back("SSH: connection refused");

  Plan plan = BuildPlan(inv, observed, Permissive());
  const NodePlan* np = Find(plan, "n01");
  CHECK(np->action == NodeAction::kChange);
  CHECK(StepNames(*np) == std::vector<std::string>{"drain", "install/nvidia_driver",
                                                   "configure/slurm", "burnin/burnin", "admit"});
  CHECK(np->steps[1].reason ==
        "nvidia_driver 550.54.15 again: drift: nvidia_driver is 535.104.05 on the node "
        "(nvidia-smi), the record says 550.54.15");
  CHECK(np->steps[2].reason ==
        "slurm 23.11.4 again: drift: slurm is missing on the node (no "
        "/etc/racksmith/components/slurm), the record says 23.11.4");
  CHECK(np->steps[1].to_version == "550.54.15");
  CHECK(np->wave >= 1);  // a rolling change like any other
  CHECK(Find(plan, "n02")->steps.empty());
  const NodePlan* off = Find(plan, "n03");
  CHECK(off->action == NodeAction::kHeld);
  CHECK(off->steps.empty());
  REQUIRE(off->notes.size() == 1);
  CHECK(off->notes[0].find("power Off (BMC https://10.0.0.3: PowerState Off)") !=
        std::string::npos);
  const NodePlan* silent = Find(plan, "n04");
  CHECK(silent->steps.empty());
  CHECK(silent->notes == std::vector<std::string>{"refresh: SSH: connection refused"});
  CHECK(Find(plan, "n05")->action == NodeAction::kUnchanged);  // not refreshed

  // Once applied (the records say the same again) and the node reads right, nothing is left.
  observed.live["n01"].components.clear();
  observed.live.erase("n03");
  observed.live.erase("n04");
  CHECK(BuildPlan(inv, observed, Permissive()).summary.steps == 0);
}

TEST_CASE("drift compares versions by release and markers by hash", "[plan]") {
  state::ComponentRecord r{"n1", "cuda", "12.4.1", "aaaabbbbccccdddd", 0, 0};
  CHECK_FALSE(DriftOf(r, Live("12.4", "", false, "nvcc")));
  CHECK_FALSE(DriftOf(r, Live("12.4.1", "aaaabbbbccccdddd", false, "nvcc")));
  CHECK(DriftOf(r, Live("12.6", "", false, "nvcc")) ==
        std::string("cuda is 12.6 on the node (nvcc), the record says 12.4.1"));
  CHECK(DriftOf(r, Live("12.41", "", false, "nvcc")).has_value());  // not a release of 12.4
  CHECK(DriftOf(r, Live("", "eeeeffff00001111", false, "/etc/racksmith/components/cuda")) ==
        std::string("cuda on the node was applied from eeeeffff0000 "
                    "(/etc/racksmith/components/cuda), the record says aaaabbbbcccc"));
  CHECK(DriftOf(r, Live("", "", true, "no marker")) ==
        std::string("cuda is missing on the node (no marker), the record says 12.4.1"));
  CHECK(DriftOf(r, Live("12.4.1", "aaaabbbbccccdddd", false, "/etc/racksmith/components/cuda",
                        {"/etc/profile.d/cuda.sh (missing)"})) ==
        std::string("cuda: files it wrote were changed on the node: /etc/profile.d/cuda.sh "
                    "(missing)"));
  CHECK_FALSE(DriftOf(r, LiveComponent{}));
}

TEST_CASE("an image change reinstalls everything that lives on the image", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  inventory::Inventory inv =
      MustLoad(ReplaceAll(Site(), "image: ubuntu-22.04-gpu", "image: ubuntu-24.04-gpu"));
  Plan plan = BuildPlan(inv, MustObserve(*store), Permissive());
  const NodePlan* np = Find(plan, "n01");
  CHECK(StepNames(*np) == std::vector<std::string>{"drain", "image/image", "install/nvidia_driver",
                                                   "install/cuda", "configure/slurm",
                                                   "mount/mounts", "burnin/burnin", "admit"});
  CHECK(np->steps[1].destructive);
  CHECK(np->steps[2].reason == "nvidia_driver 550.54.15: again after changes to image");
}

TEST_CASE("a component the inventory no longer lists is removed", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory with_nccl = MustLoad(
      ReplaceAll(Site(), "slurm: \"23.11.4\"}", "slurm: \"23.11.4\", nccl: \"2.21.5\"}"));
  SeedConverged(*store, with_nccl);
  Plan plan = BuildPlan(MustLoad(Site()), MustObserve(*store), Permissive());
  const NodePlan* np = Find(plan, "n01");
  CHECK(StepNames(*np) == std::vector<std::string>{"drain", "remove/nccl", "burnin/burnin", "admit"});
  CHECK(np->steps[1].reason == "nccl 2.21.5 -> none: no longer in the inventory");
}

// A converged cluster whose inventory retires n[09-12]; erase confirmed unless a test says.
struct RetireFixture {
  FakeClock clock;
  std::unique_ptr<state::Store> store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(ReplaceAll(
      Site(), "ip: \"10.1.0.[9-12]\"}", "ip: \"10.1.0.[9-12]\", state: retired}"));
  Policy policy = Permissive();

  RetireFixture() {
    SeedConverged(*store, MustLoad(Site()));
    policy.confirm_erase = true;
  }
  Plan Build() { return BuildPlan(inv, MustObserve(*store), policy); }
};

TEST_CASE("a node the inventory retires is drained and held without erase confirmation",
          "[plan]") {
  RetireFixture f;
  f.policy.confirm_erase = false;
  Plan plan = f.Build();
  const NodePlan* np = Find(plan, "n10");
  CHECK(np->action == NodeAction::kRetire);
  CHECK(StepNames(*np) == std::vector<std::string>{"drain"});
  CHECK(np->steps[0].on_success == NodeState::kRetiring);
  CHECK(np->notes == std::vector<std::string>{
                         "held in retiring: erasing its disks needs --confirm-erase"});
  for (const NodePlan& n : plan.nodes) {
    for (const Step& s : n.steps) CHECK(s.kind != StepKind::kErase);
  }
}

TEST_CASE("a retired node with erase confirmed is erased, powered off and recorded retired",
          "[plan]") {
  RetireFixture f;
  Plan plan = f.Build();
  const NodePlan* np = Find(plan, "n10");
  CHECK(StepNames(*np) == std::vector<std::string>{"drain", "erase", "power_off", "retire"});
  CHECK(np->steps[1].destructive);
  CHECK(np->steps[2].destructive);
  CHECK(np->steps[3].on_success == NodeState::kRetired);
  CHECK(plan.summary.retire == 4);
  CHECK(Find(plan, "n01")->steps.empty());
  SimulateApply(*f.store, f.inv, plan);
  CHECK(f.store->GetNode("n10")->state == state::NodeState::kRetired);
  CHECK(f.Build().summary.steps == 0);
}

TEST_CASE("a failed node the inventory retires waits for --retry-failed before its erase",
          "[plan]") {
  RetireFixture f;
  // Failed, e.g. by an erase whose guard could not tell whether it finished.
  PLAN_REQUIRE_OK(f.store->SetNodeState("n10", state::NodeState::kFailed,
                                        "n10/erase was in flight when the last run stopped", 0));
  Plan held = f.Build();
  const NodePlan* np = Find(held, "n10");
  CHECK(np->action == NodeAction::kHeld);
  CHECK(np->steps.empty());
  CHECK(np->notes == std::vector<std::string>{
                         "failed (n10/erase was in flight when the last run stopped); retiring "
                         "it erases its disks: check the node, then plan with --retry-failed"});
  CHECK(StepNames(*Find(held, "n09")) ==
        std::vector<std::string>{"drain", "erase", "power_off", "retire"});
  f.policy.retry_failed = true;
  Plan retry = f.Build();
  CHECK(StepNames(*Find(retry, "n10")) ==
        std::vector<std::string>{"erase", "power_off", "retire"});
}

TEST_CASE("an erase is planned again when anything but the retirement ran after its last one",
          "[plan]") {
  RetireFixture f;
  f.policy.retry_failed = true;
  Result<int64_t> run = f.store->BeginRun({"racksmith apply", "ops", "ctl", 1});
  PLAN_REQUIRE_OK(run);
  auto journal = [&](const std::string& kind, state::StepStatus status) {
    Result<int64_t> id = f.store->StartStep({*run, "n10", kind, "", "{}", 1}, std::nullopt,
                                            state::Store::Sync::kCrashSafe);
    PLAN_REQUIRE_OK(id);
    PLAN_REQUIRE_OK(f.store->FinishStep(*id, {status, "", "", std::nullopt}, std::nullopt, false,
                                        state::Store::Sync::kCrashSafe));
    return *id;
  };
  journal("erase", state::StepStatus::kSucceeded);
  const int64_t erase = journal("erase", state::StepStatus::kSucceeded);
  journal("power_off", state::StepStatus::kFailed);
  PLAN_REQUIRE_OK(f.store->SetNodeState("n10", state::NodeState::kFailed, "power_off failed", 0));
  Plan plan = f.Build();
  CHECK(StepNames(*Find(plan, "n10")) == std::vector<std::string>{"power_off", "retire"});
  CHECK(Find(plan, "n10")->notes ==
        std::vector<std::string>{"disks erased already (step " + std::to_string(erase) +
                                 "); not erased again"});
  CHECK(Find(plan, "n10")->steps[0].on_start == NodeState::kRetiring);
  // A failed erase after it does not undo it; an image since does, even a failed one (it
  // may have written to the disks).
  journal("erase", state::StepStatus::kFailed);
  CHECK(StepNames(*Find(f.Build(), "n10")) == std::vector<std::string>{"power_off", "retire"});
  journal("image", state::StepStatus::kFailed);
  CHECK(StepNames(*Find(f.Build(), "n10")) ==
        std::vector<std::string>{"erase", "power_off", "retire"});
  // Erased again; then brought back into service without an image (its profile has none)
  // and retired once more: those disks have held data since, they are erased again.
  journal("erase", state::StepStatus::kSucceeded);
  CHECK(StepNames(*Find(f.Build(), "n10")) == std::vector<std::string>{"power_off", "retire"});
  journal("install", state::StepStatus::kSucceeded);
  journal("admit", state::StepStatus::kSucceeded);
  CHECK(StepNames(*Find(f.Build(), "n10")) ==
        std::vector<std::string>{"erase", "power_off", "retire"});
}

TEST_CASE("a node whose BMC reports a missing GPU is quarantined and never admitted", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(Site());
  DiscoveredHardware three = testing::MatchingHardware(inv.nodes[1]);
  three.gpu_models.pop_back();
  PLAN_REQUIRE_OK(store->RecordBmcFacts("n02", testing::FactsJson(three)));
  Plan plan = BuildPlan(inv, MustObserve(*store), Policy{});
  const NodePlan* np = Find(plan, "n02");
  CHECK(np->action == NodeAction::kQuarantine);
  CHECK(StepNames(*np) == std::vector<std::string>{"quarantine/hardware"});
  CHECK(np->steps[0].reason ==
        "hardware does not match profile gpu4: 3 GPUs, expected 4 x NVIDIA A100-SXM4-80GB");
  CHECK(np->steps[0].on_success == NodeState::kFailed);
  SimulateApply(*store, inv, plan);
  CHECK(store->GetNode("n02")->state == state::NodeState::kFailed);
  Plan again = BuildPlan(inv, MustObserve(*store), Policy{});
  CHECK(Find(again, "n02")->steps.empty());
  CHECK(Find(again, "n02")->action == NodeAction::kHeld);
}

TEST_CASE("a discovery that finds the wrong GPU model stops the node in failed", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(Site());
  Plan plan = BuildPlan(inv, Observed{}, Policy{});
  DiscoveredHardware wrong = testing::MatchingHardware(inv.nodes[0]);
  wrong.gpu_models[2] = "NVIDIA A100-SXM4-40GB";
  auto outcome = SimulateApply(*store, inv, plan, {{"n01", wrong}});
  CHECK(outcome.failed == std::vector<std::string>{"n01"});
  Result<state::NodeRecord> n01 = store->GetNode("n01");
  CHECK(n01->state == state::NodeState::kFailed);
  CHECK(n01->reason == "1 GPU is NVIDIA A100-SXM4-40GB, expected NVIDIA A100-SXM4-80GB");
  CHECK(store->GetNode("n02")->state == state::NodeState::kActive);
}

TEST_CASE("a failed node is held unless retry is asked, and then re-verified first", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(Site());
  SeedConverged(*store, inv);
  PLAN_REQUIRE_OK(store->SetNodeState("n04", state::NodeState::kFailed, "burn-in: GPU 2 hot", 0));
  Plan held = BuildPlan(inv, MustObserve(*store), Policy{});
  CHECK(Find(held, "n04")->action == NodeAction::kHeld);
  CHECK(Find(held, "n04")->notes.front() ==
        "quarantined (failed: burn-in: GPU 2 hot); repair it, then plan with --retry-failed");
  Policy retry;
  retry.retry_failed = true;
  Plan plan = BuildPlan(inv, MustObserve(*store), retry);
  CHECK(StepNames(*Find(plan, "n04")) ==
        std::vector<std::string>{"discover/hardware", "burnin/burnin", "admit"});
}

TEST_CASE("a node the inventory puts in maintenance is drained and kept out", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  inventory::Inventory inv = MustLoad(ReplaceAll(
      Site(), "ip: \"10.1.0.[9-12]\"}", "ip: \"10.1.0.[9-12]\", state: maintenance}"));
  Plan plan = BuildPlan(inv, MustObserve(*store), Permissive());
  const NodePlan* np = Find(plan, "n09");
  CHECK(StepNames(*np) == std::vector<std::string>{"drain"});
  CHECK(np->steps[0].on_success == NodeState::kMaintenance);
  SimulateApply(*store, inv, plan);
  CHECK(BuildPlan(inv, MustObserve(*store), Permissive()).summary.steps == 0);
  // Back to active: only admission, nothing changed on the node.
  Plan back = BuildPlan(MustLoad(Site()), MustObserve(*store), Permissive());
  CHECK(StepNames(*Find(back, "n09")) == std::vector<std::string>{"admit"});
}

TEST_CASE("a rolling upgrade is cut into waves that respect the rack and partition limits",
          "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  Policy policy;
  policy.max_unavailable_per_rack = {false, 2};
  policy.max_unavailable_per_partition = {true, 25};  // 3 of 12
  Plan plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), policy);
  std::map<int, std::vector<std::string>> waves;
  for (const NodePlan& np : plan.nodes) waves[np.wave].push_back(np.node);
  CHECK(waves[1] == std::vector<std::string>{"n01", "n02", "n09"});
  CHECK(waves[2] == std::vector<std::string>{"n03", "n04", "n10"});
  CHECK(waves[3] == std::vector<std::string>{"n05", "n06", "n11"});
  CHECK(waves[4] == std::vector<std::string>{"n07", "n08", "n12"});
  CHECK(plan.summary.waves == 4);
  // The groups and budgets the executor's sliding window keeps.
  REQUIRE(plan.rolling_groups.size() == 3);
  CHECK(plan.rolling_groups[0].name == "partition gpu");
  CHECK(plan.rolling_groups[0].nodes == 12);
  CHECK(plan.rolling_groups[0].max_unavailable == 3);
  CHECK(plan.rolling_groups[0].budget == 3);
  CHECK(plan.rolling_groups[1].name == "rack r01");
  CHECK(plan.rolling_groups[1].budget == 2);
  CHECK(plan.rolling_groups[2].name == "rack r02");
  CHECK(plan.rolling_groups[2].budget == 2);
  CHECK(Find(plan, "n03")->rolling_groups == std::vector<int>{0, 1});
  CHECK(Find(plan, "n10")->rolling_groups == std::vector<int>{0, 2});
  for (const NodePlan& np : plan.nodes) CHECK_FALSE(np.returning);
}

TEST_CASE(
    "a node a stopped rollout left out of service counts until it is back, and the "
    "others wait for it instead of being held",
    "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  // A killed run had drained n01 for the upgrade.
  PLAN_REQUIRE_OK(store->SetNodeState("n01", state::NodeState::kMaintenance, "upgrade", 0));
  Policy policy;
  policy.max_unavailable_per_rack = {false, 1};
  policy.max_unavailable_per_partition = {true, 100};
  Plan plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), policy);
  const NodePlan* n01 = Find(plan, "n01");
  CHECK(n01->wave == 0);
  CHECK(n01->returning);
  CHECK(n01->rolling_groups == std::vector<int>{0, 1});
  CHECK(StepNames(*n01).back() == "admit");
  REQUIRE(plan.rolling_groups.size() == 3);
  CHECK(plan.rolling_groups[1].name == "rack r01");
  CHECK(plan.rolling_groups[1].returning == 1);
  CHECK(plan.rolling_groups[1].already_out == 0);
  CHECK(plan.rolling_groups[1].budget == 1);  // n01's room, once it is back
  // Rack r01 is full until n01 is back: its nodes wait (first wave after n01), not held.
  CHECK(plan.summary.held == 0);
  CHECK(Find(plan, "n02")->wave == 2);
  CHECK(Find(plan, "n09")->wave == 1);
  CHECK(Find(plan, "n02")->action == NodeAction::kChange);
}

TEST_CASE("a returning node keeps its groups when nothing else rolls", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  // A killed run had drained n01 for a change that is done; nothing else changes.
  PLAN_REQUIRE_OK(store->SetNodeState("n01", state::NodeState::kMaintenance, "upgrade", 0));
  Plan plan = BuildPlan(MustLoad(Site()), MustObserve(*store), Policy{});
  const NodePlan* n01 = Find(plan, "n01");
  REQUIRE_FALSE(n01->steps.empty());
  CHECK(n01->returning);
  CHECK(n01->wave == 0);
  REQUIRE(n01->rolling_groups.size() == 2);
  CHECK(plan.rolling_groups.at(n01->rolling_groups[0]).name == "partition gpu");
  CHECK(plan.rolling_groups.at(n01->rolling_groups[1]).name == "rack r01");
  CHECK(plan.rolling_groups.at(n01->rolling_groups[1]).returning == 1);
  for (const NodePlan& np : plan.nodes) {
    if (np.node != "n01") CHECK(np.steps.empty());
  }
}

TEST_CASE(
    "a node a stopped rollout left in the middle of its change counts as out of "
    "service, a new node being provisioned does not",
    "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  Result<int64_t> run = store->BeginRun({"racksmith apply", "tester", "host", 1});
  REQUIRE(run.ok());
  // n01 was rolled and killed while its driver was being installed (the executor's intent
  // says "wave"); n02 is provisioning without one (as a new node would be).
  state::StepIntent intent{
      *run, "n01", "install", "nvidia_driver", R"({"id":"n01/install/nvidia_driver","wave":1})", 1};
  PLAN_REQUIRE_OK(store->StartStep(
      intent, state::Store::NodeStateChange{state::NodeState::kProvisioning, "upgrade"},
      state::Store::Sync::kCrashSafe));
  PLAN_REQUIRE_OK(store->SetNodeState("n02", state::NodeState::kProvisioning, "", 0));
  Policy policy;
  policy.max_unavailable_per_rack = {false, 2};
  policy.max_unavailable_per_partition = {true, 100};
  Plan plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), policy);
  CHECK(Find(plan, "n01")->returning);
  CHECK_FALSE(Find(plan, "n02")->returning);
  CHECK(Find(plan, "n02")->rolling_groups.empty());
  REQUIRE(plan.rolling_groups.size() == 3);
  CHECK(plan.rolling_groups[1].name == "rack r01");
  CHECK(plan.rolling_groups[1].returning == 1);
  CHECK(plan.rolling_groups[1].already_out == 0);
  CHECK(Find(plan, "n03")->wave == 1);  // beside n01
  CHECK(Find(plan, "n04")->wave == 2);
}

TEST_CASE("new nodes are not limited by max_unavailable", "[plan]") {
  Policy policy;
  policy.max_unavailable_per_rack = {false, 1};
  policy.max_unavailable_per_partition = {false, 1};
  Plan plan = BuildPlan(MustLoad(Site()), Observed{}, policy);
  for (const NodePlan& np : plan.nodes) CHECK(np.wave == 0);
  CHECK(plan.summary.add == 12);
}

TEST_CASE("nodes already out of service use up the budget, and a full group holds changes",
          "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  PLAN_REQUIRE_OK(store->SetNodeState("n09", state::NodeState::kFailed, "PSU", 0));
  Policy policy;
  policy.max_unavailable_per_rack = {false, 1};
  policy.max_unavailable_per_partition = {true, 100};
  Plan plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), policy);
  const NodePlan* np = Find(plan, "n10");
  CHECK(np->action == NodeAction::kHeld);
  CHECK(np->steps.empty());
  CHECK(np->notes.front() ==
        "waits: rack r02 already has 1 of 4 nodes out of service and max_unavailable is 1 (1)");
  CHECK(Find(plan, "n01")->wave == 1);
  CHECK(Find(plan, "n02")->wave == 2);
}

TEST_CASE("a node quarantined by the plan uses up its groups' budget for the rollout beside it",
          "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  inventory::Inventory inv = MustLoad(Site());
  SeedConverged(*store, inv);
  // n09's BMC reports a GPU missing: this plan takes it out at once, whatever the limits.
  DiscoveredHardware three = testing::MatchingHardware(inv.nodes[8]);
  three.gpu_models.pop_back();
  PLAN_REQUIRE_OK(store->RecordBmcFacts("n09", testing::FactsJson(three)));
  Policy policy;
  policy.max_unavailable_per_rack = {false, 2};
  policy.max_unavailable_per_partition = {true, 100};
  Plan plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), policy);
  CHECK(Find(plan, "n09")->action == NodeAction::kQuarantine);
  CHECK(Find(plan, "n09")->wave == 0);
  REQUIRE(plan.rolling_groups.size() == 3);
  CHECK(plan.rolling_groups[2].name == "rack r02");
  CHECK(plan.rolling_groups[2].already_out == 1);
  CHECK(plan.rolling_groups[2].budget == 1);  // 2 allowed, n09 leaves: one more at a time
  CHECK(Find(plan, "n10")->wave == 1);
  CHECK(Find(plan, "n11")->wave == 2);
  CHECK(Find(plan, "n12")->wave == 3);
  CHECK(plan.rolling_groups[1].budget == 2);  // rack r01 is not touched by it

  // With one allowed, the quarantine fills rack r02 and its other nodes wait.
  policy.max_unavailable_per_rack = {false, 1};
  plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), policy);
  CHECK(Find(plan, "n09")->action == NodeAction::kQuarantine);
  const NodePlan* n10 = Find(plan, "n10");
  CHECK(n10->action == NodeAction::kHeld);
  CHECK(n10->notes.front() ==
        "waits: rack r02 already has 1 of 4 nodes out of service (1 quarantined by this plan) "
        "and max_unavailable is 1 (1)");
}

TEST_CASE("nodes in the store that the inventory does not name are listed and left alone",
          "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  PLAN_REQUIRE_OK(store->EnsureNodes({"old2", "old1"}, state::NodeState::kActive));
  Plan plan = BuildPlan(MustLoad(Site()), MustObserve(*store), Policy{});
  CHECK(plan.unknown_nodes == std::vector<std::string>{"old1", "old2"});
  CHECK(plan.nodes.size() == 12);
}

TEST_CASE("a selection plans only the selected nodes", "[plan]") {
  inventory::Inventory inv = MustLoad(Site());
  Result<std::vector<const inventory::Node*>> sel = inventory::Select(inv, "n[02-03]");
  REQUIRE(sel.ok());
  Plan plan = BuildPlan(inv, Observed{}, Policy{}, &*sel);
  REQUIRE(plan.nodes.size() == 2);
  CHECK(plan.nodes[0].node == "n02");
  CHECK(plan.summary.add == 2);
}

TEST_CASE("the text plan groups identical node plans under one hostlist", "[plan]") {
  FakeClock clock;
  auto store = MustOpenMemory(clock);
  SeedConverged(*store, MustLoad(Site()));
  Plan plan = BuildPlan(MustLoad(Site("560.35.03")), MustObserve(*store), Permissive());
  std::string text = RenderPlanText(plan, {"inventory/site.yaml", "state.db", true});
  CHECK(text.find("~ n[01-12] (12 nodes): change, active -> active\n") != std::string::npos);
  CHECK(text.find("Plan: 0 to add, 12 to change, 0 to retire, 0 to quarantine, 0 held, "
                  "0 unchanged (48 steps in 1 wave).") != std::string::npos);
}

TEST_CASE("max_unavailable limits parse as counts or percentages and refuse anything else",
          "[plan]") {
  CHECK(Limit::Parse("3")->value == 3);
  CHECK_FALSE(Limit::Parse("3")->percent);
  CHECK(Limit::Parse("25%")->percent);
  CHECK(Limit::Parse("25%")->Allowed(10) == 2);
  CHECK(Limit::Parse("1%")->Allowed(10) == 1);
  CHECK(Limit::Parse("0")->Allowed(10) == 0);
  for (const char* bad : {"", "%", "-1", "101%", "2x", "1.5"}) {
    Result<Limit> r = Limit::Parse(bad);
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("a component's hash changes exactly when something it renders from changes",
          "[plan]") {
  inventory::Inventory a = MustLoad(Site());
  inventory::Inventory b = MustLoad(ReplaceAll(Site(), "partitions: [gpu]", "partitions: [gpu2]"));
  auto hashes = [](const inventory::Inventory& inv) {
    std::map<std::string, std::string> out;
    for (const DesiredComponent& d : ComponentsOf(inv, inv.nodes[0])) out[d.name] = d.hash;
    return out;
  };
  auto ha = hashes(a), ha2 = hashes(a), hb = hashes(b);
  CHECK(ha == ha2);
  CHECK(ha["slurm"] != hb["slurm"]);
  CHECK(ha["burnin"] != hb["burnin"]);
  for (const char* same : {"hardware", "bios", "bmc_firmware", "image", "nvidia_driver", "cuda",
                           "mounts"}) {
    CHECK(ha[same] == hb[same]);
  }
  CHECK(Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("moving the controller's SSH key file never plans a reimage", "[plan]") {
  std::string with_key = ReplaceAll(Site(), "  image: ubuntu", "  ssh: {key: /etc/racksmith/id_ed25519}\n  image: ubuntu");
  REQUIRE(with_key != Site());
  inventory::Inventory a = MustLoad(with_key);
  inventory::Inventory b = MustLoad(ReplaceAll(with_key, "/etc/racksmith/id_ed25519",
                                               "/srv/keys/racksmith_ed25519"));
  REQUIRE(a.nodes[0].ssh.key_path != b.nodes[0].ssh.key_path);
  auto ca = ComponentsOf(a, a.nodes[0]);
  auto cb = ComponentsOf(b, b.nodes[0]);
  REQUIRE(ca.size() == cb.size());
  for (size_t i = 0; i < ca.size(); ++i) CHECK(ca[i].hash == cb[i].hash);
}

TEST_CASE("BMC facts parse, and hardware mismatches are described", "[plan]") {
  Result<DiscoveredHardware> hw = ParseHardwareFacts(
      R"({"gpus":[{"model":"NVIDIA A100-SXM4-80GB"},{"model":"A100-SXM4-80GB"}],)"
      R"("memory_gib":500.5,"logical_cpus":64})");
  REQUIRE(hw.ok());
  inventory::Hardware want;
  want.gpus = {"NVIDIA A100-SXM4-80GB", 2};
  want.memory_gib = 512;
  want.cpus = 64;
  CHECK_FALSE(HardwareMismatch(want, *hw).has_value());
  want.memory_gib = 1024;
  want.cpus = 128;
  CHECK(HardwareMismatch(want, *hw) == "501 GiB memory, expected 1024; 64 CPUs, expected 128");
  CHECK_FALSE(ParseHardwareFacts("{}").ok());
  CHECK_FALSE(ParseHardwareFacts("not json").ok());
}

}  // namespace
}  // namespace racksmith::plan
