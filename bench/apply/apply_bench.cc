// bench/apply: the executor carrying out real plans for N nodes against an on-disk state
// store (SQLite, every step journaled before and after as racksmith apply does), with a driver
// whose steps take fixed simulated times. It measures how close the executor gets to the
// lower bound any scheduler has, and what it costs per step.
//
// Lower bound of a run: the largest of
// - the slowest node's own critical path through its DAG;
// - the total step time / concurrency (the overall limit's queueing);
// - per rolling group (partition, rack), the time its rolled and returning nodes are out of
//   service, at least each one's critical path, summed / the group's budget: max_unavailable
//   lets no more than that many be out at once.
// Rolling changes are a sliding window (the executor does not wait for a wave to finish), so
// waves do not add up.
//
// Usage: apply_bench --nodes 200 --concurrency 32 --scale 0.02 --dir DIR
//                    [--scenario new|upgrade|both] [--ansible-out FILE]
// Prints one JSON object per scenario on stdout. --ansible-out writes the same per-node
// step chains as an Ansible playbook (each step `command: sleep S`) for the peer run.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "exec/executor.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

namespace {

using namespace racksmith;

// Seconds a step takes on a real cluster (order of magnitude, from the lab and from DGX
// runbooks); the bench multiplies them by --scale.
double RealSeconds(const plan::Step& step) {
  switch (step.kind) {
    case plan::StepKind::kDrain: return 10;
    case plan::StepKind::kQuarantine: return 1;
    case plan::StepKind::kDiscover: return 5;
    case plan::StepKind::kFirmware: return 60;
    case plan::StepKind::kImage: return 120;
    case plan::StepKind::kInstall:
      if (step.component == "nvidia_driver") return 45;
      if (step.component == "cuda") return 30;
      return 6;
    case plan::StepKind::kRemove: return 5;
    case plan::StepKind::kConfigure: return 3;
    case plan::StepKind::kMount: return 2;
    case plan::StepKind::kBurnin: return 60;
    case plan::StepKind::kAdmit: return 1;
    case plan::StepKind::kErase: return 30;
    case plan::StepKind::kPowerOff: return 5;
    case plan::StepKind::kRetire: return 0.1;
  }
  return 1;
}

class SimDriver : public exec::StepDriver {
 public:
  explicit SimDriver(double scale) : scale_(scale) {}
  int64_t Millis(const plan::Step& step) const {
    return static_cast<int64_t>(RealSeconds(step) * scale_ * 1000.0 + 0.5);
  }
  exec::StepOutcome Run(const plan::Step& step, const exec::StepContext& ctx) override {
    (void)ctx;
    std::this_thread::sleep_for(std::chrono::milliseconds(Millis(step)));
    return exec::StepOutcome::Ok("simulated");
  }
  exec::GuardResult CheckGuard(const plan::Step& step, const exec::StepContext& ctx) override {
    (void)step;
    (void)ctx;
    return {exec::GuardVerdict::kNotDone, "simulated"};
  }

