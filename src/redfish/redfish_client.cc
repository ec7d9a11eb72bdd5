#include "redfish/redfish_client.h"

#include <spdlog/spdlog.h>

#include <future>
#include <memory>
#include <set>

namespace racksmith::redfish {
namespace {

constexpr const char* kServiceRoot = "/redfish/v1/";

std::string NormalizeEndpoint(std::string url) {
  if (url.find("://") == std::string::npos) url = "https://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::string suffix = "/redfish/v1";
  if (url.size() > suffix.size() &&
      url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0)
    url.erase(url.size() - suffix.size());
  return url;
}

std::string ReasonPhrase(long status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

ErrorCode CodeForStatus(long status) {
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 401 || status == 403) return ErrorCode::kRefused;
  if (status == 409 || status == 412) return ErrorCode::kConflict;
  if (status == 405 || status == 501) return ErrorCode::kUnsupported;
  if (status == 400) return ErrorCode::kInvalidInput;
  return ErrorCode::kUnreachable;
}

// At most `n` characters of a body, control characters replaced, for an error message.
std::string Snippet(const std::string& body, size_t n = 60) {
  std::string out;
  for (char c : body.substr(0, n)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (body.size() > n) out += "...";
  return out;
}

std::string ToggleSlash(const std::string& path) {
  if (path.size() > 1 && path.back() == '/') return path.substr(0, path.size() - 1);
  return path + "/";
}

bool IsErrorOnlyBody(const Json& j) {
  return j.is_object() && j.size() == 1 && j.contains("error");
}

}  // namespace

std::string DescribeRedfishError(const Json& body) {
  if (!body.is_object()) return {};
  std::vector<std::string> parts;
  auto add_infos = [&](const Json& holder) {
    const Json* infos = Field(holder, "@Message.ExtendedInfo");
    if (!infos || !infos->is_array()) return;
    for (const auto& info : *infos) {
      std::string id = Str(info, "MessageId");
      std::string text = Str(info, "Message");
      if (text.empty()) {
        for (const auto& arg : Strings(info, "MessageArgs"))
          text += (text.empty() ? "" : ", ") + arg;
      }
      std::string part = id.empty() ? text : (text.empty() ? id : id + ": " + text);
      std::string resolution = Str(info, "Resolution");
      if (!resolution.empty()) part += " (" + resolution + ")";
      if (!part.empty()) parts.push_back(part);
    }
  };
  if (const Json* err = Field(body, "error")) {
    add_infos(*err);
    if (parts.empty()) {
      std::string msg = Str(*err, "message");
      if (!msg.empty()) parts.push_back(msg);
    }
  }
  add_infos(body);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

RedfishClient::RedfishClient(HttpEngine& engine, Target target, ClientOptions options)
    : engine_(engine), target_(std::move(target)), options_(options) {
  endpoint_ = NormalizeEndpoint(target_.url);
}

RedfishClient::~RedfishClient() {
  Status s = Logout();
  if (!s.ok()) spdlog::warn("{}", s.error().message());
}

std::string RedfishClient::Url(const std::string& path) const {
  // An absolute URL (a Location header) keeps only its path: the token and the password
  // go to this BMC's endpoint and nowhere else.
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    size_t slash = path.find('/', path.find("://") + 3);
    return endpoint_ + (slash == std::string::npos ? std::string("/") : path.substr(slash));
  }
  if (path.empty() || path[0] != '/') return endpoint_ + "/" + path;
  return endpoint_ + path;
}

bool RedfishClient::has_session() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !token_.empty();
}

std::string RedfishClient::auth_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!auth_ready_) return {};
  return use_basic_ ? "basic" : "session";
}

HttpRequest RedfishClient::MakeRequest(const std::string& method, const std::string& path) {
  HttpRequest r;
  r.method = method;
  r.url = Url(path);
  r.tls = target_.tls;
  r.connect_timeout_ms = options_.connect_timeout_ms;
  r.attempt_timeout_ms = options_.request_timeout_ms;
  r.deadline_ms = options_.deadline_ms;
  r.max_attempts = options_.max_attempts;
  r.idempotent = method == "GET" || method == "HEAD" || method == "DELETE";
  r.headers = {"Accept: application/json", "OData-Version: 4.0"};
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.empty()) r.headers.push_back("X-Auth-Token: " + token_);
  if (use_basic_) {
    r.basic_user = target_.username;
    r.basic_password = target_.password;
  }
  return r;
}

