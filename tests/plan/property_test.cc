// The planner's promises, checked over hundreds of generated inventories and states (fixed
// seeds, so every failure reproduces): deterministic output; every plan a valid DAG; no erase
// unless retired and confirmed; max_unavailable never exceeded by the executor's sliding
// window over the plan's rolling groups and budgets (simulated with random node times and
// failures); a node whose hardware does not match never reaches active; apply-then-plan is
// empty.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "plan_test_util.h"

namespace racksmith::plan {
namespace {

using testing::FactsJson;
using testing::MatchingHardware;
using testing::MustLoad;
using testing::MustObserve;
using testing::MustOpenMemory;
using testing::SimulateApply;

constexpr int kSeeds = 250;

// The seeds to run: [first, last], or only $RACKSMITH_PLAN_SEED to reproduce one failure.
std::pair<int, int> Seeds(int first, int last) {
  if (const char* one = std::getenv("RACKSMITH_PLAN_SEED")) return {std::atoi(one), std::atoi(one)};
  return {first, last};
}

const char* kModels[] = {"NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 3090",
                         "Tesla V100-SXM2-32GB"};
const char* kPartitions[] = {"gpu", "a100", "debug"};

struct Params {
  std::string image = "ubuntu-22.04-gpu", driver = "550.54.15", cuda = "12.4";
  std::string bios = "2.19.1";
  bool nccl = false;
  struct Profile {
    int model = 0, gpus = 4, memory = 256;
    std::vector<int> partitions;
    std::string burnin = "standard";
  };
  std::vector<Profile> profiles;
  struct NodeSpec {
    std::string name;
    int profile = 0;
    std::string state;  // "" (active), maintenance, retired
  };
  std::vector<std::vector<NodeSpec>> racks;
};

std::string Yaml(const Params& p) {
  std::string y = "site: prop\ndefaults:\n";
  y += "  bmc: {driver: redfish, username: admin, password: {env: BMC_PW}}\n";
  y += "  image: " + p.image + "\n";
  y += "  firmware: {bios: \"" + p.bios + "\", bmc: \"7.10.30.00\"}\n";
  y += "  software: {nvidia_driver: \"" + p.driver + "\", cuda: \"" + p.cuda +
       "\", slurm: \"23.11.4\"" + (p.nccl ? ", nccl: \"2.21.5\"" : "") + "}\n";
  y += "  mounts: [home]\n  burnin: standard\nprofiles:\n";
  for (size_t i = 0; i < p.profiles.size(); ++i) {
    const Params::Profile& pr = p.profiles[i];
    y += "  p" + std::to_string(i) + ":\n";
    y += "    hardware: {gpus: {model: \"" + std::string(kModels[pr.model]) +
         "\", count: " + std::to_string(pr.gpus) + "}, memory_gib: " + std::to_string(pr.memory) +
         "}\n";
    y += "    slurm: {partitions: [";
    for (size_t k = 0; k < pr.partitions.size(); ++k) {
      y += (k ? ", " : "") + std::string(kPartitions[pr.partitions[k]]);
    }
    y += "]}\n    burnin: " + pr.burnin + "\n";
  }
  y += "mounts:\n  home: {type: nfs, source: \"nfs1:/home\", target: /home, options: [rw]}\n";
  y += "racks:\n";
  int address = 1;
  for (size_t r = 0; r < p.racks.size(); ++r) {
    y += "  - name: r" + std::to_string(r) + "\n    nodes:\n";
    for (const Params::NodeSpec& n : p.racks[r]) {
      std::string a = std::to_string(address / 250) + "." + std::to_string(address % 250 + 1);
      ++address;
      y += "      - {name: " + n.name + ", profile: p" + std::to_string(n.profile) +
           ", bmc: 10.0." + a + ", ip: 10.1." + a + (n.state.empty() ? "" : ", state: " + n.state) +
           "}\n";
    }
  }
  return y;
}

struct Case {
  Params before, after;
  Policy policy;
  std::map<std::string, DiscoveredHardware> truth;
};

Case Generate(std::mt19937& rng) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto chance = [&](int percent) { return pick(100) < percent; };
  Case c;
  Params& p = c.before;
  int profiles = 1 + pick(3);
  for (int i = 0; i < profiles; ++i) {
    Params::Profile pr;
    pr.model = pick(3);
    pr.gpus = 1 + pick(8);
    pr.memory = 128 << pick(3);
    pr.partitions.push_back(pick(3));
    if (chance(30)) pr.partitions.push_back((pr.partitions[0] + 1) % 3);
    p.profiles.push_back(pr);
  }
  int racks = 1 + pick(4);
  for (int r = 0; r < racks; ++r) {
    std::vector<Params::NodeSpec> nodes;
    int count = 1 + pick(6);
    for (int i = 0; i < count; ++i) {
      Params::NodeSpec n;
      n.name = "r" + std::to_string(r) + "n" + std::to_string(i + 1);
      n.profile = pick(profiles);
      nodes.push_back(n);
    }
    p.racks.push_back(nodes);
  }
  p.nccl = chance(50);
  // The inventory drifts from what was applied.
  Params& a = c.after;
  a = p;
  if (chance(40)) a.driver = "560.35.03";
  if (chance(20)) a.cuda = "12.6";
  if (chance(10)) a.image = "ubuntu-24.04-gpu";
  if (chance(15)) a.bios = "2.20.0";
  if (chance(20)) a.nccl = !a.nccl;
  for (Params::Profile& pr : a.profiles) {
    if (chance(15)) pr.partitions = {pick(3)};
    if (chance(10)) pr.burnin = "extended";
  }
  for (auto& rack : a.racks) {
    for (Params::NodeSpec& n : rack) {
      int s = pick(100);
      n.state = s < 8 ? "retired" : s < 16 ? "maintenance" : "";
    }
  }
  auto limit = [&]() {
    return chance(50) ? Limit{false, 1 + pick(3)} : Limit{true, 10 + 10 * pick(10)};
  };
  c.policy.max_unavailable_per_partition = limit();
  c.policy.max_unavailable_per_rack = limit();
  c.policy.confirm_erase = chance(50);
  c.policy.retry_failed = chance(30);
  return c;
}

// Seeds the store from the inventory as it was, in random lifecycle states; records the real
// hardware (truth), a tenth of which does not match its profile.
void SeedState(std::mt19937& rng, Case& c, const inventory::Inventory& before,
               state::Store& store) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  using S = state::NodeState;
  const S states[] = {S::kActive, S::kActive,      S::kActive,   S::kActive,  S::kActive,
                      S::kNew,    S::kDiscovered,  S::kProvisioning, S::kBurnin, S::kDraining,
                      S::kMaintenance, S::kMaintenance, S::kRetiring, S::kRetired, S::kFailed};
  for (const inventory::Node& node : before.nodes) {
    DiscoveredHardware hw = MatchingHardware(node);
    bool broken = pick(10) == 0;
    if (broken) {
      if (pick(2) == 0 || hw.gpu_models.size() == 1) {
        hw.gpu_models.back() = "NVIDIA A10";
      } else {
        hw.gpu_models.pop_back();
      }
    }
    c.truth[node.name] = hw;
    bool facts_known = broken ? pick(2) == 0 : pick(3) == 0;
    if (facts_known) PLAN_REQUIRE_OK(store.RecordBmcFacts(node.name, FactsJson(hw)));
    // A broken node the store knows must have been seen broken, or not have been seen.
    if (pick(7) == 0 || (broken && !facts_known)) continue;
    S st = states[pick(static_cast<int>(std::size(states)))];
    PLAN_REQUIRE_OK(store.EnsureNodes({node.name}, S::kNew));
    std::vector<state::ComponentRecord> records;
    for (const DesiredComponent& d : ComponentsOf(before, node)) {
      if (pick(10) != 0) records.push_back({node.name, d.name, d.version, d.hash, 0, 0});
    }
    if (st != S::kNew) PLAN_REQUIRE_OK(store.RecordComponents(records));
    PLAN_REQUIRE_OK(store.SetNodeState(node.name, st, st == S::kFailed ? "burn-in failed" : "", 0));
  }
}

