// Expansion and counting, one behaviour per test; the expected names were checked against
// `scontrol show hostnames` (Slurm 22.05).
#include <catch2/catch.hpp>

#include "hostlist/hostlist.h"

namespace racksmith::hostlist {
namespace {

using Names = std::vector<std::string>;

Names MustExpand(std::string_view expression) {
  auto r = Expand(expression);
  INFO(expression << ": " << (r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("A plain name expands to itself", "[hostlist]") {
  CHECK(MustExpand("login1") == Names{"login1"});
}

TEST_CASE("A bracket range with a comma list expands in order", "[hostlist]") {
  CHECK(MustExpand("a[1-3,7],b") == Names{"a1", "a2", "a3", "a7", "b"});
}

TEST_CASE("A single number in brackets expands to one name", "[hostlist]") {
  CHECK(MustExpand("n[3]") == Names{"n3"});
}

TEST_CASE("Zero padding comes from the width of the lower bound", "[hostlist]") {
  CHECK(MustExpand("n[001-003]") == Names{"n001", "n002", "n003"});
  CHECK(MustExpand("n[01-3]") == Names{"n01", "n02", "n03"});
  CHECK(MustExpand("n[098-101]") == Names{"n098", "n099", "n100", "n101"});
}

TEST_CASE("An upper bound wider than the lower bound adds no padding", "[hostlist]") {
  CHECK(MustExpand("n[9-0011]") == Names{"n9", "n10", "n11"});
  CHECK(MustExpand("n[8-010]") == Names{"n8", "n9", "n10"});
}

TEST_CASE("Each item of a bracket list keeps its own padding", "[hostlist]") {
  CHECK(MustExpand("n[01-02,3,004-5]") == Names{"n01", "n02", "n3", "n004", "n005"});
}

TEST_CASE("Two bracket groups expand leftmost slowest", "[hostlist]") {
  CHECK(MustExpand("r[1-2]n[01-02]") == Names{"r1n01", "r1n02", "r2n01", "r2n02"});
  CHECK(MustExpand("n[1-2][3-4]") == Names{"n13", "n14", "n23", "n24"});
}

TEST_CASE("Three bracket groups expand in Slurm's order, the middle group slowest", "[hostlist]") {
  CHECK(MustExpand("a[1-2]b[3-4]c[5-6]") ==
        Names{"a1b3c5", "a1b3c6", "a2b3c5", "a2b3c6", "a1b4c5", "a1b4c6", "a2b4c5", "a2b4c6"});
}

TEST_CASE("Four bracket groups expand with the third slowest and the last fastest", "[hostlist]") {
  auto names = MustExpand("a[1-2]b[3-4]c[5-6]d[7-8]");
  REQUIRE(names.size() == 16);
  CHECK(Names(names.begin(), names.begin() + 5) ==
        Names{"a1b3c5d7", "a1b3c5d8", "a2b3c5d7", "a2b3c5d8", "a1b4c5d7"});
  CHECK(names[8] == "a1b3c6d7");
}

TEST_CASE("Names with dashes, dots and underscores expand", "[hostlist]") {
  CHECK(MustExpand("gpu-r01-n[01-03]") == Names{"gpu-r01-n01", "gpu-r01-n02", "gpu-r01-n03"});
  CHECK(MustExpand("a.b_c-[1-2]") == Names{"a.b_c-1", "a.b_c-2"});
  CHECK(MustExpand("n[1-2]-[5-6]") == Names{"n1-5", "n1-6", "n2-5", "n2-6"});
}

TEST_CASE("A bracket group may start the name", "[hostlist]") {
  CHECK(MustExpand("[1-3]") == Names{"1", "2", "3"});
}

TEST_CASE("An IPv4 address expands a range in its last octet", "[hostlist]") {
  auto names = MustExpand("10.1.0.[11-26]");
  REQUIRE(names.size() == 16);
  CHECK(names.front() == "10.1.0.11");
  CHECK(names.back() == "10.1.0.26");
}

TEST_CASE("An IPv4 address expands a range per octet in step with two-group names", "[hostlist]") {
  CHECK(MustExpand("10.[1-2].0.[1-2]") == Names{"10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.2"});
  CHECK(MustExpand("r[1-2]n[1-2]").size() == MustExpand("10.[1-2].0.[1-2]").size());
}

TEST_CASE("An IPv4 address with three ranged octets follows Slurm's order", "[hostlist]") {
  CHECK(MustExpand("10.[1-2].[0-1].[1-2]") == Names{"10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.2",
                                                    "10.1.1.1", "10.1.1.2", "10.2.1.1",
                                                    "10.2.1.2"});
}

TEST_CASE("A comma list of hostlists expands each in turn", "[hostlist]") {
  CHECK(MustExpand("n1,n[2-3],m[1-2],n5") == Names{"n1", "n2", "n3", "m1", "m2", "n5"});
}

TEST_CASE("Whitespace separates names like a comma", "[hostlist]") {
  CHECK(MustExpand("a b") == Names{"a", "b"});
  CHECK(MustExpand(" a,\tb\n, c ") == Names{"a", "b", "c"});
}

TEST_CASE("Commas inside brackets do not split names", "[hostlist]") {
  CHECK(MustExpand("n[1,3],x") == Names{"n1", "n3", "x"});
}

TEST_CASE("Duplicates are kept and nothing is sorted", "[hostlist]") {
  CHECK(MustExpand("b,a,b") == Names{"b", "a", "b"});
  CHECK(MustExpand("n[3,1-2,2]") == Names{"n3", "n1", "n2", "n2"});
}

TEST_CASE("Count gives the number of names without expanding them", "[hostlist]") {
  CHECK(*Count("a[1-3,7],b") == 5);
  CHECK(*Count("r[1-2]n[01-16]") == 32);
  CHECK(*Count("n[0-999999]") == 1'000'000);
  CHECK(*Count("a[0-999]b[0-999]") == kMaxHosts);
}

TEST_CASE("Count agrees with the size of the expansion", "[hostlist]") {
  for (const char* e : {"x", "n[1-3],m", "a[1-2]b[3-4]c[5-6]", "10.[1-2].0.[1-4]"}) {
    INFO(e);
    CHECK(*Count(e) == MustExpand(e).size());
  }
}

TEST_CASE("Expansion up to kMaxHosts names succeeds", "[hostlist]") {
  auto names = MustExpand("n[1-1000000]");
  REQUIRE(names.size() == kMaxHosts);
  CHECK(names.back() == "n1000000");
}

TEST_CASE("Numbers of nineteen digits expand", "[hostlist]") {
  CHECK(MustExpand("n[9999999999999999998-9999999999999999999]") ==
        Names{"n9999999999999999998", "n9999999999999999999"});
}

}  // namespace
}  // namespace racksmith::hostlist
