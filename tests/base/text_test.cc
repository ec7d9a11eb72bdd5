// Checks on short texts: path segments and addresses.
#include "base/text.h"

#include <catch2/catch.hpp>

namespace racksmith {
namespace {

TEST_CASE("what may be user information in an address is never less than the real one",
          "[base]") {
  CHECK_FALSE(UserInfoOf("10.9.0.1"));
  CHECK_FALSE(UserInfoOf("bmc1.example:8443"));
  CHECK_FALSE(UserInfoOf("https://10.9.0.1/redfish/v1"));
  CHECK_FALSE(UserInfoOf("[::1]:8443"));
  CHECK(UserInfoOf("admin@10.9.0.1") == "admin");
  CHECK(UserInfoOf("https://admin:pw@10.9.0.1:443/redfish/v1") == "admin:pw");
  CHECK(UserInfoOf("https://a@b:p@ss@host") == "a@b:p@ss");
  CHECK(UserInfoOf("qemu+ssh://root@kvm1/system") == "root");
  CHECK(UserInfoOf("https://@host") == "");
  // A password with '#', '/' or '?' in it: a URL parser would end the host there.
  CHECK(UserInfoOf("https://admin:pa#ss@10.9.0.1") == "admin:pa#ss");
  CHECK(UserInfoOf("https://admin:p/w@10.9.0.1") == "admin:p/w");
  // No scheme, and "://" only in the query: all of it up to the '@'.
  CHECK(UserInfoOf("admin:pw@bmc/x?u=http://y") == "admin:pw");
  // Wide on purpose: an '@' in a path counts.
  CHECK(UserInfoOf("https://10.9.0.1/path@x") == "10.9.0.1/path");
}

TEST_CASE("an address has credentials when it names a user where none belongs or a password",
          "[base]") {
  CHECK_FALSE(AddressHasCredentials("https://10.9.0.1:8443", false));
  CHECK(AddressHasCredentials("admin@10.9.0.1", false));
  CHECK(AddressHasCredentials("https://admin:pa#ss@10.9.0.1", false));
  CHECK_FALSE(AddressHasCredentials("qemu+ssh://root@kvm1/system", true));
  CHECK(AddressHasCredentials("qemu+ssh://root:pw@kvm1/system", true));
  CHECK(AddressHasCredentials("qemu+ssh://root:p/w@kvm1/system", true));
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