 private:
  double scale_;
};

std::string Inventory(int nodes, const std::string& driver) {
  // Racks of 20, two profiles like the lab's; the BMC and IP addresses are never contacted.
  std::string y = fmt::format(R"(site: bench
defaults:
  bmc: {{driver: redfish, username: admin, password: {{env: BENCH_BMC_PASSWORD}}}}
  ssh: {{user: root, key: /nonexistent/key}}
  image: ubuntu-22.04-gpu
  firmware: {{bios: "2.19.1", bmc: "7.10.30.00"}}
  software: {{nvidia_driver: "{}", cuda: "12.4", slurm: "23.11.4", nccl: "2.21.5"}}
  mounts: [home]
  burnin: standard
profiles:
  gpu4: {{hardware: {{gpus: {{model: "NVIDIA GeForce RTX 3090", count: 4}}, memory_gib: 256, cpus: 64}}, slurm: {{partitions: [gpu]}}}}
  gpu8: {{hardware: {{gpus: {{model: "NVIDIA A100-SXM4-80GB", count: 8}}, memory_gib: 1024, cpus: 128}}, slurm: {{partitions: [gpu, a100]}}}}
mounts:
  home: {{type: nfs, source: "127.0.3.1:/export/home", target: /home, options: [rw]}}
racks:
)",
                              driver);
  int racks = (nodes + 19) / 20;
  for (int r = 0; r < racks; ++r) {
    int first = r * 20 + 1;
    int last = std::min(nodes, first + 19);
    y += fmt::format("  - name: r{:02d}\n    nodes:\n", r + 1);
    y += fmt::format(
        "      - {{name: \"b[{:04d}-{:04d}]\", profile: {}, bmc: \"127.1.{}.[{}-{}]\", ip: "
        "\"127.2.{}.[{}-{}]\"}}\n",
        first, last, r % 2 == 0 ? "gpu4" : "gpu8", r, 1, last - first + 1, r, 1,
        last - first + 1);
  }
  return y;
}

// The lower bound described at the top, and the inputs to it.
struct Bound {
  double critical_path_s = 0;  // slowest node's own path
  double work_s = 0;           // all steps
  double queue_s = 0;          // work / concurrency
  double window_s = 0;         // max over rolling groups: nodes' out-of-service time / budget
  std::string window_group;    // the group that sets window_s
  double lower_bound_s = 0;
  int waves = 0;
};

Bound LowerBound(const plan::Plan& plan, const SimDriver& driver, int concurrency) {
  Bound b;
  std::vector<double> out_s(plan.rolling_groups.size(), 0);  // per group: sum of paths
  std::set<int> waves;
  for (const plan::NodePlan& np : plan.nodes) {
    if (np.steps.empty()) continue;
    std::unordered_map<std::string, double> finish;  // step id -> earliest finish
    double path = 0, work = 0;
    for (const plan::Step& s : np.steps) {
      double start = 0;
      for (const std::string& n : s.needs) start = std::max(start, finish[n]);
      double d = driver.Millis(s) / 1000.0;
      finish[s.id] = start + d;
      path = std::max(path, start + d);
      work += d;
    }
    for (int g : np.rolling_groups) out_s[g] += path;
    waves.insert(std::max(np.wave, 1));  // wave 0 runs alongside wave 1
    b.critical_path_s = std::max(b.critical_path_s, path);
    b.work_s += work;
  }
  b.queue_s = b.work_s / concurrency;
  for (size_t g = 0; g < out_s.size(); ++g) {
    double w = out_s[g] / plan.rolling_groups[g].budget;
    if (w > b.window_s) {
      b.window_s = w;
      b.window_group = plan.rolling_groups[g].name;
    }
  }
  b.lower_bound_s = std::max({b.critical_path_s, b.queue_s, b.window_s});
  b.waves = static_cast<int>(waves.size());
  return b;
}

