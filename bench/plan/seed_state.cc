// Bench helper (not part of racksmith): fills a state store for bench/plan/run.sh through
// the Store API, as if the inventory had been applied, then adds drift.
// Usage: seed_state INVENTORY STATE_DB
#include <cstdio>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "plan/plan.h"
#include "state/store.h"

using namespace racksmith;

static int Fail(const Error& e) {
  std::fprintf(stderr, "seed_state: %s\n", e.ToString().c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: seed_state INVENTORY STATE_DB\n");
    return 2;
  }
  Result<inventory::Inventory> inv = inventory::LoadInventory(argv[1]);
  if (!inv.ok()) return Fail(inv.error());
  SystemClock clock;
  Result<std::unique_ptr<state::Store>> opened = state::OpenSqliteStore(argv[2], clock);
  if (!opened.ok()) return Fail(opened.error());
  state::Store& store = **opened;

  std::vector<std::string> names;
  std::vector<state::ComponentRecord> records;
  for (const inventory::Node& n : inv->nodes) {
    names.push_back(n.name);
    for (const plan::DesiredComponent& d : plan::ComponentsOf(*inv, n)) {
      records.push_back({n.name, d.name, d.version, d.hash, 0, 0});
    }
  }
  if (auto r = store.EnsureNodes(names, state::NodeState::kActive); !r.ok()) return Fail(r.error());
  if (Status s = store.RecordComponents(records); !s.ok()) return Fail(s.error());

  // Drift: 1 % of the nodes have an older driver, 20 are in maintenance, 10 failed, 500 have
  // BMC facts (10 of them missing a GPU), and the store knows 5 nodes the inventory does not.
  std::vector<state::ComponentRecord> old_driver;
  for (size_t i = 0; i < names.size(); i += 100) {
    old_driver.push_back({names[i], "nvidia_driver", "535.104.05", Sha256Hex(names[i]), 0, 0});
  }
  if (Status s = store.RecordComponents(old_driver); !s.ok()) return Fail(s.error());
  for (size_t i = 0; i < 30 && i * 331 + 7 < names.size(); ++i) {
    bool failed = i % 3 == 0;
    Status s = store.SetNodeState(names[i * 331 + 7],
                                  failed ? state::NodeState::kFailed : state::NodeState::kMaintenance,
                                  failed ? "burn-in: GPU 0 ECC errors" : "", 0);
    if (!s.ok()) return Fail(s.error());
  }
  for (size_t i = 0; i < 500 && i * 20 + 3 < names.size(); ++i) {
    const inventory::Node& n = inv->nodes[i * 20 + 3];
    std::string gpus;
    int count = n.hardware.gpus.count - (i % 50 == 0 ? 1 : 0);
    for (int g = 0; g < count; ++g) {
      gpus += std::string(g ? "," : "") + "{\"model\":\"" + n.hardware.gpus.model + "\"}";
    }
    std::string facts = "{\"gpus\":[" + gpus + "],\"memory_gib\":" +
                        std::to_string(n.hardware.memory_gib) + ",\"cpu_count\":" +
                        std::to_string(n.hardware.cpus) + "}";
    if (Status s = store.RecordBmcFacts(n.name, facts); !s.ok()) return Fail(s.error());
  }
  if (auto r = store.EnsureNodes({"old-n1", "old-n2", "old-n3", "old-n4", "old-n5"},
                                 state::NodeState::kActive);
      !r.ok()) {
    return Fail(r.error());
  }
  std::printf("seeded %zu nodes, %zu component records\n", names.size(), records.size());
  return 0;
}
