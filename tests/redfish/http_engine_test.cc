// The HTTP engine on its own: limits, keep-alive, Retry-After parsing, idempotency.
#include <catch2/catch.hpp>
#include <future>

#include "redfish/test_util.h"

namespace racksmith::testing {
namespace {

redfish::HttpRequest Get(const std::string& url) {
  redfish::HttpRequest r;
  r.url = url;
  r.idempotent = true;
  r.attempt_timeout_ms = 2'000;
  r.deadline_ms = 5'000;
  return r;
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[redfish]") {
  CHECK(redfish::ParseRetryAfterMs("3", 0) == 3'000);
  CHECK(redfish::ParseRetryAfterMs("", 0) == -1);
  CHECK(redfish::ParseRetryAfterMs("soon", 0) == -1);
  CHECK(redfish::ParseRetryAfterMs("99999999999", 0) == -1);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch.
  CHECK(redfish::ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", 784'111'770'000) == 7'000);
  CHECK(redfish::ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", 784'111'999'000) == 0);
}

TEST_CASE("Only 429 and 5xx gateway-like statuses are retryable", "[redfish]") {
  for (long s : {429L, 500L, 502L, 503L, 504L}) CHECK(redfish::IsRetryableStatus(s));
  for (long s : {200L, 400L, 401L, 404L, 409L, 412L, 501L})
    CHECK_FALSE(redfish::IsRetryableStatus(s));
}

TEST_CASE("Many BMCs with work get one connection each, a few get up to the per-host limit",
          "[redfish]") {
  CHECK(redfish::PerHostLimit(64, 4, 1) == 4);
  CHECK(redfish::PerHostLimit(64, 4, 16) == 4);
  CHECK(redfish::PerHostLimit(64, 4, 17) == 3);
  CHECK(redfish::PerHostLimit(64, 4, 64) == 1);
  CHECK(redfish::PerHostLimit(64, 4, 1000) == 1);
  CHECK(redfish::PerHostLimit(64, 4, 0) == 4);
  CHECK(redfish::PerHostLimit(1, 0, 5) == 1);
}

TEST_CASE("The engine asks BMCs for uncompressed answers", "[redfish]") {
  // A BMC that honours Accept-Encoding spends its small CPU compressing a few KiB.
  auto opts = Tree("mockups/public-rackmount1");
  opts.require_auth = false;
  MockupServer server(opts);
  redfish::HttpEngine engine;
  auto r = engine.Perform(Get(server.url() + "/redfish/v1/Systems"));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].accept_encoding.empty());
}

TEST_CASE("The per-host limit caps requests in flight against one BMC", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.require_auth = false;
  opts.threads = 8;
  MockupServer server(opts);
  server.SetDelayMs(30);
  redfish::EngineOptions eo;
  eo.max_per_host = 3;
  redfish::HttpEngine engine(eo);
  std::vector<std::future<Result<redfish::HttpResponse>>> futures;
  for (int i = 0; i < 20; ++i)
    futures.push_back(std::async(std::launch::async, [&] {
      return engine.Perform(Get(server.url() + "/redfish/v1/Systems"));
    }));
  for (auto& f : futures) {
    auto r = f.get();
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  auto stats = engine.Stats();
  CHECK(stats.max_in_flight_per_host == 3);
  CHECK(stats.connections_opened <= 3);  // the three connections are kept alive and reused
}

TEST_CASE("A request marked close_after does not leave its connection open for reuse",
          "[redfish]") {
  // The logout is the last request a run sends a BMC; its connection is closed after it
  // instead of holding one of the BMC's few connection slots until the BMC times it out.
  auto opts = Tree("mockups/public-rackmount1");
  opts.require_auth = false;
  MockupServer server(opts);
  redfish::HttpEngine engine;
  const std::string url = server.url() + "/redfish/v1/Systems";
  REQUIRE(engine.Perform(Get(url)).ok());
  REQUIRE(engine.Perform(Get(url)).ok());
  CHECK(engine.Stats().connections_opened == 1);  // kept alive and reused
  auto last = Get(url);
  last.close_after = true;
  REQUIRE(engine.Perform(last).ok());
  CHECK(engine.Stats().connections_opened == 1);  // it still used the open connection
  REQUIRE(engine.Perform(Get(url)).ok());
  CHECK(engine.Stats().connections_opened == 2);  // that one was closed after it
  REQUIRE(engine.Perform(Get(url)).ok());
  CHECK(engine.Stats().connections_opened == 2);  // the reused handle keeps its connection
}

TEST_CASE("A POST is never retried by the engine, a GET is", "[redfish]") {
  auto opts = Tree("mockups/public-rackmount1");
  opts.require_auth = false;
  MockupServer server(opts);
  redfish::EngineOptions eo;
  eo.backoff_base_ms = 5;
  redfish::HttpEngine engine(eo);
  server.FailNext(10, 503, "0");
  auto post = Get(server.url() + "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset");
  post.method = "POST";
  post.idempotent = false;
  auto r = engine.Perform(post);
  REQUIRE(r.ok());
  CHECK(r->status == 503);
  CHECK(r->attempts == 1);
  auto get = Get(server.url() + "/redfish/v1/Systems");
  get.max_attempts = 3;
  r = engine.Perform(get);
  REQUIRE(r.ok());
  CHECK(r->attempts == 3);
}

TEST_CASE("Requests still queued when the engine stops fail instead of hanging", "[redfish]") {
  BrokenServer hung(BrokenServer::Mode::kHang);
  std::promise<Result<redfish::HttpResponse>> done;
  {
    redfish::HttpEngine engine;
    engine.Submit(Get(hung.url() + "/redfish/v1/"),
                  [&](Result<redfish::HttpResponse> r) { done.set_value(std::move(r)); });
  }
  auto r = done.get_future().get();
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("engine is stopping"));
}

}  // namespace
}  // namespace racksmith::testing
