#include "redfish/mockup_server.h"

#include "base/encoding.h"
#include "redfish/test_util.h"
#include "support/temp_dir.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace racksmith::testing {
namespace {

using nlohmann::json;

// "/redfish/v1/Systems/1/" -> "Systems/1"; "/redfish/v1" -> "".
std::string Normalize(std::string path) {
  size_t hash = path.find('#');
  if (hash != std::string::npos) path.erase(hash);
  const std::string prefix = "/redfish/v1";
  if (path.rfind(prefix, 0) == 0) path.erase(0, prefix.size());
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

json ErrorBody(const std::string& id, const std::string& message) {
  return json{
      {"error",
       {{"code", id},
        {"message", message},
        {"@Message.ExtendedInfo", json::array({{{"MessageId", id}, {"Message", message}}})}}}};
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  if (!body.is_null()) res.set_content(body.dump(), "application/json");
}

}  // namespace

MockupServer::MockupServer(MockupServerOptions options) : options_(std::move(options)) {
  if (!options_.tls_cert.empty()) {
    server_ =
        std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  bool found = false;
  json root = LoadLocked("", &found);
  std::string sessions;
  if (root.contains("Links") && root["Links"].is_object() && root["Links"].contains("Sessions"))
    sessions = root["Links"]["Sessions"].value("@odata.id", "");
  sessions_path_ = Normalize(sessions);

  int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_keep_alive_max_count(1000);
  server_->set_tcp_nodelay(true);  // else Nagle and delayed ACKs add 40 ms per answer
  auto bind = [this](const char* method) {
    return [this, method](const httplib::Request& req, httplib::Response& res) {
      Handle(method, req, res);
    };
  };
  server_->Get(".*", bind("GET"));
  server_->Post(".*", bind("POST"));
  server_->Patch(".*", bind("PATCH"));
  server_->Delete(".*", bind("DELETE"));
  port_ = server_->bind_to_any_port(options_.host.c_str());
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MockupServer::~MockupServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string MockupServer::url() const {
  return (options_.tls_cert.empty() ? "http://" : "https://") + options_.host + ":" +
         std::to_string(port_);
}

int MockupServer::live_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(sessions_.size());
}

int MockupServer::sessions_created() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_created_;
}

void MockupServer::ExpireSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.clear();
}

std::vector<RecordedRequest> MockupServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int MockupServer::Count(const std::string& method, const std::string& part) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& r : requests_)
    if (r.method == method && r.path.find(part) != std::string::npos) ++n;
  return n;
}

void MockupServer::FailNext(int n, int status, const std::string& retry_after,
                            const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_method_ = method;
  fail_next_ = n;
  fail_status_ = status;
  fail_retry_after_ = retry_after;
}

json MockupServer::LoadLocked(const std::string& key, bool* found) const {
  auto it = overlay_.find(key);
  if (it != overlay_.end()) {
    *found = true;
    return it->second;
  }
  namespace fs = std::filesystem;
  fs::path dir = fs::path(options_.root_dir) / key;
  fs::path file = dir / "index.json";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    file = dir;  // registry files are served by their own name
    if (key.empty() || !fs::is_regular_file(file, ec)) {
      *found = false;
      return nullptr;
    }
  }
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  *found = !j.is_discarded();
  return *found ? j : json();
}

json MockupServer::Resource(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  bool found = false;
  return LoadLocked(Normalize(path), &found);
}

void MockupServer::SetResource(const std::string& path, json body) {
  std::lock_guard<std::mutex> lock(mu_);
  overlay_[Normalize(path)] = std::move(body);
}

bool MockupServer::AuthorizedLocked(const httplib::Request& req, std::string* kind) const {
  std::string token = req.get_header_value("X-Auth-Token");
  if (!token.empty()) {
    *kind = "token";
    return sessions_.count(token) > 0;
  }
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Basic ", 0) == 0) {
    *kind = "basic";
    return options_.allow_basic &&
           Base64Decode(auth.substr(6)).value_or("") == options_.username + ":" + options_.password;
  }
  return false;
}