std::string RedfishClient::Scrub(std::string text) const {
  const std::string& secret = target_.password;
  if (secret.empty()) return text;
  // As written, and as a JSON string holds it (a body quoted raw: '"' and '\\' escaped).
  const std::string json = Json(secret).dump();
  for (const std::string& form : {secret, json.substr(1, json.size() - 2)}) {
    for (size_t at = text.find(form); at != std::string::npos; at = text.find(form, at + 3)) {
      text.replace(at, form.size(), "***");
    }
  }
  return text;
}

Error RedfishClient::HttpError(const std::string& method, const std::string& path,
                               const HttpResponse& response) const {
  std::string msg =
      endpoint_ + ": " + method + " " + path + ": HTTP " + std::to_string(response.status);
  std::string reason = ReasonPhrase(response.status);
  if (!reason.empty()) msg += " " + reason;
  Json body = Json::parse(response.body, nullptr, false);
  std::string detail = body.is_discarded() ? std::string() : DescribeRedfishError(body);
  // A BMC may quote the values it refused (Base.PropertyValueFormatError's MessageArgs), a
  // session login's password among them: it never travels on in an error.
  if (!detail.empty()) msg += ": " + Scrub(detail);
  if (response.status == 401) {
    bool basic;
    {
      std::lock_guard<std::mutex> lock(mu_);
      basic = use_basic_;
    }
    msg += basic ? " (the BMC refused HTTP Basic auth; it may require Redfish sessions)"
                 : " (session login was refused or expired)";
  }
  return Error(CodeForStatus(response.status), msg);
}

Status RedfishClient::EnsureAuth() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auth_ready_) return Status::Ok();
  }
  std::lock_guard<std::mutex> login_lock(login_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_)
      return Error(ErrorCode::kRefused, endpoint_ + ": the connection was closed (interrupted)");
    if (auth_ready_) return Status::Ok();
    if (target_.auth == AuthMode::kBasic) {
      use_basic_ = true;
      auth_ready_ = true;
      return Status::Ok();
    }
  }
  // The service root answers without credentials (DSP0266): it names the sessions collection.
  Result<HttpResponse> root_resp = engine_.Perform(MakeRequest("GET", kServiceRoot));
  Result<Json> root = ParseBody("GET", kServiceRoot, root_resp);
  if (!root.ok()) return root.error();
  {
    std::lock_guard<std::mutex> lock(mu_);
    login_root_ = *root;
  }
  return Login(*root);
}

Status RedfishClient::Login(const Json& root) {
  std::string sessions;
  if (const Json* links = Field(root, "Links")) sessions = Link(*links, "Sessions");
  auto fall_back_to_basic = [&](const std::string& why) -> Status {
    if (target_.auth == AuthMode::kSession)
      return Error(ErrorCode::kUnsupported, endpoint_ + ": cannot log in with a Redfish session: " +
                                                why + " (auth: basic would use HTTP Basic)");
    spdlog::info("{}: {}; using HTTP Basic auth", endpoint_, why);
    std::lock_guard<std::mutex> lock(mu_);
    use_basic_ = true;
    auth_ready_ = true;
    return Status::Ok();
  };
  if (sessions.empty()) return fall_back_to_basic("the service root has no Links.Sessions");

  HttpRequest req = MakeRequest("POST", sessions);
  req.idempotent = false;
  req.max_attempts = 1;
  req.headers.push_back("Content-Type: application/json");
  req.body = Json{{"UserName", target_.username}, {"Password", target_.password}}.dump();
  Result<HttpResponse> resp = engine_.Perform(std::move(req));
  if (!resp.ok()) return resp.error();
  long status = resp->status;
  if (status == 404 || status == 405 || status == 501)
    return fall_back_to_basic("POST " + sessions + " answered HTTP " + std::to_string(status));
  if (status == 401 || status == 403)
    return Error(ErrorCode::kRefused, endpoint_ + ": login as '" + target_.username +
                                          "' refused (POST " + sessions + ": HTTP " +
                                          std::to_string(status) + ")");
  if (status < 200 || status >= 300) return HttpError("POST", sessions, *resp);
  std::string token = resp->Header("x-auth-token");
  if (token.empty())
    return Error(ErrorCode::kUnsupported, endpoint_ + ": POST " + sessions + " answered HTTP " +
                                              std::to_string(status) +
                                              " without an X-Auth-Token header");
  std::string location = resp->Header("location");
  if (location.empty()) {
    Json body = Json::parse(resp->body, nullptr, false);
    if (!body.is_discarded()) location = Str(body, "@odata.id");
  }
  if (location.rfind(endpoint_, 0) == 0) location.erase(0, endpoint_.size());
  std::lock_guard<std::mutex> lock(mu_);
  token_ = token;
  session_uri_ = location;
  use_basic_ = false;
  auth_ready_ = true;
  spdlog::debug("{}: Redfish session opened", endpoint_);
  return Status::Ok();
}

