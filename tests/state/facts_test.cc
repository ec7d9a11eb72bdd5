// SSH host keys, BMC facts, burn-in results and the small record helpers.
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

TEST_CASE("a host key is trusted on first use and its sightings update last_seen", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  CHECK_FALSE(store->LookupHostKey("n1", "ssh-ed25519")->has_value());
  RS_REQUIRE_OK(store->RecordHostKey("n1", "10.2.0.11:22", "ssh-ed25519", "AAAAC3Nza"));
  clock.Advance(10'000);
  RS_REQUIRE_OK(store->RecordHostKey("n1", "10.2.0.99:22", "ssh-ed25519", "AAAAC3Nza"));
  Result<std::optional<HostKey>> key = store->LookupHostKey("n1", "ssh-ed25519");
  REQUIRE(key.ok());
  REQUIRE(key->has_value());
  CHECK((*key)->key == "AAAAC3Nza");
  CHECK((*key)->address == "10.2.0.99:22");
  CHECK((*key)->last_seen == (*key)->first_seen + 10'000);
}

TEST_CASE("a changed host key is a conflict that names both keys and changes nothing", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  RS_REQUIRE_OK(store->RecordHostKey("n1", "10.2.0.11:22", "ssh-ed25519", "OLDKEY"));
  Status s = store->RecordHostKey("n1", "10.2.0.11:22", "ssh-ed25519", "NEWKEY");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == ErrorCode::kConflict);
  CHECK(s.error().message() ==
        ":memory:: the ssh-ed25519 host key of node 'n1' changed: recorded OLDKEY (first seen "
        "2023-11-14 22:13:20 UTC at 10.2.0.11:22), offered NEWKEY at 10.2.0.11:22; if the "
        "node was reinstalled, forget its host keys first");
  CHECK(store->LookupHostKey("n1", "ssh-ed25519")->value().key == "OLDKEY");
}

TEST_CASE("forgetting a node's host keys lets a new key be recorded", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  RS_REQUIRE_OK(store->RecordHostKey("n1", "a", "ssh-ed25519", "K1"));
  RS_REQUIRE_OK(store->RecordHostKey("n1", "a", "ecdsa-sha2-nistp256", "K2"));
  RS_REQUIRE_OK(store->RecordHostKey("n2", "b", "ssh-ed25519", "K3"));
  CHECK(store->HostKeys("n1")->size() == 2);
  Result<int> forgotten = store->ForgetHostKeys("n1");
  REQUIRE(forgotten.ok());
  CHECK(*forgotten == 2);
  CHECK(store->HostKeys("n1")->empty());
  CHECK(store->HostKeys("n2")->size() == 1);
  RS_REQUIRE_OK(store->RecordHostKey("n1", "a", "ssh-ed25519", "K9"));
}

TEST_CASE("the latest BMC facts of a node are returned, older ones kept", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  CHECK_FALSE(store->LatestBmcFacts("n1")->has_value());
  RS_REQUIRE_OK(store->RecordBmcFacts("n1", R"({"gpus":4})"));
  clock.Advance(1000);
  RS_REQUIRE_OK(store->RecordBmcFacts("n1", R"({"gpus":3})"));
  Result<std::optional<BmcFacts>> facts = store->LatestBmcFacts("n1");
  REQUIRE(facts.ok());
  REQUIRE(facts->has_value());
  CHECK((*facts)->facts_json == R"({"gpus":3})");
  CHECK((*facts)->collected_at == clock.NowUnixMillis());
  Status bad = store->RecordBmcFacts("n1", "not json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == ErrorCode::kInvalidInput);
}

TEST_CASE("the latest BMC facts of every node come back in one call, sorted by node", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  Result<std::vector<BmcFacts>> none = store->LatestBmcFactsOfAllNodes();
  REQUIRE(none.ok());
  CHECK(none->empty());
  RS_REQUIRE_OK(store->RecordBmcFacts("n2", R"({"gpus":8})"));
  RS_REQUIRE_OK(store->RecordBmcFacts("n1", R"({"gpus":4})"));
  clock.Advance(1000);
  RS_REQUIRE_OK(store->RecordBmcFacts("n1", R"({"gpus":3})"));
  Result<std::vector<BmcFacts>> all = store->LatestBmcFactsOfAllNodes();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].node == "n1");
  CHECK((*all)[0].facts_json == R"({"gpus":3})");
  CHECK((*all)[0].collected_at == clock.NowUnixMillis());
  CHECK((*all)[1].node == "n2");
  CHECK((*all)[1].facts_json == R"({"gpus":8})");
}

