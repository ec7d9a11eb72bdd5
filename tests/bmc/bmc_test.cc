// The Bmc value helpers and the test doubles other modules use.
#include <catch2/catch.hpp>

#include "bmc/fake_bmc.h"

namespace racksmith::bmc {
namespace {

TEST_CASE("Boot devices are parsed from the user's words case-insensitively", "[bmc]") {
  CHECK(*ParseBootDevice("PXE") == BootDevice::kPxe);
  CHECK(*ParseBootDevice("cd") == BootDevice::kCd);
  CHECK(*ParseBootDevice("disk") == BootDevice::kHdd);
  auto bad = ParseBootDevice("floppy");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == ErrorCode::kInvalidInput);
  CHECK_THAT(bad.error().message(), Catch::Contains("found 'floppy'"));
}

TEST_CASE("Power states round-trip through their Redfish names", "[bmc]") {
  for (PowerState s :
       {PowerState::kOn, PowerState::kOff, PowerState::kPoweringOn, PowerState::kPoweringOff})
    CHECK(ParsePowerState(PowerStateName(s)) == s);
  CHECK(ParsePowerState("Paused") == PowerState::kUnknown);
}

TEST_CASE("FakeBmc records calls, changes state and fails on request", "[bmc]") {
  FakeBmc fake;
  REQUIRE(fake.Reset(ResetType::kOn, {}).ok());
  CHECK(*fake.GetPowerState() == PowerState::kOn);
  fake.FailNext("Reset", Error(ErrorCode::kTimeout, "fake: no answer"));
  CHECK(fake.Reset(ResetType::kForceOff, {}).error().code() == ErrorCode::kTimeout);
  CHECK(fake.power == PowerState::kOn);
  REQUIRE(fake.SetBootOverride(BootOverride{}).ok());
  CHECK(fake.boot.target == "Pxe");
  CHECK(fake.calls() == std::vector<std::string>{"Reset On", "GetPowerState", "Reset ForceOff",
                                                 "SetBootOverride Pxe once"});
}

TEST_CASE("A BmcWrapper forwards every call and lets a test override one", "[bmc]") {
  struct FlakyPower : BmcWrapper {
    using BmcWrapper::BmcWrapper;
    Result<PowerState> GetPowerState() override {
      return Error(ErrorCode::kUnreachable, Describe() + ": HTTP 503");
    }
  };
  FakeBmc fake("fake://n1");
  FlakyPower flaky(fake);
  CHECK_FALSE(flaky.GetPowerState().ok());
  REQUIRE(flaky.Reset(ResetType::kOn, {}).ok());
  CHECK(fake.power == PowerState::kOn);
  REQUIRE(flaky.InsertMedia("http://127.0.0.1/a.iso", "").ok());
  CHECK(fake.media[0].inserted);
  CHECK_THAT(flaky.GetPowerState().error().message(), Catch::StartsWith("fake://n1"));
}

}  // namespace
}  // namespace racksmith::bmc
