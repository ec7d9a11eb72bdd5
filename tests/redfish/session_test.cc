// Redfish sessions and HTTP Basic: login, reuse, re-login, logout, fallbacks, secrecy.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "redfish/test_util.h"

namespace racksmith::testing {
namespace {

TEST_CASE("One session is opened per BMC, reused by every call, and deleted at the end",
          "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  {
    redfish::RedfishFleet fleet(FastFleet());
    auto a = fleet.Connect(TargetFor(server));
    auto b = fleet.Connect(TargetFor(server));  // same BMC, same user: same session
    REQUIRE(a->GetPowerState().ok());
    REQUIRE(b->GetHardware().ok());
    REQUIRE(a->ListFirmware().ok());
    CHECK(server.live_sessions() == 1);
    CHECK(server.sessions_created() == 1);
    for (const auto& r : server.requests())
      if (r.path != "/redfish/v1/" && r.method == "GET") CHECK(r.auth == "token");
  }
  CHECK(server.live_sessions() == 0);
  CHECK(server.Count("DELETE", "/SessionService/Sessions/") == 1);
}

TEST_CASE("Absolute Location URLs naming another host are followed on the BMC's own endpoint",
          "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.location_prefix = "http://203.0.113.9:1";  // TEST-NET-3: must never be contacted
  opts.task_polls = 1;
  MockupServer server(opts);
  {
    redfish::RedfishFleet fleet(FastFleet());
    auto bmc = fleet.Connect(TargetFor(server));
    bmc::FirmwareUpdate u;
    u.image_uri = "https://127.0.0.1/fw.bin";
    REQUIRE(bmc->UpdateFirmware(u, nullptr).ok());
    CHECK(server.Count("GET", "/TaskService/TaskMonitors/1") == 2);
  }
  CHECK(server.live_sessions() == 0);  // the session was deleted here, not at 203.0.113.9
}

TEST_CASE("CloseAll deletes the sessions of every BMC at once", "[redfish]") {
  MockupServer s1(Tree("mockups/public-rackmount1"));
  MockupServer s2(Tree("vendor/OpenBMC-stock"));
  redfish::RedfishFleet fleet(FastFleet());
  auto a = fleet.Connect(TargetFor(s1));
  auto b = fleet.Connect(TargetFor(s2));
  REQUIRE(a->GetPowerState().ok());
  REQUIRE(b->GetPowerState().ok());
  CHECK(s1.live_sessions() + s2.live_sessions() == 2);
  CHECK(fleet.CloseAll() == 0);
  CHECK(s1.live_sessions() + s2.live_sessions() == 0);
}

TEST_CASE("A 401 on an expired session logs in again once and repeats the request", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->GetPowerState().ok());
  server.ExpireSessions();  // the BMC rebooted and forgot the token
  auto power = bmc->GetPowerState();
  REQUIRE(power.ok());
  CHECK(*power == bmc::PowerState::kOn);
  CHECK(server.sessions_created() == 2);
  CHECK(server.live_sessions() == 1);
}

TEST_CASE("Without a session service the driver falls back to HTTP Basic", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.sessions = false;  // POST to Sessions answers 405
  MockupServer server(opts);
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server));
  REQUIRE(bmc->GetPowerState().ok());
  CHECK(server.sessions_created() == 0);
  CHECK(server.requests().back().auth == "basic");
}

TEST_CASE("HTTP Basic is used without a login when asked for", "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server, redfish::AuthMode::kBasic));
  REQUIRE(bmc->GetPowerState().ok());
  CHECK(server.Count("POST", "Sessions") == 0);
  CHECK(server.requests().back().auth == "basic");
}

TEST_CASE("A BMC that refuses HTTP Basic gives a clear error naming sessions", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.allow_basic = false;
  MockupServer server(opts);
  redfish::RedfishFleet fleet(FastFleet());
  auto bmc = fleet.Connect(TargetFor(server, redfish::AuthMode::kBasic));
  auto power = bmc->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kRefused);
  CHECK_THAT(power.error().message(), Catch::Contains(server.url()) &&
                                          Catch::Contains("HTTP 401") &&
                                          Catch::Contains("require Redfish sessions"));
}

TEST_CASE("Session auth alone fails clearly when the BMC has no session service", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.sessions = false;
  MockupServer server(opts);
  redfish::RedfishFleet fleet(FastFleet());
  auto power = fleet.Connect(TargetFor(server, redfish::AuthMode::kSession))->GetPowerState();
  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kUnsupported);
  CHECK_THAT(power.error().message(), Catch::Contains("cannot log in with a Redfish session"));
}

