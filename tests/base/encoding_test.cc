#include "base/encoding.h"

#include <catch2/catch.hpp>

namespace racksmith {
namespace {

TEST_CASE("base64 decodes what HTTP Basic auth sends, padded or not, and refuses garbage",
          "[base]") {
  CHECK(Base64Decode("YWRtaW46cGFzc3dvcmQ=") == std::optional<std::string>("admin:password"));
  CHECK(Base64Decode("YWI=") == std::optional<std::string>("ab"));
  CHECK(Base64Decode("YQ==") == std::optional<std::string>("a"));
  CHECK(Base64Decode("YWJj") == std::optional<std::string>("abc"));
  CHECK(Base64Decode("") == std::optional<std::string>(""));
  CHECK_FALSE(Base64Decode("YWJ"));      // not a multiple of 4
  CHECK_FALSE(Base64Decode("YW*j"));     // not the alphabet
}

}  // namespace
}  // namespace racksmith
