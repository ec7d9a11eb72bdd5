// racksmith/redfish (internal): one BMC's Redfish conversation over the shared HttpEngine.
//
// Contract:
// - Paths are absolute resource paths as found in @odata.id ("/redfish/v1/Systems/1/"); the
//   client adds the endpoint. It never invents a path except /redfish/v1/ itself.
// - Auth: the first call that needs it logs in. kSession POSTs UserName/Password to the
//   service root's Links.Sessions and sends X-Auth-Token; kBasic sends HTTP Basic; kAuto
//   tries a session and falls back to Basic only when the BMC has no session service.
//   A 401 with a session logs in again once and repeats the request once.
// - One session per client; Logout() DELETEs it (also from the destructor). Thread-safe.
// - Errors name the endpoint, the method and path, the HTTP status and the BMC's
//   @Message.ExtendedInfo; they never contain the password or the token.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "redfish/http_engine.h"
#include "redfish/json_fields.h"
#include "redfish/resource_reader.h"

namespace racksmith::redfish {

enum class AuthMode { kAuto, kSession, kBasic };

/// One BMC endpoint. The password is the resolved secret: kept in memory only.
struct Target {
  std::string url;  // "https://10.1.0.11" or "http://127.0.0.1:8000"; a "/redfish/v1" suffix is ok
  std::string username;
  std::string password;
  AuthMode auth = AuthMode::kAuto;
  TlsOptions tls;
  std::string system_id;  // which ComputerSystem when the BMC has several; empty: the host
};

struct ClientOptions {
  int64_t connect_timeout_ms = 5'000;
  int64_t request_timeout_ms = 30'000;  // one attempt
  int64_t deadline_ms = 90'000;         // one request, all retries included
  int max_attempts = 4;
  size_t max_members = 10'000;            // a collection bigger than this is truncated
  int64_t task_poll_interval_ms = 2'000;  // how often a task monitor is polled
};

struct WriteResult {
  long status = 0;
  Json body;             // null when the BMC sent no JSON
  std::string location;  // Location header (task monitor for 202)
};

class RedfishClient : public ResourceReader {
 public:
  RedfishClient(HttpEngine& engine, Target target, ClientOptions options);
  ~RedfishClient() override;
  RedfishClient(const RedfishClient&) = delete;
  RedfishClient& operator=(const RedfishClient&) = delete;

  /// "https://10.1.0.11": the endpoint, for messages.
  const std::string& endpoint() const { return endpoint_; }
  const Target& target() const { return target_; }
  /// `text` (a BMC's own words, for an error) with the BMC password, as written or as it
  /// appears in a JSON string, replaced by "***".
  std::string Scrub(std::string text) const;
  const ClientOptions& options() const { return options_; }

  Result<Json> Get(const std::string& path) override;
  /// GETs all paths at once (bounded by the engine's per-BMC limit); results in order.
  std::vector<Result<Json>> GetMany(const std::vector<std::string>& paths) override;
  /// The members of a collection, following Members@odata.nextLink, fetched in parallel.
  /// Members that fail to load are skipped and named in *warnings when given.
  Result<std::vector<Json>> GetMembers(const std::string& collection_path,
                                       std::vector<std::string>* warnings) override;
  /// GET returning any status: for task monitors (202 while running, 200/204 when done).
  Result<WriteResult> Poll(const std::string& path);
  /// PATCH; with a non-empty etag it is sent with If-Match (and may then be retried).
  Result<WriteResult> Patch(const std::string& path, const Json& body, const std::string& etag);
  Result<WriteResult> Post(const std::string& path, const Json& body);
  /// POST of a file: raw body when multipart is false, else multipart/form-data.
  Result<WriteResult> PushFile(const std::string& path, const std::string& file, bool multipart,
                               const Json& parameters);
  Status Delete(const std::string& path);

  /// Deletes the session if there is one. Safe to call more than once and concurrently.
  Status Logout();
  /// Logout() for good: later calls fail instead of logging in again, so a session cannot be
  /// re-created behind an interrupt that is about to exit.
  Status Shutdown();
  bool has_session() const;
  /// Which auth the client ended up using: "session", "basic" or "" before the first call.
  std::string auth_in_use() const;

 private:
  HttpRequest MakeRequest(const std::string& method, const std::string& path);
  Status EnsureAuth();
  Status Login(const Json& root);
  Result<HttpResponse> Send(HttpRequest request, bool allow_relogin);
  Result<Json> ParseBody(const std::string& method, const std::string& path,
                         const Result<HttpResponse>& response);
  Error HttpError(const std::string& method, const std::string& path,
                  const HttpResponse& response) const;
  std::string Url(const std::string& path) const;

  HttpEngine& engine_;
  Target target_;
  ClientOptions options_;
  std::string endpoint_;

  mutable std::mutex mu_;
  std::mutex login_mu_;      // one login at a time
  bool auth_ready_ = false;  // guarded by mu_
  bool shut_down_ = false;   // guarded by mu_
  bool use_basic_ = false;   // guarded by mu_
  std::string token_;        // guarded by mu_
  /// The service root read to log in, handed to the next GET of the root (discovery) so
  /// it is not fetched twice; guarded by mu_.
  std::optional<Json> login_root_;
  std::string session_uri_;  // guarded by mu_
};

/// Turns a Redfish error body into "MessageId: Message; MessageId: Message" (or "").
std::string DescribeRedfishError(const Json& body);

}  // namespace racksmith::redfish