// The executor's own policy with zero overhead: steps start in the order they became ready
// (plan order first), at most `concurrency` at once; after them, rolled nodes not started
// yet, in (wave, plan) order, each only while each of its rolling groups has fewer nodes out
// of service than its budget (the sliding window). What the run would take if scheduling and
// journaling cost nothing; wall / this is the executor's overhead in wall-clock terms.
double ZeroOverheadSchedule(const plan::Plan& plan, const SimDriver& driver, int concurrency) {
  struct S {
    int node;
    double d;
    int waiting = 0;
    std::vector<int> dependents;
  };
  std::vector<S> steps;
  std::vector<const plan::NodePlan*> node_plan;
  std::vector<int> node_left;
  std::vector<bool> counted;
  std::vector<int> unavailable(plan.rolling_groups.size(), 0);
  std::deque<int> ready, rollout;  // the executor's ready_ and rollout_
  auto count = [&](int node, int delta) {
    counted[node] = delta > 0;
    for (int g : node_plan[node]->rolling_groups) unavailable[g] += delta;
  };
  for (const plan::NodePlan& np : plan.nodes) {
    if (np.steps.empty()) continue;
    int n = static_cast<int>(node_plan.size());
    node_plan.push_back(&np);
    node_left.push_back(static_cast<int>(np.steps.size()));
    counted.push_back(false);
    if (np.returning) count(n, +1);
    std::unordered_map<std::string, int> index;
    for (const plan::Step& st : np.steps) {
      int i = static_cast<int>(steps.size());
      index[st.id] = i;
      steps.push_back({n, driver.Millis(st) / 1000.0, 0, {}});
      for (const std::string& need : st.needs) {
        steps[index[need]].dependents.push_back(i);
        ++steps[i].waiting;
      }
      if (steps[i].waiting == 0) (np.wave > 0 ? rollout : ready).push_back(i);
    }
  }
  std::stable_sort(rollout.begin(), rollout.end(), [&](int a, int b) {
    return node_plan[steps[a].node]->wave < node_plan[steps[b].node]->wave;
  });
  auto has_room = [&](int node) {
    for (int g : node_plan[node]->rolling_groups) {
      if (unavailable[g] >= plan.rolling_groups[g].budget) return false;
    }
    return true;
  };
  std::vector<bool> started(node_plan.size(), false);
  using Running = std::pair<double, int>;  // end time, step
  std::priority_queue<Running, std::vector<Running>, std::greater<>> running;
  double now = 0;
  for (;;) {
    for (std::deque<int>* queue : {&ready, &rollout}) {
      for (auto it = queue->begin();
           it != queue->end() && static_cast<int>(running.size()) < concurrency;) {
        int node = steps[*it].node;
        bool rolled = node_plan[node]->wave > 0;
        if (!started[node] && rolled && !has_room(node)) {
          ++it;
          continue;
        }
        if (!started[node] && rolled) count(node, +1);
        started[node] = true;
        running.push({now + steps[*it].d, *it});
        it = queue->erase(it);
      }
    }
    if (running.empty()) break;
    auto [end, i] = running.top();
    running.pop();
    now = end;
    for (int d : steps[i].dependents) {
      if (--steps[d].waiting == 0) ready.push_back(d);
    }
    int node = steps[i].node;
    if (--node_left[node] == 0 && counted[node]) count(node, -1);
  }
  return now;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void WriteAnsible(const plan::Plan& plan, const SimDriver& driver, const std::string& dir) {
  // One host per node; each host runs its node's steps in plan order (Ansible has no DAG).
  std::filesystem::create_directories(dir + "/host_vars");
  std::ofstream hosts(dir + "/hosts.ini");
  hosts << "[bench]\n";
  for (const plan::NodePlan& np : plan.nodes) hosts << np.node << "\n";
  hosts << "[bench:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n";
  for (const plan::NodePlan& np : plan.nodes) {
    std::ofstream hv(dir + "/host_vars/" + np.node + ".yml");
    hv << "steps:\n";
    for (const plan::Step& s : np.steps) {
      hv << fmt::format("  - {{name: \"{}\", seconds: {:.3f}}}\n", s.id, driver.Millis(s) / 1000.0);
    }
  }
  std::ofstream pb(dir + "/playbook.yml");
  pb << "- hosts: bench\n  gather_facts: false\n  strategy: free\n  tasks:\n"
        "    - name: step\n      ansible.builtin.command: \"sleep {{ item.seconds }}\"\n"
        "      loop: \"{{ steps }}\"\n      loop_control: {label: \"{{ item.name }}\"}\n";
}

int Usage() {
  std::fprintf(stderr,
               "usage: apply_bench --dir DIR [--nodes 200] [--concurrency 32] [--scale 0.02] "
               "[--scenario new|upgrade|both] [--ansible-out DIR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 200, concurrency = 32;
  double scale = 0.02;
  std::string dir, scenario = "both", ansible_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--nodes") nodes = std::stoi(v);
    else if (a == "--concurrency") concurrency = std::stoi(v);
    else if (a == "--scale") scale = std::stod(v);
    else if (a == "--dir") dir = v;
    else if (a == "--scenario") scenario = v;
    else if (a == "--ansible-out") ansible_dir = v;
    else return Usage();
  }
  if (dir.empty() || nodes < 1 || concurrency < 1 || scale <= 0) return Usage();

  SystemClock clock;
  Result<std::unique_ptr<state::Store>> store = state::OpenSqliteStore(dir + "/state.db", clock);
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.error().ToString().c_str());
    return 1;
  }
  SimDriver driver(scale);
  exec::ExecutorOptions options;
  options.concurrency = concurrency;
  options.per_firmware_group = 0;  // the bound above knows only the overall limit

  auto run = [&](const std::string& name, const std::string& driver_version,
                 const plan::Policy& policy) -> bool {
    Result<inventory::Inventory> inv =
        inventory::LoadInventoryFromString(Inventory(nodes, driver_version), "bench.yaml");
    if (!inv.ok()) {
      std::fprintf(stderr, "inventory: %s\n", inv.error().ToString().c_str());
      return false;
    }
    Result<plan::Observed> observed = plan::ReadObserved(**store);
    if (!observed.ok()) {
      std::fprintf(stderr, "observe: %s\n", observed.error().ToString().c_str());
      return false;
    }
    plan::Plan plan = plan::BuildPlan(*inv, *observed, policy);
    Bound bound = LowerBound(plan, driver, concurrency);
    double ideal = ZeroOverheadSchedule(plan, driver, concurrency);
    if (!ansible_dir.empty() && name == "new") WriteAnsible(plan, driver, ansible_dir);
    exec::Interrupt interrupt;
    exec::Executor executor(**store, driver, clock, options);
    double cpu0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    Result<exec::RunSummary> s = executor.Execute(
        plan, *inv, state::RunStart{"apply_bench " + name, "bench", "bench", 1}, {}, interrupt);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = CpuSeconds() - cpu0;
    if (!s.ok()) {
      std::fprintf(stderr, "execute: %s\n", s.error().ToString().c_str());
      return false;
    }
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    nlohmann::json j = {
        {"scenario", name},
        {"nodes", nodes},
        {"concurrency", concurrency},
        {"scale", scale},
        {"steps", plan.summary.steps},
        {"waves", bound.waves},
        {"nodes_done", s->nodes_done},
        {"nodes_failed", s->nodes_failed},
        {"wall_s", wall},
        {"critical_path_s", bound.critical_path_s},
        {"work_s", bound.work_s},
        {"queue_s", bound.queue_s},
        {"window_s", bound.window_s},
        {"window_group", bound.window_group},
        {"lower_bound_s", bound.lower_bound_s},
        {"ratio", wall / bound.lower_bound_s},
        {"zero_overhead_s", ideal},
        {"ratio_zero_overhead", wall / ideal},
        {"overhead_us_per_step", s->overhead_us_per_step},
        {"journal_us_per_step", s->journal_us_per_step},
        {"overhead_us_per_destructive_step", s->overhead_us_per_destructive_step},
        {"overhead_us_per_other_step", s->overhead_us_per_other_step},
        {"cpu_s", cpu},
        {"max_rss_kib", u.ru_maxrss},
    };
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    return s->nodes_failed == 0;
  };

  bool ok = true;
  if (scenario == "new" || scenario == "both") {
    ok = run("new", "550.127.05", plan::Policy{}) && ok;
  }
  if (scenario == "upgrade" || scenario == "both") {
    // The default policy: 25 % of a partition, 50 % of a rack unavailable at once.
    if (scenario == "upgrade") ok = run("setup", "550.127.05", plan::Policy{}) && ok;
    ok = run("upgrade", "550.144.03", plan::Policy{}) && ok;
  }
  return ok ? 0 : 1;
}