void MockupServer::ApplyAction(const std::string& key, const json& body) {
  // key: ".../Actions/<Type>.<Action>"; the resource is what comes before /Actions.
  size_t at = key.find("/Actions/");
  if (at == std::string::npos) return;
  std::string owner = key.substr(0, at);
  std::string action = key.substr(at + 9);
  bool found = false;
  json res = LoadLocked(owner, &found);
  if (!found) return;
  if (action.find("Reset") != std::string::npos && res.contains("PowerState")) {
    std::string type = body.value("ResetType", "");
    std::string before = res.value("PowerState", "");
    if (type == "ForceOff" || (type == "GracefulShutdown" && options_.graceful_works))
      res["PowerState"] = "Off";
    else if (type == "PushPowerButton")
      res["PowerState"] = before == "On" ? "Off" : "On";
    else if (type != "GracefulShutdown" && type != "Nmi")
      res["PowerState"] = "On";
  } else if (action.find("InsertMedia") != std::string::npos) {
    res["Image"] = body.value("Image", "");
    res["Inserted"] = true;
  } else if (action.find("EjectMedia") != std::string::npos) {
    res["Image"] = nullptr;
    res["Inserted"] = false;
  }
  overlay_[owner] = res;
}

void MockupServer::Handle(const std::string& method, const httplib::Request& req,
                          httplib::Response& res) {
  if (int d = delay_ms_.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
  std::string key = Normalize(req.path);
  std::lock_guard<std::mutex> lock(mu_);
  RecordedRequest rec{method, req.path, req.body, req.get_header_value("If-Match"), "",
                      req.get_header_value("Accept-Encoding")};
  // httplib takes multipart parts out of the body: record them as "name=..." lines.
  for (const auto& [name, part] : req.files)
    rec.body += "name=\"" + name + "\" type=" + part.content_type + "\n" + part.content + "\n";
  bool login = method == "POST" && options_.sessions && key == sessions_path_;
  bool authorized = AuthorizedLocked(req, &rec.auth);
  requests_.push_back(rec);

  if (!options_.sessions && method == "POST" && key == sessions_path_) {
    Reply(res, 405, ErrorBody("Base.1.8.OperationNotAllowed", "No sessions here"));
    return;
  }
  if (!login && key != "" && options_.require_auth && !authorized) {
    Reply(res, 401, ErrorBody("Base.1.8.NoValidSession", "There is no valid session"));
    return;
  }
  if (fail_next_ > 0 && (fail_method_.empty() || fail_method_ == method)) {
    --fail_next_;
    if (!fail_retry_after_.empty()) res.set_header("Retry-After", fail_retry_after_);
    Reply(res, fail_status_, ErrorBody("Base.1.8.ServiceTemporarilyUnavailable", "Try later"));
    return;
  }
  if (login) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || body.value("UserName", "") != options_.username ||
        body.value("Password", "") != options_.password) {
      if (echo_login_ && !body.is_discarded()) {
        const std::string given = body.value("Password", "");
        json info = {{"MessageId", "Base.1.8.PropertyValueFormatError"},
                     {"Message", "The value '" + given +
                                     "' for the property Password is of a different format "
                                     "than the property can accept."},
                     {"MessageArgs", json::array({given, "Password"})}};
        json second = {{"MessageId", "Base.1.8.PropertyValueFormatError"},
                       {"MessageArgs", json::array({given, "Password"})}};
        Reply(res, 400,
              json{{"error",
                    {{"code", "Base.1.8.GeneralError"},
                     {"message", "See @Message.ExtendedInfo"},
                     {"@Message.ExtendedInfo", json::array({info, second})}}}});
        return;
      }
      Reply(res, 401, ErrorBody("Base.1.8.InsufficientPrivilege", "Invalid credentials"));
      return;
    }
    std::string id = std::to_string(next_session_++);
    std::string token = "tok-" + id + "-" + std::to_string(port_);
    std::string location = "/redfish/v1/" + sessions_path_ + "/" + id;
    sessions_[token] = Normalize(location);
    ++sessions_created_;
    res.set_header("X-Auth-Token", token);
    res.set_header("Location", options_.location_prefix + location);
    Reply(res, 201, json{{"@odata.id", location}, {"Id", id}, {"UserName", options_.username}});
    return;
  }
  if (method == "DELETE") {
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second == key) {
        sessions_.erase(it);
        res.status = 204;
        return;
      }
    }
    Reply(res, 404, ErrorBody("Base.1.8.ResourceMissingAtURI", "No such resource"));
    return;
  }
  if (method == "GET") {
    auto task = task_polls_left_.find(key);
    if (task != task_polls_left_.end()) {
      int left = task->second--;
      json t{{"@odata.id", req.path},
             {"Id", key},
             {"TaskState", left > 0 ? "Running" : "Completed"},
             {"PercentComplete", left > 0 ? 100 / (left + 1) : 100},
             {"TaskStatus", "OK"}};
      Reply(res, left > 0 ? 202 : 200, t);
      return;
    }
    if (wrong_type_) {
      res.status = 200;
      res.set_content("<html><body>Login</body></html>", "text/html");
      return;
    }
    bool found = false;
    json body = LoadLocked(key, &found);
    if (!found) {
      Reply(res, 404, ErrorBody("Base.1.8.ResourceMissingAtURI", "No resource at " + req.path));
      return;
    }
    if (body.is_object() && body.contains("@odata.etag") && body["@odata.etag"].is_string())
      res.set_header("ETag", body["@odata.etag"].get<std::string>());
    Reply(res, 200, body);
    return;
  }
  if (method == "PATCH") {
    bool found = false;
    json current = LoadLocked(key, &found);
    if (!found) {
      Reply(res, 404, ErrorBody("Base.1.8.ResourceMissingAtURI", "No resource at " + req.path));
      return;
    }
    std::string etag = current.is_object() ? current.value("@odata.etag", "") : "";
    if (!rec.if_match.empty() && !etag.empty() && rec.if_match != etag) {
      Reply(res, 412, ErrorBody("Base.1.8.PreconditionFailed", "ETag does not match"));
      return;
    }
    json patch = json::parse(req.body, nullptr, false);
    if (patch.is_discarded()) {
      Reply(res, 400, ErrorBody("Base.1.8.MalformedJSON", "Malformed JSON"));
      return;
    }
    current.merge_patch(patch);
    overlay_[key] = current;
    res.status = 204;
    return;
  }
  // POST: an action (or an upload). Recorded above; state changes where we model them.
  json body = json::parse(req.body, nullptr, false);
  ApplyAction(key, body.is_discarded() ? json::object() : body);
  if (options_.task_polls > 0) {
    std::string monitor = "TaskService/TaskMonitors/" + std::to_string(next_task_++);
    task_polls_left_[monitor] = options_.task_polls;
    res.set_header("Location", options_.location_prefix + "/redfish/v1/" + monitor);
    Reply(res, 202, json{{"@odata.id", "/redfish/v1/" + monitor}, {"TaskState", "New"}});
    return;
  }
  res.status = 204;
}

