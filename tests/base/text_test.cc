// Checks on short texts: path segments and addresses.
#include "base/text.h"

#include <catch2/catch.hpp>

namespace racksmith {
namespace {

TEST_CASE("the user information of an address is found before its host only", "[base]") {
  CHECK_FALSE(UserInfoOf("10.9.0.1"));
  CHECK_FALSE(UserInfoOf("bmc1.example:8443"));
  CHECK_FALSE(UserInfoOf("https://10.9.0.1/redfish/v1"));
  CHECK_FALSE(UserInfoOf("https://10.9.0.1/path@not-userinfo"));
  CHECK_FALSE(UserInfoOf("https://10.9.0.1?q=a@b"));
  CHECK(UserInfoOf("admin@10.9.0.1") == "admin");
  CHECK(UserInfoOf("https://admin:pw@10.9.0.1:443/redfish/v1") == "admin:pw");
  CHECK(UserInfoOf("https://a@b:p@ss@host") == "a@b:p@ss");
  CHECK(UserInfoOf("qemu+ssh://root@kvm1/system") == "root");
  CHECK(UserInfoOf("https://@host") == "");
}

TEST_CASE("a plain path segment is letters, digits, dot, underscore and dash", "[base]") {
  CHECK(IsPlainPathSegment("System.Embedded.1"));
  CHECK(IsPlainPathSegment("nvidia_driver-560"));
  CHECK_FALSE(IsPlainPathSegment(""));
  CHECK_FALSE(IsPlainPathSegment(".."));
  CHECK_FALSE(IsPlainPathSegment("a/b"));
  CHECK_FALSE(IsPlainPathSegment("a b"));
}

}  // namespace
}  // namespace racksmith
