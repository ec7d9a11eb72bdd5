// Differential tests: racksmith's hostlist against Slurm's own `scontrol` (22.05 on Debian 12)
// over thousands of seeded random cases, batched into a few scontrol processes so the whole
// file takes seconds. A mismatch prints the case, both outputs and the seed, so it can be
// replayed. Without scontrol these tests fail: the Debian package slurm-client is required.
#include <algorithm>
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

TEST_CASE("Expansion matches scontrol show hostnames on 3000 random expressions",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed);
  std::vector<std::string> cases;
  for (int i = 0; i < 3000; ++i) cases.push_back(gen.Expression());
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

TEST_CASE("Compression matches scontrol show hostlist on 3000 random name lists",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed + 2);
  std::vector<std::vector<std::string>> cases;
  std::vector<std::string> args;
  for (int i = 0; i < 3000; ++i) {
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
  for (int i = 0; i < 2000; ++i) cases.push_back(gen.Expression());
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

TEST_CASE("Names separated by spaces and tabs expand as scontrol expands them",
          "[hostlist][differential]") {
  RandomHostlists gen(kSeed + 5);
  std::vector<std::string> cases;
  for (int i = 0; i < 40; ++i) cases.push_back(gen.Expression(/*whitespace=*/true));
  auto slurm = Scontrol("hostnames", cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto ours = Expand(cases[i]);
    INFO("seed " << kSeed + 5 << " case " << i << ": " << cases[i]);
    REQUIRE(ours.ok());
    CHECK(Join(*ours, "\n") + "\n" == slurm[i]);
  }
}

// The forms the inventory uses most, and the corners of Slurm's syntax, checked one by one.
TEST_CASE("Hand-picked expressions expand and compress exactly as scontrol prints them",
          "[hostlist][differential]") {
  const std::vector<std::string> cases = {
      "a[1-3,7]",
      "n[001-100]",
      "r[1-2]n[01-04]",
      "a1,a2,a3,b7",
      "gpu-r01-n[01-16]",
      "gpu-r01-n[01-16],gpu-r02-n[01-16],login1",
      "node1[00-10]",
      "n9,n10,n11",
      "n[9-010]",
      "n[1-03]",
      "[1-3]",
      "a[1-3][4-5]",
      "a[1-2]-[3-4]",
      "a[3,1-2]",
      "a[1-2,2-3]",
      "n[000-001]",
      "a[1-2]b[3-4]c[5-6]",
      "10.1.[0-1].[11-14]",
      "10.2.0.[1-4,250-255]",
      "dgx-a100-[1-8]",
      "x0y[0-2]z[08-11]",
      "n[0-65535]",
      "n[99999999999-100000000000]",
      "A[1-2],a[1-2]",
      "n01,n1,n001,n2",
      "n[99-101]",
      "n1234567890123456789,n1234567890123456790",
      "n[9999999999999999998-9999999999999999999]",
  };
  auto hostnames = Scontrol("hostnames", cases);
  auto hostlist = Scontrol("hostlist", cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i]);
    auto names = Expand(cases[i]);
    REQUIRE(names.ok());
    CHECK(Join(*names, "\n") + "\n" == hostnames[i]);
    auto folded = CompressExpression(cases[i]);
    REQUIRE(folded.ok());
    CHECK(*folded + "\n" == hostlist[i]);
  }
}

// docs/hostlist.md lists where racksmith deliberately parts from Slurm. This keeps that list
// true: if a Slurm upgrade changes one of these, the documentation must change with it.
TEST_CASE("The documented differences from Slurm are still differences",
          "[hostlist][differential]") {
  // Slurm accepts these (with surprising results); racksmith rejects them with a column.
  const std::vector<std::string> stricter = {"a,,b",  ",a",  "a,",  "a[1-3",   "a]", "a[[1-2]",
                                             "a[1-]", "x@y", "a/b", "a[1 -2]", ""};
  auto slurm = Scontrol("hostnames", stricter);
  for (size_t i = 0; i < stricter.size(); ++i) {
    INFO(stricter[i] << "\nscontrol: " << slurm[i]);
    CHECK_FALSE(SlurmRejected(slurm[i]));
    auto ours = Expand(stricter[i]);
    REQUIRE_FALSE(ours.ok());
    CHECK(ours.error().where().col >= 1);
  }
  // Slurm refuses a range of more than 65536 names; racksmith allows up to kMaxHosts in all.
  auto big = Scontrol("hostnames", {"n[0-65536]"});
  CHECK(SlurmRejected(big[0]));
  auto ours = Count("n[0-65536]");
  REQUIRE(ours.ok());
  CHECK(*ours == 65537);
  // Slurm keeps a line break inside a name; racksmith separates names at it.
  auto line_break = Scontrol("hostnames", {"a ,\nb"});
  CHECK(line_break[0] == "a\n\nb\n");
  CHECK(*Expand("a ,\nb") == std::vector<std::string>{"a", "b"});
  // Slurm wraps a number past 2^64-1 to another name; racksmith keeps such a name as text.
  auto wrapped = Scontrol("hostlist", {"n99999999999999999999,n2"});
  CHECK(wrapped[0] == "n[18446744073709551615,2]\n");
  CHECK(Compress({"n99999999999999999999", "n2"}) == "n99999999999999999999,n2");
}

}  // namespace
}  // namespace racksmith::hostlist