bool Broken(const inventory::Node& node, const Case& c) {
  auto it = c.truth.find(node.name);
  return it != c.truth.end() && HardwareMismatch(node.hardware, it->second).has_value();
}

// Checks every promise of one plan against the store it was made from.
void CheckPlan(const inventory::Inventory& inv, const Observed& observed, const Plan& plan,
               const Policy& policy) {
  std::map<std::string, state::NodeState> current;
  for (const state::NodeSnapshot& s : observed.nodes) current[s.node.name] = s.node.state;
  // Group sizes and nodes already out of service, over the whole inventory.
  std::map<std::string, int> total, out;
  auto groups = [](const inventory::Node& n) {
    std::vector<std::string> g;
    for (const std::string& p : n.slurm.partitions) g.push_back("partition " + p);
    g.push_back("rack " + n.rack);
    return g;
  };
  // A node the plan quarantines is out of service from the start of the run (it is not
  // limited, so it may leave first).
  std::set<std::string> quarantined;
  for (const NodePlan& np : plan.nodes) {
    if (np.action == NodeAction::kQuarantine) quarantined.insert(np.node);
  }
  for (const inventory::Node& n : inv.nodes) {
    auto it = current.find(n.name);
    if (n.state == inventory::NodeState::kRetired &&
        (it == current.end() || it->second == state::NodeState::kRetired)) {
      continue;
    }
    bool is_out = it != current.end() && (it->second == state::NodeState::kDraining ||
                                          it->second == state::NodeState::kMaintenance ||
                                          it->second == state::NodeState::kRetiring ||
                                          it->second == state::NodeState::kFailed);
    is_out = is_out || quarantined.count(n.name) > 0;
    for (const std::string& g : groups(n)) {
      ++total[g];
      if (is_out) ++out[g];
    }
  }
  std::map<std::pair<int, std::string>, int> in_wave;
  std::map<std::string, int> returning;  // per group: out now, brought back by the plan
  for (const NodePlan& np : plan.nodes) {
    const inventory::Node* node = inv.FindNode(np.node);
    REQUIRE(node != nullptr);
    std::set<std::string> ids;
    bool drains = false, admits = false;
    for (const Step& s : np.steps) {
      for (const std::string& need : s.needs) REQUIRE(ids.count(need) == 1);
      REQUIRE(ids.insert(s.id).second);
      if (s.kind == StepKind::kErase) {
        REQUIRE(node->state == inventory::NodeState::kRetired);
        REQUIRE(policy.confirm_erase);
      }
      if (s.kind == StepKind::kDrain) drains = true;
      if (s.on_success == state::NodeState::kActive) admits = true;
    }
    auto it = current.find(np.node);
    bool was_active = it != current.end() && it->second == state::NodeState::kActive;
    if (drains && was_active) REQUIRE(np.wave >= 1);
    if (np.wave >= 1) {
      REQUIRE(was_active);
      for (const std::string& g : groups(*node)) ++in_wave[{np.wave, g}];
      // A rolled node counts against each of its partitions and its rack.
      std::vector<std::string> names;
      for (int g : np.rolling_groups) names.push_back(plan.rolling_groups.at(g).name);
      REQUIRE(names == groups(*node));
    }
    if (np.returning) {
      REQUIRE(np.wave == 0);
      REQUIRE(it != current.end());
      REQUIRE(admits);
      REQUIRE(!np.rolling_groups.empty());
      for (int g : np.rolling_groups) ++returning[plan.rolling_groups.at(g).name];
    }
    // A node whose last BMC report does not match its profile is never admitted.
    auto hw = observed.hardware.find(np.node);
    if (admits && hw != observed.hardware.end() &&
        HardwareMismatch(node->hardware, hw->second)) {
      FAIL("node " << np.node << " would be admitted with mismatching hardware");
    }
  }
  auto allowed = [&](const std::string& g) {
    const Limit& limit = g.starts_with("partition ") ? policy.max_unavailable_per_partition
                                                     : policy.max_unavailable_per_rack;
    return limit.Allowed(total[g]);
  };
  // Each group's budget is its limit less the nodes that stay out of service.
  for (const RollingGroup& g : plan.rolling_groups) {
    INFO(g.name << ": " << g.nodes << " nodes, " << out[g.name] << " out, " << returning[g.name]
                << " returning, budget " << g.budget);
    REQUIRE(g.nodes == total[g.name]);
    REQUIRE(g.max_unavailable == allowed(g.name));
    REQUIRE(g.returning == returning[g.name]);
    REQUIRE(g.already_out + g.returning == out[g.name]);
    REQUIRE(g.budget == g.max_unavailable - g.already_out);
    // A group is listed for the nodes it rolls, which need room, or only for nodes coming
    // back, which are counted but never wait (their group may be over its limit already).
    bool rolls = false;
    for (const auto& [key, count] : in_wave) rolls = rolls || key.second == g.name;
    if (rolls) REQUIRE(g.budget >= 1);
    if (!rolls) REQUIRE(g.returning >= 1);
  }
  // Waves are batches that would fit one after another.
  for (const auto& [key, count] : in_wave) {
    const std::string& g = key.second;
    INFO("wave " << key.first << ", " << g << ": " << count << " rolled + " << out[g] << " out of "
                 << total[g] << ", allowed " << allowed(g));
    REQUIRE(count + out[g] - returning[g] <= allowed(g));
  }

  // The executor's window over this plan, with random node times and failures: a rolled node
  // starts, in (wave, plan) order, only while each of its groups has fewer than its budget
  // out. Whenever one starts, none of its groups may go above max_unavailable, counted here
  // from the store (nodes out of service now, less returning ones once back).
  std::mt19937 rng(static_cast<uint32_t>(plan.summary.steps * 7919 + plan.nodes.size()));
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::vector<const NodePlan*> rolled;
  for (const NodePlan& np : plan.nodes) {
    if (np.wave >= 1) rolled.push_back(&np);
  }
  std::stable_sort(rolled.begin(), rolled.end(),
                   [](const NodePlan* a, const NodePlan* b) { return a->wave < b->wave; });
  std::vector<int> unavailable(plan.rolling_groups.size(), 0);
  std::map<std::string, int> now_out = out;
  using Finish = std::tuple<int, const NodePlan*, bool>;  // time, node, failed
  std::priority_queue<Finish, std::vector<Finish>, std::greater<>> finishing;
  for (const NodePlan& np : plan.nodes) {
    if (!np.returning) continue;
    for (int g : np.rolling_groups) ++unavailable[g];
    finishing.push({1 + pick(10), &np, pick(10) == 0});
  }
  std::set<const NodePlan*> started;
  bool any_failed = false;
  for (int now = 0;;) {
    for (const NodePlan* np : rolled) {
      if (started.count(np)) continue;
      bool room = true;
      for (int g : np->rolling_groups)
        room = room && unavailable[g] < plan.rolling_groups[g].budget;
      if (!room) continue;
      started.insert(np);
      for (int g : np->rolling_groups) ++unavailable[g];
      for (const std::string& g : groups(*inv.FindNode(np->node))) {
        INFO("t=" << now << ": " << np->node << " (wave " << np->wave << ") starts with "
                  << now_out[g] << " of " << g << " out, allowed " << allowed(g));
        REQUIRE(now_out[g] + 1 <= allowed(g));
        ++now_out[g];
      }
      finishing.push({now + 1 + pick(10), np, pick(10) == 0});
    }
    if (finishing.empty()) break;
    auto [at, np, failed] = finishing.top();
    finishing.pop();
    now = at;
    if (failed) {  // stays out of service, and counted
      any_failed = true;
      continue;
    }
    for (int g : np->rolling_groups) --unavailable[g];
    for (const std::string& g : groups(*inv.FindNode(np->node))) --now_out[g];
  }
  // Nothing waits forever unless a failed node keeps its room.
  if (!any_failed) REQUIRE(started.size() == rolled.size());
}

