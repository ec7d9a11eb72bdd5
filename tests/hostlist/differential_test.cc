// Differential tests: racksmith's hostlist against Slurm's own `scontrol` (22.05 on Debian 12)
// over thousands of seeded random cases. A mismatch prints the case, both outputs and the
// seed, so it can be replayed.
#include <catch2/catch.hpp>

#include "hostlist/hostlist.h"
#include "hostlist/random_hostlists.h"

namespace racksmith::hostlist {
namespace {

using testing::RandomHostlists;
using testing::RunScontrol;

constexpr uint64_t kSeed = 20261124;

std::string Join(const std::vector<std::string>& names, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? sep : "") + names[i];
  return out;
}

bool SlurmRejected(const std::string& output) {
  return output.find("Invalid hostlist") != std::string::npos ||
         output.find("scontrol: error") != std::string::npos;
}

std::vector<std::string> Scontrol(const std::string& what, const std::vector<std::string>& args) {
  std::string error;
  auto outputs = RunScontrol(what, args, &error);
  if (!error.empty()) FAIL(error);
  REQUIRE(outputs.size() == args.size());
  return outputs;
}

TEST_CASE("Expansion matches scontrol show hostnames on 2000 random expressions",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed);
  std::vector<std::string> cases;
  for (int i = 0; i < 2000; ++i) cases.push_back(gen.Expression());
  auto slurm = Scontrol("hostnames", cases);
  int mismatches = 0;
  for (size_t i = 0; i < cases.size() && mismatches < 5; ++i) {
    auto ours = Expand(cases[i]);
    std::string got = ours.ok() ? Join(*ours, "\n") + "\n" : "error: " + ours.error().message();
    if (got != slurm[i]) {
      ++mismatches;
      UNSCOPED_INFO("seed " << kSeed << " case " << i << ": " << cases[i]);
      CHECK(got == slurm[i]);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("Count equals the number of names scontrol prints", "[hostlist][differential]") {
  RandomHostlists gen(kSeed + 1);
  std::vector<std::string> cases;
  for (int i = 0; i < 300; ++i) cases.push_back(gen.Expression());
  auto slurm = Scontrol("hostnames", cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto n = Count(cases[i]);
    REQUIRE(n.ok());
    size_t lines = static_cast<size_t>(std::count(slurm[i].begin(), slurm[i].end(), '\n'));
    INFO("case " << i << ": " << cases[i]);
    REQUIRE(*n == lines);
  }
}

TEST_CASE("Compression matches scontrol show hostlist on 2000 random name lists",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed + 2);
  std::vector<std::vector<std::string>> cases;
  std::vector<std::string> args;
  for (int i = 0; i < 2000; ++i) {
    cases.push_back(gen.Names());
    args.push_back(Join(cases.back(), ","));
  }
  auto slurm = Scontrol("hostlist", args);
  int mismatches = 0;
  for (size_t i = 0; i < cases.size() && mismatches < 5; ++i) {
    std::string got = Compress(cases[i]) + "\n";
    if (got != slurm[i]) {
      ++mismatches;
      UNSCOPED_INFO("seed " << kSeed + 2 << " case " << i << ": " << args[i]);
      CHECK(got == slurm[i]);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("Compressing an expression matches scontrol show hostlist of the expression",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed + 3);
  std::vector<std::string> cases;
  for (int i = 0; i < 800; ++i) cases.push_back(gen.Expression());
  auto slurm = Scontrol("hostlist", cases);
  int mismatches = 0;
  for (size_t i = 0; i < cases.size() && mismatches < 5; ++i) {
    auto compressed = CompressExpression(cases[i]);
    REQUIRE(compressed.ok());
    std::string got = *compressed + "\n";
    if (got != slurm[i]) {
      ++mismatches;
      UNSCOPED_INFO("seed " << kSeed + 3 << " case " << i << ": " << cases[i]);
      CHECK(got == slurm[i]);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("Expressions that scontrol rejects are rejected with a column",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed + 4);
  std::vector<std::string> cases;
  for (int i = 0; i < 300; ++i) cases.push_back(gen.MalformedExpression());
  auto slurm = Scontrol("hostnames", cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ": " << cases[i] << "\nscontrol: " << slurm[i]);
    REQUIRE(SlurmRejected(slurm[i]));
    auto ours = Expand(cases[i]);
    REQUIRE_FALSE(ours.ok());
    CHECK(ours.error().code() == ErrorCode::kInvalidInput);
    CHECK(ours.error().where().col >= 1);
    CHECK(ours.error().where().col <= static_cast<int>(cases[i].size()) + 1);
  }
}

}  // namespace
}  // namespace racksmith::hostlist
