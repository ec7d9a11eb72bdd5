#include "cli/refresh.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "base/clock.h"

namespace racksmith::cli {

RefreshCounts RefreshLiveFacts(exec::StepDriver& driver,
                               const std::vector<const inventory::Node*>& nodes,
                               plan::Observed* observed, int concurrency, int64_t timeout_ms) {
  std::unordered_map<std::string, const state::NodeSnapshot*> snapshots;
  for (const state::NodeSnapshot& s : observed->nodes) snapshots.emplace(s.node.name, &s);
  struct Work {
    const inventory::Node* node;
    std::vector<std::string> components;
  };
  std::vector<Work> work;
  for (const inventory::Node* n : nodes) {
    auto it = snapshots.find(n->name);
    if (it == snapshots.end() || it->second->components.empty()) continue;
    state::NodeState st = it->second->node.state;
    if (st == state::NodeState::kNew || st == state::NodeState::kFailed ||
        st == state::NodeState::kRetired || st == state::NodeState::kRetiring) {
      continue;
    }
    Work w{n, {}};
    for (const state::ComponentRecord& c : it->second->components) w.components.push_back(c.component);
    work.push_back(std::move(w));
  }

  SystemClock clock;
  exec::Interrupt never;
  std::atomic<size_t> next{0};
  std::mutex mu;
  RefreshCounts counts;
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      exec::StepContext ctx;
      ctx.node = work[i].node;
      ctx.deadline_ms = clock.MonotonicMillis() + timeout_ms;
      ctx.interrupt = &never;
      Result<plan::LiveFacts> live = driver.ReadLive(*work[i].node, work[i].components, ctx);
      std::lock_guard<std::mutex> lock(mu);
      if (!live.ok()) {
        plan::LiveFacts failed;
        failed.unreadable.push_back(live.error().message());
        live = std::move(failed);
      }
      ++counts.read;
      if (!live->unreadable.empty()) ++counts.unreadable;
      observed->live[work[i].node->name] = std::move(*live);
    }
  };
  std::vector<std::thread> pool;
  int threads = std::max(1, std::min<int>(concurrency, static_cast<int>(work.size())));
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  return counts;
}

void RefreshAndReport(exec::StepDriver& driver, const inventory::Inventory& inventory,
                      const std::vector<const inventory::Node*>* selected,
                      plan::Observed* observed) {
  std::vector<const inventory::Node*> all;
  if (selected == nullptr) {
    for (const inventory::Node& n : inventory.nodes) all.push_back(&n);
    selected = &all;
  }
  RefreshCounts counts = RefreshLiveFacts(driver, *selected, observed, 32, 60'000);
  std::cerr << "refresh: read live facts of " << counts.read << " provisioned node(s)";
  if (counts.unreadable > 0) std::cerr << "; " << counts.unreadable << " only in part (see notes)";
  std::cerr << "\n";
}

}  // namespace racksmith::cli
