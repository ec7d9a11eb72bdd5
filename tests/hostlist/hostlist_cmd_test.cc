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

TEST_CASE("hostlist --expand and --count read hostlists from stdin", "[hostlist][cli]") {
  CliOptions opt;
  opt.stdin_text = "r[1-2]n[01-02]\n  \nlogin1\n";
  auto e = RunCli({"hostlist", "--expand", "-"}, opt);
  CHECK(e.exit_code == 0);
  CHECK(e.out == "r1n01\nr1n02\nr2n01\nr2n02\nlogin1\n");
  auto n = RunCli({"hostlist", "--count", "-", "x[1-5]"}, opt);
  CHECK(n.exit_code == 0);
  CHECK(n.out == "10\n");
}

TEST_CASE("hostlist with an empty stdin prints no names, an empty hostlist and zero",
          "[hostlist][cli]") {
  CliOptions opt;
  opt.stdin_text = "";
  auto e = RunCli({"hostlist", "-e", "-"}, opt);
  CHECK(e.exit_code == 0);
  CHECK(e.out.empty());
  auto c = RunCli({"hostlist", "-c", "-"}, opt);
  CHECK(c.exit_code == 0);
  CHECK(c.out == "\n");
  auto j = RunCli({"hostlist", "-c", "--json", "-"}, opt);
  CHECK(j.out == "{\"hostlist\": \"\", \"count\": 0}\n");
  auto n = RunCli({"hostlist", "-n", "-"}, opt);
  CHECK(n.out == "0\n");
}

TEST_CASE("hostlist --compress of an expression prints it as scontrol does", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-c", "node1[00-10]", "r[1-2]n[01-02]"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "node1[00-10],r1n[01-02],r2n[01-02]\n");
  auto names = RunCli({"hostlist", "-c", "n09", "n10", "n011", "n12"});
  CHECK(names.out == "n[09-10,011,12]\n");
}

TEST_CASE("hostlist names the column of an error in the argument that has it", "[hostlist][cli]") {
  auto r = RunCli({"hostlist", "-e", "n[1-2]", "gpu-n[01-04]x"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "racksmith hostlist: hostlist \"gpu-n[01-04]x\" column 13: expected ',' or the end "
        "after ']', found \"x\" (as in Slurm, text may not follow the last bracket)\n"
        "  gpu-n[01-04]x\n"
        "              ^\n");
  auto bad_char = RunCli({"hostlist", "-n", "n1,n@2"});
  CHECK(bad_char.exit_code == 2);
  CHECK_THAT(bad_char.err, Catch::Contains("column 5: expected a letter, digit"));
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
