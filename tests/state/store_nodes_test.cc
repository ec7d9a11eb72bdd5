// Nodes, lifecycle history, components and the bulk snapshot.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "state/store.h"
#include "store_test_util.h"

namespace racksmith::state {
namespace {

std::unique_ptr<Store> MemoryStore(const Clock& clock) {
  Result<std::unique_ptr<Store>> store = OpenMemoryStore(clock);
  REQUIRE(store.ok());
  return std::move(*store);
}

TEST_CASE("ensuring nodes creates only the unknown ones, in the given state", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  Result<int> created = store->EnsureNodes({"n2", "n1"}, NodeState::kNew);
  REQUIRE(created.ok());
  CHECK(*created == 2);
  RS_REQUIRE_OK(store->SetNodeState("n1", NodeState::kActive, "admitted", 0));
  created = store->EnsureNodes({"n1", "n3"}, NodeState::kDiscovered);
  REQUIRE(created.ok());
  CHECK(*created == 1);
  Result<std::vector<NodeRecord>> nodes = store->ListNodes();
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 3);
  CHECK((*nodes)[0].name == "n1");
  CHECK((*nodes)[0].state == NodeState::kActive);  // untouched by the second EnsureNodes
  CHECK((*nodes)[2].name == "n3");
  CHECK((*nodes)[2].state == NodeState::kDiscovered);
  CHECK((*nodes)[2].created_at == clock.NowUnixMillis());
}

TEST_CASE("an empty node name is refused", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  Result<int> created = store->EnsureNodes({"n1", ""}, NodeState::kNew);
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().code() == ErrorCode::kInvalidInput);
  CHECK(store->ListNodes()->empty());
}

TEST_CASE("state changes are recorded in the node's history with reason and run", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  REQUIRE(store->EnsureNodes({"gpu01"}, NodeState::kNew).ok());
  Result<int64_t> run = store->BeginRun({"racksmith apply", "root", "ctl", 1});
  REQUIRE(run.ok());
  clock.Advance(1000);
  RS_REQUIRE_OK(store->SetNodeState("gpu01", NodeState::kBurnin, "", *run));
  clock.Advance(1000);
  RS_REQUIRE_OK(store->SetNodeState("gpu01", NodeState::kFailed, "GPU 3 fell off the bus", 0));
  // The same state and reason again is not a change.
  RS_REQUIRE_OK(store->SetNodeState("gpu01", NodeState::kFailed, "GPU 3 fell off the bus", 0));

  Result<NodeRecord> node = store->GetNode("gpu01");
  REQUIRE(node.ok());
  CHECK(node->state == NodeState::kFailed);
  CHECK(node->reason == "GPU 3 fell off the bus");
  CHECK(node->updated_at == node->created_at + 2000);

  Result<std::vector<StateChange>> history = store->NodeHistory("gpu01");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 3);
  CHECK_FALSE((*history)[0].from.has_value());
  CHECK((*history)[0].to == NodeState::kNew);
  CHECK((*history)[1].from == NodeState::kNew);
  CHECK((*history)[1].to == NodeState::kBurnin);
  CHECK((*history)[1].run_id == *run);
  CHECK((*history)[2].to == NodeState::kFailed);
  CHECK((*history)[2].reason == "GPU 3 fell off the bus");
  CHECK((*history)[2].run_id == 0);
}

