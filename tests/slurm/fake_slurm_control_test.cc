// FakeSlurmControl behaves like the real one where the executor can tell.
#include <catch2/catch.hpp>

#include <thread>

#include "slurm/fake_slurm_control.h"

namespace racksmith::slurm {
namespace {

TEST_CASE("The fake drains and resumes like Slurm", "[slurm]") {
  FakeSlurmControl slurm;
  slurm.AddNode("lab-n01");
  REQUIRE(slurm.GetNode("lab-n01")->IsInService());
  REQUIRE(slurm.Drain("lab-n01", "reimage").ok());
  auto n = slurm.GetNode("lab-n01");
  REQUIRE(n.ok());
  CHECK(n->IsDrained());
  CHECK(n->StateText() == "IDLE+DRAIN");
  CHECK(n->reason == "reimage");
  REQUIRE(slurm.Resume("lab-n01").ok());
  CHECK(slurm.GetNode("lab-n01")->IsInService());
  CHECK(slurm.GetNode("lab-n01")->reason.empty());
  // Resuming a node in service is not an error, as with the real one.
  CHECK(slurm.Resume("lab-n01").ok());
}

TEST_CASE("The fake models a busy node as draining until its jobs end", "[slurm]") {
  FakeSlurmControl slurm;
  slurm.AddNode("lab-n02", "MIXED");
  REQUIRE(slurm.Drain("lab-n02", "firmware").ok());
  CHECK_FALSE(slurm.GetNode("lab-n02")->IsDrained());
  CHECK(slurm.GetNode("lab-n02")->HasFlag("DRAIN"));
  slurm.SetBaseState("lab-n02", "IDLE");
  CHECK(slurm.GetNode("lab-n02")->IsDrained());
}

TEST_CASE("The fake does not know nodes it was not given", "[slurm]") {
  FakeSlurmControl slurm;
  auto n = slurm.GetNode("nosuch");
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code() == ErrorCode::kNotFound);
  CHECK(slurm.Drain("nosuch", "x").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("The fake returns injected errors once or always", "[slurm]") {
  FakeSlurmControl slurm;
  slurm.AddNode("lab-n01");
  slurm.FailNext("lab-n01", IoError("controller down"));
  Status first = slurm.Drain("lab-n01", "x");
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().message() == "controller down");
  CHECK(slurm.Drain("lab-n01", "x").ok());
  slurm.FailAlways("lab-n01", Error(ErrorCode::kRefused, "no"));
  CHECK_FALSE(slurm.Resume("lab-n01").ok());
  CHECK_FALSE(slurm.GetNode("lab-n01").ok());
  slurm.ClearFailures("lab-n01");
  CHECK(slurm.Resume("lab-n01").ok());
  CHECK(slurm.Calls() == std::vector<std::string>{"drain lab-n01 x", "drain lab-n01 x",
                                                  "resume lab-n01", "get lab-n01",
                                                  "resume lab-n01"});
}

TEST_CASE("The fake takes calls from many threads at once", "[slurm]") {
  FakeSlurmControl slurm;
  for (int i = 0; i < 8; ++i) slurm.AddNode("n" + std::to_string(i));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&slurm, i] {
      std::string node = "n" + std::to_string(i);
      for (int k = 0; k < 200; ++k) {
        (void)slurm.Drain(node, "r");
        (void)slurm.GetNode(node);
        (void)slurm.Resume(node);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(slurm.Calls().size() == 8u * 200u * 3u);
  for (int i = 0; i < 8; ++i) CHECK(slurm.GetNode("n" + std::to_string(i))->IsInService());
}

}  // namespace
}  // namespace racksmith::slurm
