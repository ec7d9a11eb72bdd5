// Compression, one behaviour per test; the expected strings were checked against
// `scontrol show hostlist` (Slurm 22.05).
#include <catch2/catch.hpp>

#include "hostlist/hostlist.h"

namespace racksmith::hostlist {
namespace {

using Names = std::vector<std::string>;

TEST_CASE("Consecutive numbers fold into a range", "[hostlist]") {
  CHECK(Compress({"n1", "n2", "n3", "n4"}) == "n[1-4]");
  CHECK(Compress({"gpu-r01-n01", "gpu-r01-n02", "gpu-r01-n03"}) == "gpu-r01-n[01-03]");
}

TEST_CASE("A lone numbered name prints without brackets", "[hostlist]") {
  CHECK(Compress({"n1"}) == "n1");
  CHECK(Compress({"n1", "m1"}) == "n1,m1");
}

TEST_CASE("Gaps become a comma list inside one bracket", "[hostlist]") {
  CHECK(Compress({"n1", "n3", "n5"}) == "n[1,3,5]");
  CHECK(Compress({"n1", "n2", "n3", "n7"}) == "n[1-3,7]");
}

TEST_CASE("Names keep their order and are not sorted", "[hostlist]") {
  CHECK(Compress({"n3", "n1", "n2"}) == "n[3,1-2]");
  CHECK(Compress({"n10", "n9", "n8"}) == "n[10,9,8]");
  CHECK(Compress({"z", "y", "x"}) == "z,y,x");
  CHECK(Compress({"b1", "a1", "b2"}) == "b1,a1,b2");
}

TEST_CASE("Duplicates are kept", "[hostlist]") {
  CHECK(Compress({"n1", "n1", "n2"}) == "n[1,1-2]");
  CHECK(Compress({"a", "b", "a"}) == "a,b,a");
}

TEST_CASE("A different prefix in between splits the brackets", "[hostlist]") {
  CHECK(Compress({"n1", "x", "n2"}) == "n1,x,n2");
  CHECK(Compress({"n", "n1", "n2"}) == "n,n[1-2]");
}

TEST_CASE("A range crossing a power of ten keeps the narrower width", "[hostlist]") {
  CHECK(Compress({"n9", "n10", "n11"}) == "n[9-11]");
  CHECK(Compress({"n998", "n999", "n1000"}) == "n[998-1000]");
}

TEST_CASE("Zero-padded numbers fold only with the same padding", "[hostlist]") {
  CHECK(Compress({"n09", "n10"}) == "n[09-10]");
  CHECK(Compress({"n099", "n100"}) == "n[099-100]");
  CHECK(Compress({"n01", "n2"}) == "n[01,2]");
  CHECK(Compress({"n8", "n09"}) == "n[8,09]");
  CHECK(Compress({"n98", "n099", "n100"}) == "n[98,099-100]");
  CHECK(Compress({"n0", "n00", "n000"}) == "n[0,00,000]");
}

TEST_CASE("Several dimensions are not folded together, as in Slurm", "[hostlist]") {
  CHECK(Compress({"r1n01", "r1n02", "r2n01", "r2n02"}) == "r1n[01-02],r2n[01-02]");
}

TEST_CASE("IPv4 addresses fold on their last octet", "[hostlist]") {
  CHECK(Compress({"10.1.0.11", "10.1.0.12", "10.1.0.13"}) == "10.1.0.[11-13]");
}

TEST_CASE("Names that are only digits fold with an empty prefix", "[hostlist]") {
  CHECK(Compress({"1", "2", "3"}) == "[1-3]");
}

TEST_CASE("A digit suffix of nineteen digits folds", "[hostlist]") {
  CHECK(Compress({"n1234567890123456789", "n1234567890123456790"}) ==
        "n[1234567890123456789-1234567890123456790]");
}

TEST_CASE("A digit suffix longer than nineteen digits is kept as text", "[hostlist]") {
  CHECK(Compress({"n12345678901234567890", "n12345678901234567891"}) ==
        "n12345678901234567890,n12345678901234567891");
}

TEST_CASE("No names compress to an empty string", "[hostlist]") { CHECK(Compress({}).empty()); }

TEST_CASE("Expanding a compressed list gives the names back", "[hostlist]") {
  for (const Names& names :
       {Names{"n1", "n1", "n2", "x", "n01", "n3"}, Names{"n9", "n010", "n10", "n11"},
        Names{"a1b2", "a1b3", "a2b2"}, Names{"10.0.0.255", "10.0.0.254", "10.0.1.0"}}) {
    auto back = Expand(Compress(names));
    REQUIRE(back.ok());
    CHECK(*back == names);
  }
}

TEST_CASE("Compressing ten thousand names is linear and round-trips", "[hostlist]") {
  auto names = Expand("r[01-40]n[001-250]");
  REQUIRE(names.ok());
  REQUIRE(names->size() == 10'000);
  std::string list = Compress(*names);
  CHECK(list.rfind("r01n[001-250],r02n[001-250],", 0) == 0);
  CHECK(*Expand(list) == *names);
}

TEST_CASE("CompressExpression folds each name's last bracket group as scontrol does",
          "[hostlist]") {
  CHECK(*CompressExpression("n[1-3],n[4-5]") == "n[1-5]");
  CHECK(*CompressExpression("n[1-2,3-4]") == "n[1-4]");
  CHECK(*CompressExpression("n[1-3],n[2-5]") == "n[1-3,2-5]");
  CHECK(*CompressExpression("a[1-2]b[1-2]") == "a1b[1-2],a2b[1-2]");
  CHECK(*CompressExpression("node1[00-10]") == "node1[00-10]");
  CHECK(Compress(*Expand("node1[00-10]")) == "node[100-110]");
  CHECK(*CompressExpression("n3,n1,n2") == "n[3,1-2]");
}

}  // namespace
}  // namespace racksmith::hostlist
