#include "base/status.h"

#include <catch2/catch.hpp>

namespace racksmith {
namespace {

TEST_CASE("an error with a location prints file:line:col before its message", "[base]") {
  Error e = InvalidInput("expected a list, found a string", {"inv/site.yaml", 12, 7});
  CHECK(e.ToString() == "inv/site.yaml:12:7: expected a list, found a string");
  CHECK(e.code() == ErrorCode::kInvalidInput);
}

TEST_CASE("an error without a location prints only its message", "[base]") {
  CHECK(NotFound("no node 'x'").ToString() == "no node 'x'");
}

TEST_CASE("context is prefixed to the message and the location kept", "[base]") {
  Error e = InvalidInput("bad", {"f.yaml", 3, 0}).WithContext("node n01");
  CHECK(e.ToString() == "f.yaml:3: node n01: bad");
}

TEST_CASE("a result holds either a value or an error", "[base]") {
  Result<int> good = 4;
  REQUIRE(good.ok());
  CHECK(*good == 4);
  Result<int> bad = IoError("disk full");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == ErrorCode::kIo);
  Status s;
  CHECK(s.ok());
  Status f = Internal("x");
  CHECK_FALSE(f.ok());
}

}  // namespace
}  // namespace racksmith