TEST_CASE("generated plans keep every promise, and applying them converges to an empty plan",
          "[plan][property]") {
  int total_steps = 0, total_waves = 0, erased = 0, failed_seen = 0;
  auto [first, last] = Seeds(1, kSeeds);
  for (int seed = first; seed <= last; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(static_cast<uint32_t>(seed));
    Case c = Generate(rng);
    inventory::Inventory before = MustLoad(Yaml(c.before));
    inventory::Inventory after = MustLoad(Yaml(c.after));
    FakeClock clock;
    auto store = MustOpenMemory(clock);
    SeedState(rng, c, before, *store);

    for (int round = 1;; ++round) {
      INFO("round " << round);
      Observed observed = MustObserve(*store);
      Plan plan = BuildPlan(after, observed, c.policy);
      // Deterministic: the same input gives byte-identical output.
      Plan again = BuildPlan(after, MustObserve(*store), c.policy);
      RenderContext ctx{"inv", "state", true};
      REQUIRE(RenderPlanJson(plan, ctx) == RenderPlanJson(again, ctx));
      REQUIRE(RenderPlanText(plan, ctx) == RenderPlanText(again, ctx));
      CheckPlan(after, observed, plan, c.policy);
      total_steps += plan.summary.steps;
      total_waves += plan.summary.waves;
      if (plan.summary.steps == 0) break;
      // Out-of-service nodes coming back can free room for nodes held by the limits, so a
      // second apply may have work; a third never does.
      REQUIRE(round <= 2);
      for (const NodePlan& np : plan.nodes) {
        for (const Step& s : np.steps) erased += s.kind == StepKind::kErase;
      }
      SimulateApply(*store, after, plan, c.truth);
      for (const inventory::Node& node : after.nodes) {
        Result<state::NodeRecord> rec = store->GetNode(node.name);
        if (!rec.ok()) continue;
        if (rec->state == state::NodeState::kFailed) ++failed_seen;
        if (Broken(node, c)) {
          INFO("node " << node.name << "\n" << RenderPlanText(plan, {"inv", "state", true}));
          REQUIRE(rec->state != state::NodeState::kActive);
        }
      }
    }
  }
  // The generator really exercises what the checks are about.
  CHECK(total_steps > 5000);
  CHECK(total_waves > 100);
  CHECK(erased > 10);
  CHECK(failed_seen > 10);
}

TEST_CASE("with limits that let everything roll at once, one apply converges", "[plan][property]") {
  auto [first, last] = Seeds(1001, 1000 + kSeeds / 2);
  for (int seed = first; seed <= last; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(static_cast<uint32_t>(seed));
    Case c = Generate(rng);
    c.policy.max_unavailable_per_partition = {true, 100};
    c.policy.max_unavailable_per_rack = {true, 100};
    inventory::Inventory before = MustLoad(Yaml(c.before));
    inventory::Inventory after = MustLoad(Yaml(c.after));
    FakeClock clock;
    auto store = MustOpenMemory(clock);
    SeedState(rng, c, before, *store);
    Plan plan = BuildPlan(after, MustObserve(*store), c.policy);
    SimulateApply(*store, after, plan, c.truth);
    Plan next = BuildPlan(after, MustObserve(*store), c.policy);
    INFO(RenderPlanText(next, {"inv", "state", true}));
    REQUIRE(next.summary.steps == 0);
  }
}

}  // namespace
}  // namespace racksmith::plan