Result<HttpResponse> RedfishClient::Send(HttpRequest request, bool allow_relogin) {
  std::string used_token;
  {
    std::lock_guard<std::mutex> lock(mu_);
    used_token = token_;
  }
  std::string method = request.method;
  std::string url = request.url;
  Result<HttpResponse> resp = engine_.Perform(request);
  if (!resp.ok() || resp->status != 401 || used_token.empty() || !allow_relogin) return resp;
  // The session expired or the BMC restarted: log in again, once, and repeat the request.
  {
    std::lock_guard<std::mutex> login_lock(login_mu_);
    std::lock_guard<std::mutex> lock(mu_);
    if (token_ == used_token) {
      token_.clear();
      session_uri_.clear();
      auth_ready_ = false;
    }
  }
  spdlog::info("{}: HTTP 401 with a session; logging in again", endpoint_);
  Status auth = EnsureAuth();
  if (!auth.ok()) return auth.error();
  std::string path = url.rfind(endpoint_, 0) == 0 ? url.substr(endpoint_.size()) : url;
  HttpRequest again = MakeRequest(method, path);
  again.body = request.body;
  again.idempotent = request.idempotent;
  again.max_attempts = request.max_attempts;
  again.multipart_file = request.multipart_file;
  again.multipart_json = request.multipart_json;
  for (const auto& h : request.headers)
    if (h.rfind("X-Auth-Token:", 0) != 0 && h.rfind("Accept:", 0) != 0 &&
        h.rfind("OData-Version:", 0) != 0)
      again.headers.push_back(h);
  return engine_.Perform(std::move(again));
}

Result<Json> RedfishClient::ParseBody(const std::string& method, const std::string& path,
                                      const Result<HttpResponse>& response) {
  if (!response.ok()) return response.error();
  const HttpResponse& r = *response;
  if (r.status < 200 || r.status >= 300) return HttpError(method, path, r);
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::string type = r.Header("content-type");
    return Error(
        ErrorCode::kUnsupported,
        endpoint_ + ": " + method + " " + path + ": expected a JSON object, found " +
            (type.empty() ? std::string("no Content-Type") : "Content-Type " + type) +
            (r.body.empty() ? std::string(" and an empty body")
                            : ": '" + Snippet(Scrub(r.body)) + "'"));
  }
  if (IsErrorOnlyBody(j)) {
    // Some captures and BMCs send an error object with HTTP 200.
    return Error(ErrorCode::kNotFound, endpoint_ + ": " + method + " " + path + ": HTTP " +
                                           std::to_string(r.status) +
                                           " with an error body: " +
                                           Scrub(DescribeRedfishError(j)));
  }
  // Writers need the ETag for If-Match; keep the header's where the body has none.
  std::string etag = r.Header("etag");
  if (!etag.empty() && !j.contains("@odata.etag")) j["@odata.etag"] = etag;
  return j;
}

