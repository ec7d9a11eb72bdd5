// The planner's input from the state store: the only I/O in this module (not the planner).
#include "plan/plan.h"
#include "state/store.h"

namespace racksmith::plan {

Result<Observed> ReadObserved(state::Store& store) {
  Observed observed;
  Result<std::vector<state::NodeSnapshot>> snapshots = store.LoadSnapshots();
  if (!snapshots.ok()) return snapshots.error();
  observed.nodes = std::move(*snapshots);
  Result<std::vector<state::BmcFacts>> facts = store.LatestBmcFactsOfAllNodes();
  if (!facts.ok()) return facts.error();
  observed.hardware.reserve(facts->size());
  for (const state::BmcFacts& f : *facts) {
    Result<DiscoveredHardware> hw = ParseHardwareFacts(f.facts_json);
    if (hw.ok()) observed.hardware.emplace(f.node, std::move(*hw));
  }
  return observed;
}

}  // namespace racksmith::plan
