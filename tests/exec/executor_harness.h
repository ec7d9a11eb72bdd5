// The executor's tests' common ground: a six-node site (two racks, one partition), a
// permissive policy, and a harness holding an in-memory store, the fake driver, the event
// log and the executor's options.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "fake_driver.h"
#include "plan/plan_test_util.h"
#include "support/golden.h"

namespace racksmith::exec::testing {

using plan::testing::MustLoad;
using plan::testing::MustObserve;
using plan::testing::MustOpenMemory;

inline constexpr const char* kSite = R"(site: t
defaults:
  bmc: {driver: redfish, username: admin, password: {env: BMC_PW}}
  image: ubuntu-22.04-gpu
  firmware: {bios: "2.19.1"}
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
      - {name: "n[01-04]", profile: gpu4, bmc: "10.0.0.[1-4]", ip: "10.1.0.[1-4]"}
  - name: r02
    nodes:
      - {name: "n[05-06]", profile: gpu4, bmc: "10.0.0.[5-6]", ip: "10.1.0.[5-6]"}
)";

inline std::string Site(const std::string& driver = "550.54.15") {
  return racksmith::testing::ReplaceAll(kSite, "DRIVER", driver);
}

inline plan::Policy Permissive() {
  plan::Policy p;
  p.max_unavailable_per_partition = {true, 100};
  p.max_unavailable_per_rack = {true, 100};
  return p;
}

inline state::RunStart TestRun() { return {"racksmith apply (test)", "tester", "host", 1}; }

struct Harness {
  SystemClock clock;
  std::unique_ptr<state::Store> store = MustOpenMemory(clock);
  inventory::Inventory inv;
  FakeDriver driver;
  EventLog events;
  Interrupt interrupt;
  ExecutorOptions options;

  explicit Harness(const std::string& yaml) : inv(MustLoad(yaml)) { options.backoff_ms = 1; }

  plan::Plan Plan(const plan::Policy& policy = Permissive()) {
    return plan::BuildPlan(inv, MustObserve(*store), policy);
  }
  RunSummary Apply(const plan::Plan& p, const std::vector<state::StepRecord>& interrupted = {}) {
    Executor executor(*store, driver, clock, options, &events);
    Result<RunSummary> r = executor.Execute(p, inv, TestRun(), interrupted, interrupt);
    if (!r.ok()) FAIL("execute: " << r.error().ToString());
    return *r;
  }
  state::NodeState StateOf(const std::string& node) {
    Result<state::NodeRecord> r = store->GetNode(node);
    if (!r.ok()) FAIL(r.error().ToString());
    return r->state;
  }
  std::string ReasonOf(const std::string& node) { return store->GetNode(node)->reason; }
};

inline int IndexOf(const std::vector<std::string>& v, const std::string& x) {
  auto it = std::find(v.begin(), v.end(), x);
  return it == v.end() ? -1 : static_cast<int>(it - v.begin());
}

}  // namespace racksmith::exec::testing