TEST_CASE("burn-in results are kept per node in order", "[state]") {
  FakeClock clock;
  auto store = MemoryStore(clock);
  REQUIRE(store->EnsureNodes({"n1"}, NodeState::kNew).ok());
  Result<int64_t> run = store->BeginRun({"racksmith burnin n1", "root", "ctl", 1});
  REQUIRE(run.ok());
  RS_REQUIRE_OK(store->RecordBurnin({"n1", *run, false, R"({"gemm_tflops":12.5})", 0}));
  RS_REQUIRE_OK(store->RecordBurnin({"n1", 0, true, "", 0}));
  Result<std::vector<BurninResult>> results = store->BurninResults("n1");
  REQUIRE(results.ok());
  REQUIRE(results->size() == 2);
  CHECK_FALSE(results->at(0).passed);
  CHECK(results->at(0).run_id == *run);
  CHECK(results->at(0).summary_json == R"({"gemm_tflops":12.5})");
  CHECK(results->at(1).passed);
  CHECK(results->at(1).summary_json == "{}");
  CHECK(store->RecordBurnin({"ghost", 0, true, "{}", 0}).error().code() == ErrorCode::kNotFound);
}

TEST_CASE("node state names print and parse both ways", "[state]") {
  for (NodeState s : kAllNodeStates) {
    Result<NodeState> parsed = ParseNodeState(NodeStateName(s));
    REQUIRE(parsed.ok());
    CHECK(*parsed == s);
  }
  CHECK(NodeStateName(NodeState::kBurnin) == "burnin");
  Result<NodeState> bad = ParseNodeState("Active");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() ==
        "unknown node state 'Active'; expected one of: new, discovered, provisioning, burnin, "
        "active, draining, maintenance, retiring, retired, failed");
}

TEST_CASE("step statuses and run outcomes print and parse both ways", "[state]") {
  for (StepStatus s : {StepStatus::kIntended, StepStatus::kRunning, StepStatus::kSucceeded,
                       StepStatus::kFailed, StepStatus::kSkipped}) {
    CHECK(ParseStepStatus(StepStatusName(s)).value() == s);
  }
  for (RunOutcome o :
       {RunOutcome::kRunning, RunOutcome::kSucceeded, RunOutcome::kFailed, RunOutcome::kAborted}) {
    CHECK(ParseRunOutcome(RunOutcomeName(o)).value() == o);
  }
  CHECK_FALSE(ParseStepStatus("done").ok());
  CHECK(IsFinished(StepStatus::kSkipped));
  CHECK_FALSE(IsFinished(StepStatus::kRunning));
}

TEST_CASE("secret option values are redacted from a command line", "[state]") {
  CHECK(RedactCommandLine({"racksmith", "apply", "--bmc-password", "hunter2", "--token=abc", "-i",
                           "inv", "--yes"}) ==
        "racksmith apply --bmc-password *** --token=*** -i inv --yes");
  CHECK(RedactCommandLine({"racksmith", "status", "--json"}) == "racksmith status --json");
}

TEST_CASE("times print in UTC for people and as ISO 8601 for JSON", "[state]") {
  CHECK(FormatTime(1'700'000'000'123) == "2023-11-14 22:13:20 UTC");
  CHECK(FormatTimeIso(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace racksmith::state
