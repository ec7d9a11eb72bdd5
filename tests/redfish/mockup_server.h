// A Redfish test server (cpp-httplib on 127.0.0.x, ephemeral port) that serves a mockup
// folder as it is: <dir>/<path>/index.json is the body of GET /redfish/v1/<path>, with or
// without a trailing slash. On top of the static tree it can:
// - emulate a SessionService (POST to the root's Links.Sessions makes a session with an
//   X-Auth-Token and a Location; DELETE removes it; live_sessions() counts them);
// - require auth (session token, or HTTP Basic when allowed) for everything but the root;
// - keep state: PATCH merges into the resource (If-Match checked against @odata.etag),
//   ComputerSystem.Reset changes PowerState, InsertMedia/EjectMedia change the slot;
// - answer actions with 202 and a task monitor that runs for a few polls;
// - inject faults: the next N requests answer a status (with Retry-After), every answer
//   delayed, a body with the wrong content type.
// Every request is recorded (method, path, body, auth header kind).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace racksmith::testing {

struct MockupServerOptions {
  std::string root_dir;
  std::string host = "127.0.0.1";
  bool sessions = true;      // emulate the SessionService
  bool require_auth = true;  // 401 without a valid token or Basic
  bool allow_basic = true;   // accept HTTP Basic
  std::string username = "admin";
  std::string password = "s3cret-pw";
  bool graceful_works = true;  // GracefulShutdown really powers off
  int task_polls = 0;          // > 0: actions answer 202 and the task runs this many polls
  int threads = 4;
  std::string location_prefix;  // prepended to Location headers ("http://elsewhere:1")
  std::string tls_cert;         // PEM files: serve HTTPS instead of HTTP when both are set
  std::string tls_key;
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string if_match;
  std::string auth;  // "token", "basic" or ""
  std::string accept_encoding;  // the Accept-Encoding header, "" when not sent
};

class MockupServer {
 public:
  explicit MockupServer(MockupServerOptions options);
  ~MockupServer();
  MockupServer(const MockupServer&) = delete;
  MockupServer& operator=(const MockupServer&) = delete;

  /// "http://127.0.0.1:PORT"
  std::string url() const;
  int port() const { return port_; }

  int live_sessions() const;
  int sessions_created() const;
  /// Forget every session token, as a BMC that rebooted does: the next request gets 401.
  void ExpireSessions();

  std::vector<RecordedRequest> requests() const;
  /// Requests whose method matches and whose path contains `path_part`.
  int Count(const std::string& method, const std::string& path_part) const;

  /// The next `n` requests (after auth; of `method` when given) answer `status`, with
  /// Retry-After when given.
  void FailNext(int n, int status, const std::string& retry_after = "",
                const std::string& method = "");
  /// Every answer waits this long first.
  void SetDelayMs(int ms) { delay_ms_ = ms; }
  /// GETs answer an HTML page with Content-Type text/html.
  void SetWrongContentType(bool on) { wrong_type_ = on; }
  /// A refused login answers 400 with a standard message quoting the values it was given
  /// (Base.PropertyValueFormatError, MessageArgs [value, property]), as some BMCs do.
  void SetEchoLoginValues(bool on) { echo_login_ = on; }

  /// The resource as the server now holds it (the file plus changes made by writes).
  nlohmann::json Resource(const std::string& path) const;
  void SetResource(const std::string& path, nlohmann::json body);

 private:
  void Handle(const std::string& method, const httplib::Request& req, httplib::Response& res);
  bool AuthorizedLocked(const httplib::Request& req, std::string* kind) const;
  nlohmann::json LoadLocked(const std::string& key, bool* found) const;
  void ApplyAction(const std::string& key, const nlohmann::json& body);

  MockupServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string sessions_path_;  // normalized, no trailing slash

  mutable std::mutex mu_;
  std::map<std::string, std::string> sessions_;  // token -> session path
  int sessions_created_ = 0;
  int next_session_ = 1;
  std::map<std::string, nlohmann::json> overlay_;  // changed resources by normalized path
  std::map<std::string, int> task_polls_left_;     // task monitor path -> polls left
  int next_task_ = 1;
  std::vector<RecordedRequest> requests_;
  int fail_next_ = 0;
  int fail_status_ = 503;
  std::string fail_retry_after_;
  std::string fail_method_;
  std::atomic<int> delay_ms_{0};
  std::atomic<bool> wrong_type_{false};
  std::atomic<bool> echo_login_{false};
};

/// A TCP listener on 127.0.0.1 that accepts connections and then either closes them at
/// once (a BMC that resets connections) or holds them open without answering (a hung BMC).
class BrokenServer {
 public:
  enum class Mode { kClose, kHang };
  explicit BrokenServer(Mode mode);
  ~BrokenServer();
  std::string url() const;

 private:
  Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> held_;
};

}  // namespace racksmith::testing