TEST_CASE("changing the state of an unknown node is NotFound naming it and the store", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  Status s = store->SetNodeState("ghost", NodeState::kActive, "", 0);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == ErrorCode::kNotFound);
  CHECK(s.error().message() == ":memory:: no node 'ghost' in the state store");
  CHECK(store->GetNode("ghost").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("components round-trip and a new record replaces the old one", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  REQUIRE(store->EnsureNodes({"n1", "n2"}, NodeState::kNew).ok());
  RS_REQUIRE_OK(store->RecordComponents({
      {"n1", "nvidia_driver", "550.54", "sha256:aaa", 0, 0},
      {"n1", "cuda", "12.4", "sha256:bbb", 0, 0},
      {"n2", "cuda", "12.4", "sha256:bbb", 0, 0},
  }));
  clock.Advance(5000);
  RS_REQUIRE_OK(store->RecordComponents({{"n1", "nvidia_driver", "560.35", "sha256:ccc", 0, 0}}));

  Result<std::vector<ComponentRecord>> comps = store->Components("n1");
  REQUIRE(comps.ok());
  REQUIRE(comps->size() == 2);
  CHECK((*comps)[0].component == "cuda");
  CHECK((*comps)[0].applied_at == clock.NowUnixMillis() - 5000);
  CHECK((*comps)[1].component == "nvidia_driver");
  CHECK((*comps)[1].version == "560.35");
  CHECK((*comps)[1].content_hash == "sha256:ccc");
  CHECK((*comps)[1].applied_at == clock.NowUnixMillis());

  RS_REQUIRE_OK(store->ForgetComponent("n1", "cuda"));
  CHECK(store->Components("n1")->size() == 1);
  CHECK(store->Components("n2")->size() == 1);
}

TEST_CASE("recording a component of an unknown node records nothing of the batch", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  REQUIRE(store->EnsureNodes({"n1"}, NodeState::kNew).ok());
  Status s = store->RecordComponents(
      {{"n1", "cuda", "12.4", "h1", 0, 0}, {"ghost", "cuda", "12.4", "h1", 0, 0}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(s.error().message(), Catch::Contains("'ghost'"));
  CHECK(store->Components("n1")->empty());
}

TEST_CASE("snapshots of 10,000 nodes carry each node's state, components and last step",
          "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  constexpr int kNodes = 10'000;
  std::vector<std::string> names;
  std::vector<ComponentRecord> comps;
  for (int i = 0; i < kNodes; ++i) {
    names.push_back(fmt::format("gpu{:05}", i));
    comps.push_back({names.back(), "image", "ubuntu-22.04", fmt::format("h-image-{}", i), 0, 0});
    comps.push_back({names.back(), "cuda", "12.4", fmt::format("h-cuda-{}", i % 7), 0, 0});
  }
  Result<int> created = store->EnsureNodes(names, NodeState::kNew);
  REQUIRE(created.ok());
  REQUIRE(*created == kNodes);
  RS_REQUIRE_OK(store->RecordComponents(comps));
  RS_REQUIRE_OK(store->SetNodeState("gpu00042", NodeState::kFailed, "burn-in failed", 0));
  Result<int64_t> run = store->BeginRun({"racksmith apply", "root", "ctl", 1});
  REQUIRE(run.ok());
  for (int i = 0; i < 50; ++i) {
    Result<int64_t> step = store->RecordIntent({*run, names[i * 200], "image", "image", "{}", 1});
    REQUIRE(step.ok());
    RS_REQUIRE_OK(store->RecordResult(*step, {StepStatus::kSucceeded, "", "", std::nullopt}));
  }

  Result<std::vector<NodeSnapshot>> snaps = store->LoadSnapshots();
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == kNodes);
  int with_step = 0;
  for (int i = 0; i < kNodes; ++i) {
    const NodeSnapshot& s = (*snaps)[i];
    REQUIRE(s.node.name == names[i]);
    REQUIRE(s.components.size() == 2);
    REQUIRE(s.components[0].component == "cuda");
    REQUIRE(s.components[0].content_hash == fmt::format("h-cuda-{}", i % 7));
    REQUIRE(s.components[1].content_hash == fmt::format("h-image-{}", i));
    if (s.last_step) {
      ++with_step;
      REQUIRE(i % 200 == 0);
      REQUIRE(s.last_step->node == s.node.name);
    }
  }
  CHECK(with_step == 50);
  CHECK((*snaps)[42].node.state == NodeState::kFailed);
  CHECK((*snaps)[42].node.reason == "burn-in failed");
  CHECK((*snaps)[43].node.state == NodeState::kNew);
}

}  // namespace
}  // namespace racksmith::state