TEST_CASE("A wrong password is refused with the user named and the password never shown",
          "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  redfish::RedfishFleet fleet(FastFleet());
  auto target = TargetFor(server);
  target.password = "Wrong-Pa55word!";
  auto bmc = fleet.Connect(target);
  auto power = bmc->GetPowerState();
  auto hw = bmc->GetHardware();
  target.auth = redfish::AuthMode::kBasic;
  target.username = "other";
  auto basic = fleet.Connect(target)->GetPowerState();
  spdlog::set_default_logger(previous);

  REQUIRE_FALSE(power.ok());
  CHECK(power.error().code() == ErrorCode::kRefused);
  CHECK_THAT(power.error().message(), Catch::Contains("login as 'admin' refused"));
  REQUIRE_FALSE(basic.ok());
  for (const std::string& text :
       {power.error().message(), hw.error().message(), basic.error().message(), log.str()}) {
    CHECK_THAT(text, !Catch::Contains("Wrong-Pa55word!"));
    CHECK_THAT(text, !Catch::Contains("tok-"));
  }
}

TEST_CASE("A BMC that quotes the refused password in its error does not get it shown",
          "[redfish]") {
  MockupServer server(Tree("mockups/public-rackmount1"));
  server.SetEchoLoginValues(true);
  redfish::RedfishFleet fleet(FastFleet());
  auto target = TargetFor(server);
  target.password = "Wrong-Pa55word!";
  auto power = fleet.Connect(target)->GetPowerState();
  REQUIRE_FALSE(power.ok());
  INFO(power.error().message());
  // The BMC's own words are kept (they say what was wrong), the value is not.
  CHECK_THAT(power.error().message(),
             Catch::Contains("HTTP 400") && Catch::Contains("PropertyValueFormatError") &&
                 Catch::Contains("The value '***' for the property Password"));
  CHECK_THAT(power.error().message(), !Catch::Contains("Wrong-Pa55word!"));
}

// The power state read from a mockup whose system answers `body`, logged in with the
// mockup's own credentials (options.password) and the system named, so that the answer's
// error is the one reported.
Result<bmc::PowerState> PowerStateWhenSystemAnswers(const MockupServerOptions& options,
                                                    const nlohmann::json& body) {
  MockupServer server(options);
  redfish::Target target = TargetFor(server);
  target.password = options.password;
  target.system_id = "437XR1138R2";
  server.SetResource("/redfish/v1/Systems/437XR1138R2", body);
  redfish::RedfishFleet fleet(FastFleet());
  return fleet.Connect(target)->GetPowerState();
}

TEST_CASE("A BMC error that quotes the password after login does not get it shown either",
          "[redfish]") {
  MockupServerOptions options = Tree("mockups/public-rackmount1");
  // An error object in place of the system (sent with HTTP 200, as some BMCs do) whose
  // message repeats the session's password.
  const nlohmann::json body = {
      {"error",
       {{"code", "Base.1.8.GeneralError"},
        {"message", "internal error for user admin/" + options.password}}}};
  Result<bmc::PowerState> power = PowerStateWhenSystemAnswers(options, body);
  REQUIRE_FALSE(power.ok());
  INFO(power.error().message());
  CHECK_THAT(power.error().message(),
             Catch::Contains("with an error body") && Catch::Contains("admin/***"));
  CHECK_THAT(power.error().message(), !Catch::Contains(options.password));
}

TEST_CASE("A password quoted inside a BMC's raw answer is masked in its escaped form too",
          "[redfish]") {
  MockupServerOptions options = Tree("mockups/public-rackmount1");
  options.password = "pa\"ss\\word";  // pa"ss\word: a JSON string holds pa\"ss\\word
  // Not a JSON object: the error quotes the body as it came.
  Result<bmc::PowerState> power = PowerStateWhenSystemAnswers(
      options, nlohmann::json::array({"session of admin", options.password}));
  REQUIRE_FALSE(power.ok());
  INFO(power.error().message());
  CHECK_THAT(power.error().message(),
             Catch::Contains("expected a JSON object") && Catch::Contains("***"));
  CHECK_THAT(power.error().message(), !Catch::Contains("ss\\\\word"));
}

}  // namespace
}  // namespace racksmith::testing
