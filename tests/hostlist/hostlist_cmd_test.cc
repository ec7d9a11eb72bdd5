// End-to-end tests of `racksmith hostlist` through the real binary.
// Regenerate the golden files: RACKSMITH_UPDATE_GOLDEN=1 racksmith_tests_hostlist
#include <catch2/catch.hpp>

#include "support/cli_runner.h"
#include "support/golden.h"

namespace racksmith::hostlist {
namespace {

using racksmith::testing::CliOptions;
using racksmith::testing::MatchesGolden;
using racksmith::testing::RunCli;

TEST_CASE("hostlist --expand prints one name per line", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "--expand", "gpu-r01-n[01-03],login1"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "gpu-r01-n01\ngpu-r01-n02\ngpu-r01-n03\nlogin1\n");
  CHECK(r.err.empty());
}

TEST_CASE("hostlist expands by default and takes several expressions", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "n[1-2]", "10.1.0.[11-12]"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "n1\nn2\n10.1.0.11\n10.1.0.12\n");
}

TEST_CASE("hostlist -e --json prints a JSON array", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-e", "--json", "n[1-3]"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "[\"n1\", \"n2\", \"n3\"]\n");
}

TEST_CASE("hostlist --compress folds names and hostlists given as arguments", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "--compress", "n1", "n2", "n[3-5]", "x", "n7"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "n[1-5],x,n7\n");
}

TEST_CASE("hostlist -c - reads names from stdin, one per line or comma separated",
          "[hostlist][cli]") {
  CliOptions opt;
  opt.stdin_text = "n1\nn2,n3\n\nn[5-6]\n";
  auto r = RunCli({"hostlist", "-c", "-"}, opt);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "n[1-3,5-6]\n");
}

TEST_CASE("hostlist -c --json prints the hostlist and its count", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-c", "--json", "n1,n2,n4"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{\"hostlist\": \"n[1-2,4]\", \"count\": 3}\n");
}

TEST_CASE("hostlist --count prints the total over all expressions", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "--count", "r[1-2]n[01-16]", "login1"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "33\n");
  auto j = RunCli({"hostlist", "-n", "--json", "n[0-999999]"});
  CHECK(j.out == "{\"count\": 1000000}\n");
}

TEST_CASE("hostlist with a malformed expression exits 2 with the column marked",
          "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-e", "gpu-r01-n[05-1]"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(MatchesGolden("hostlist/reversed_range.txt", r.err));
}

TEST_CASE("hostlist marks the column of an error in a long expression", "[hostlist][cli]") {
  std::string e = "n[1-4]";
  for (int i = 0; i < 20; ++i) e += ",rack" + std::to_string(i) + "-n[01-16]";
  e += ",x[1-3";
  auto r = RunCli({"hostlist", "-c", e});
  CHECK(r.exit_code == 2);
  CHECK(MatchesGolden("hostlist/unclosed_long.txt", r.err));
}

TEST_CASE("hostlist names the stdin line of an error", "[hostlist][cli]") {
  CliOptions opt;
  opt.stdin_text = "n1\nn2,,n3\n";
  auto r = RunCli({"hostlist", "-c", "-"}, opt);
  CHECK(r.exit_code == 2);
  CHECK(MatchesGolden("hostlist/stdin_error.txt", r.err));
}

TEST_CASE("hostlist refuses more than kMaxHosts names with exit code 2", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-e", "n[0-999999999]"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("expected at most 1000000 names") != std::string::npos);
  auto two = RunCli({"hostlist", "-n", "n[1-600000]", "m[1-600000]"});
  CHECK(two.exit_code == 2);
}

TEST_CASE("hostlist rejects two modes at once as a usage error", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-e", "-c", "n1"});
  CHECK(r.exit_code == 2);
}

}  // namespace
}  // namespace racksmith::hostlist