Result<Json> RedfishClient::Get(const std::string& raw_path) {
  std::string path = CleanPath(raw_path);
  if (Status s = EnsureAuth(); !s.ok()) return s.error();
  if (path == kServiceRoot || path + "/" == kServiceRoot) {
    std::lock_guard<std::mutex> lock(mu_);
    if (login_root_) {  // read a moment ago to log in: once, so later reads are fresh
      Json root = std::move(*login_root_);
      login_root_.reset();
      return root;
    }
  }
  Result<HttpResponse> resp = Send(MakeRequest("GET", path), true);
  if (resp.ok() && resp->status == 404 && path != kServiceRoot) {
    // Tolerate a BMC whose links and routes disagree on the trailing slash.
    Result<HttpResponse> again = Send(MakeRequest("GET", ToggleSlash(path)), true);
    if (again.ok() && again->status >= 200 && again->status < 300) resp = std::move(again);
  }
  return ParseBody("GET", path, resp);
}

std::vector<Result<Json>> RedfishClient::GetMany(const std::vector<std::string>& raw_paths) {
  std::vector<Result<Json>> out;
  if (Status s = EnsureAuth(); !s.ok()) {
    for (size_t i = 0; i < raw_paths.size(); ++i) out.emplace_back(s.error());
    return out;
  }
  std::vector<std::future<Result<HttpResponse>>> futures;
  std::vector<std::string> paths;
  for (const auto& raw : raw_paths) {
    paths.push_back(CleanPath(raw));
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    futures.push_back(promise->get_future());
    engine_.Submit(MakeRequest("GET", paths.back()),
                   [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    Result<HttpResponse> r = futures[i].get();
    if (r.ok() && (r->status == 401 || r->status == 404)) {
      out.push_back(Get(paths[i]));  // the slow path handles re-login and slash quirks
    } else {
      out.push_back(ParseBody("GET", paths[i], r));
    }
  }
  return out;
}

Result<std::vector<Json>> RedfishClient::GetMembers(const std::string& collection_path,
                                                    std::vector<std::string>* warnings) {
  std::vector<Json> members;
  std::vector<std::string> to_fetch;
  std::set<std::string> pages_seen;
  std::string page = collection_path;
  while (!page.empty() && pages_seen.insert(page).second && pages_seen.size() < 1000) {
    Result<Json> coll = Get(page);
    if (!coll.ok()) return coll.error();
    const Json* list = Field(*coll, "Members");
    if (list && list->is_array()) {
      for (const auto& m : *list) {
        if (members.size() + to_fetch.size() >= options_.max_members) break;
        if (m.is_object() && m.size() > 1 && Field(m, "Id")) {
          members.push_back(m);  // already expanded ($expand or a BMC that inlines members)
        } else {
          std::string id = m.is_string() ? m.get<std::string>() : CleanPath(Str(m, "@odata.id"));
          if (!id.empty()) to_fetch.push_back(id);
        }
      }
    }
    page = CleanPath(Str(*coll, "Members@odata.nextLink"));
  }
  std::vector<Result<Json>> fetched = GetMany(to_fetch);
  for (size_t i = 0; i < fetched.size(); ++i) {
    if (fetched[i].ok()) {
      members.push_back(std::move(fetched[i].value()));
    } else if (warnings) {
      warnings->push_back(fetched[i].error().message());
    }
  }
  return members;
}

namespace {
Result<WriteResult> ToWriteResult(const Result<HttpResponse>& resp) {
  if (!resp.ok()) return resp.error();
  WriteResult w;
  w.status = resp->status;
  w.location = resp->Header("location");
  Json j = Json::parse(resp->body, nullptr, false);
  if (!j.is_discarded()) w.body = std::move(j);
  return w;
}
}  // namespace

Result<WriteResult> RedfishClient::Poll(const std::string& path) {
  if (Status s = EnsureAuth(); !s.ok()) return s.error();
  return ToWriteResult(Send(MakeRequest("GET", CleanPath(path)), true));
}

Result<WriteResult> RedfishClient::Patch(const std::string& path, const Json& body,
                                         const std::string& etag) {
  if (Status s = EnsureAuth(); !s.ok()) return s.error();
  HttpRequest req = MakeRequest("PATCH", path);
  req.headers.push_back("Content-Type: application/json");
  if (!etag.empty()) req.headers.push_back("If-Match: " + etag);
  // With If-Match a repeated PATCH cannot apply twice over someone else's change.
  req.idempotent = !etag.empty();
  if (!req.idempotent) req.max_attempts = 1;
  req.body = body.dump();
  Result<HttpResponse> resp = Send(std::move(req), true);
  if (resp.ok() && (resp->status < 200 || resp->status >= 300))
    return HttpError("PATCH", path, *resp);
  return ToWriteResult(resp);
}

Result<WriteResult> RedfishClient::Post(const std::string& path, const Json& body) {
  if (Status s = EnsureAuth(); !s.ok()) return s.error();
  HttpRequest req = MakeRequest("POST", path);
  req.headers.push_back("Content-Type: application/json");
  req.idempotent = false;
  req.max_attempts = 1;
  req.body = body.dump();
  Result<HttpResponse> resp = Send(std::move(req), true);
  if (resp.ok() && (resp->status < 200 || resp->status >= 300))
    return HttpError("POST", path, *resp);
  return ToWriteResult(resp);
}

Result<WriteResult> RedfishClient::PushFile(const std::string& path, const std::string& file,
                                            bool multipart, const Json& parameters) {
  if (Status s = EnsureAuth(); !s.ok()) return s.error();
  HttpRequest req = MakeRequest("POST", path);
  req.idempotent = false;
  req.max_attempts = 1;
  req.attempt_timeout_ms = std::max<int64_t>(req.attempt_timeout_ms, 600'000);
  req.deadline_ms = std::max<int64_t>(req.deadline_ms, 600'000);
  if (multipart) {
    req.multipart_file = file;
    if (!parameters.is_null()) req.multipart_json = parameters.dump();
  } else {
    FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) return IoError("cannot read firmware image " + file);
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) req.body.append(buf, n);
    std::fclose(f);
    req.headers.push_back("Content-Type: application/octet-stream");
  }
  Result<HttpResponse> resp = Send(std::move(req), true);
  if (resp.ok() && (resp->status < 200 || resp->status >= 300))
    return HttpError("POST", path, *resp);
  return ToWriteResult(resp);
}

Status RedfishClient::Delete(const std::string& path) {
  if (Status s = EnsureAuth(); !s.ok()) return s;
  Result<HttpResponse> resp = Send(MakeRequest("DELETE", path), true);
  if (!resp.ok()) return resp.error();
  if (resp->status < 200 || resp->status >= 300) return HttpError("DELETE", path, *resp);
  return Status::Ok();
}

Status RedfishClient::Shutdown() {
  {
    std::lock_guard<std::mutex> login_lock(login_mu_);
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
  }
  return Logout();
}

Status RedfishClient::Logout() {
  std::lock_guard<std::mutex> login_lock(login_mu_);
  std::string token, uri;
  {
    std::lock_guard<std::mutex> lock(mu_);
    token.swap(token_);
    uri.swap(session_uri_);
    if (!use_basic_) auth_ready_ = false;
  }
  if (token.empty()) return Status::Ok();
  if (uri.empty())
    return Error(
        ErrorCode::kUnsupported,
        endpoint_ + ": the BMC gave no Location for the session; it stays until it times out");
  HttpRequest req = MakeRequest("DELETE", uri);
  req.headers.push_back("X-Auth-Token: " + token);
  req.max_attempts = 2;
  req.deadline_ms = std::min<int64_t>(options_.deadline_ms, 10'000);
  req.close_after = true;  // the session was what this connection was for
  Result<HttpResponse> resp = engine_.Perform(std::move(req));
  if (!resp.ok()) return resp.error().WithContext("closing the Redfish session");
  if (resp->status >= 300 && resp->status != 404) return HttpError("DELETE", uri, *resp);
  spdlog::debug("{}: Redfish session closed", endpoint_);
  return Status::Ok();
}

}  // namespace racksmith::redfish
