// racksmith/redfish: one libcurl multi event loop, on its own thread, shared by every BMC.
// The loop is event-driven (epoll + curl_multi_socket_action): libcurl is only run for the
// socket that is ready or the timer that is due, never once per transfer per wake-up.
//
// Contract:
// - Submit() queues a request and returns at once; its callback runs on the loop thread
//   exactly once, with the response (any HTTP status) or an error (kUnreachable/kTimeout).
//   Perform() is the blocking form. Both are thread-safe.
// - Connections are kept alive and reused per host. At most EngineOptions::max_total
//   transfers run at once, and at most max_per_host against one host, fewer when many hosts
//   have work (max_total / hosts, at least 1: each extra connection costs a TLS handshake);
//   the rest wait in a queue whose wait does not count against a request's timeouts.
// - Retries (exponential backoff with jitter, Retry-After honoured on 503/429, capped) only
//   for requests marked idempotent: GET/HEAD/DELETE, and PATCH sent with If-Match. A POST is
//   sent once. A request never outlives its deadline (HttpRequest::deadline_ms).
// - Nothing here logs a header or a body, and credentials never appear in an error text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace racksmith::redfish {

struct TlsOptions {
  bool insecure = false;      // skip verification entirely (the caller warns)
  std::string ca_file;        // PEM bundle; empty: the system store
  std::string pinned_pubkey;  // "sha256//<base64>" (CURLOPT_PINNEDPUBLICKEY)
  // SHA-256 of the BMC's leaf certificate, "sha256:" + 64 hex digits (':' separators ok).
  // When set it replaces CA verification: the BMC is trusted if and only if it matches
  // (BMCs mostly have self-signed certificates with no usable host name).
  std::string cert_fingerprint;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string basic_user;  // HTTP Basic when non-empty
  std::string basic_password;
  std::string multipart_file;  // when set: multipart/form-data upload of this file
  std::string multipart_json;  // optional "UpdateParameters" part
  TlsOptions tls;
  bool idempotent = false;  // see the contract above
  int64_t connect_timeout_ms = 5'000;
  int64_t attempt_timeout_ms = 30'000;  // one attempt, connect to last byte
  int64_t deadline_ms = 120'000;        // all attempts and backoff together
  int max_attempts = 4;
  // Close the connection once this request is done instead of keeping it for reuse: for
  // the last request a run sends a BMC (the session's logout), so that an idle connection
  // does not hold one of the BMC's few connection slots until it times out.
  bool close_after = false;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int attempts = 0;
  /// The header's value or "" (name is case-insensitive).
  std::string Header(const std::string& name) const;
};

struct EngineOptions {
  int max_total = 64;    // transfers in flight over all hosts
  int max_per_host = 4;  // transfers in flight against one BMC (while few BMCs have work)
  // Idle keep-alive connections kept open; past it the oldest are closed. Mind the file
  // descriptor limit when raising it (ulimit -n is often 1024).
  int max_idle_connections = 256;
  int64_t backoff_base_ms = 200;
  int64_t backoff_max_ms = 8'000;
  int64_t retry_after_cap_ms = 30'000;
};

struct EngineStats {
  int64_t requests = 0;
  int64_t attempts = 0;
  int64_t retries = 0;
  int max_in_flight = 0;           // highest number of transfers at once
  int max_in_flight_per_host = 0;  // highest against one host
  int64_t connections_opened = 0;  // new TCP connections (the rest were reused)
};

class HttpEngine {
 public:
  using Callback = std::function<void(Result<HttpResponse>)>;

  explicit HttpEngine(EngineOptions options = {});
  /// Stops the loop; queued and in-flight requests complete with an error.
  ~HttpEngine();
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;

  void Submit(HttpRequest request, Callback done);
  Result<HttpResponse> Perform(HttpRequest request);
  EngineStats Stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Transfers allowed at once against one host while `hosts` hosts have requests queued or in
/// flight: max_total / hosts, at least 1 and at most max_per_host.
int PerHostLimit(int max_total, int max_per_host, int hosts);

/// True for HTTP statuses worth retrying on an idempotent request.
bool IsRetryableStatus(long status);
/// Parses a Retry-After value (delta-seconds or an HTTP-date) into milliseconds from now;
/// -1 when absent or unparsable.
int64_t ParseRetryAfterMs(const std::string& value, int64_t now_unix_ms);

}  // namespace racksmith::redfish