BrokenServer::BrokenServer(Mode mode) : mode_(mode) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      if (mode_ == Mode::kClose) {
        char buf[4096];
        pollfd c{fd, POLLIN, 0};
        if (poll(&c, 1, 1000) > 0) {
          ssize_t n = read(fd, buf, sizeof buf);
          (void)n;
        }
        close(fd);
      } else {
        held_.push_back(fd);
      }
    }
  });
}

BrokenServer::~BrokenServer() {
  stop_ = true;
  thread_.join();
  for (int fd : held_) close(fd);
  close(listen_fd_);
}

const TestCert& GetTestCert() {
  static TempDir* dir = new TempDir();  // lives as long as the test process
  static TestCert cert = [] {
    TestCert c;
    c.cert = dir->Join("cert.pem");
    c.key = dir->Join("key.pem");
    RunProgram({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c.key, "-out", c.cert, "-days",
                "2", "-subj", "/CN=racksmith-test-bmc", "-addext", "subjectAltName=IP:127.0.0.1"});
    CliResult fp =
        RunProgram({"openssl", "x509", "-in", c.cert, "-noout", "-fingerprint", "-sha256"});
    size_t eq = fp.out.find('=');
    std::string hex = eq == std::string::npos ? "" : fp.out.substr(eq + 1);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    c.fingerprint = "sha256:" + hex;
    return c;
  }();
  return cert;
}

std::string BrokenServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

}  // namespace racksmith::testing
