// The simulated BMC fleet: one httplib server per BMC, state changes, files, faults.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/encoding.h"
#include "lab/redfish_sim_internal.h"

namespace racksmith::lab {
namespace {

using nlohmann::json;
using Bmc = RedfishSim::Bmc;

std::string Normalize(std::string path) {
  const std::string prefix = "/redfish/v1";
  if (path.rfind(prefix, 0) == 0) path.erase(0, prefix.size());
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

json ErrorBody(const std::string& id, const std::string& message) {
  return json{{"error",
               {{"code", "Base.1.15." + id},
                {"message", message},
                {"@Message.ExtendedInfo",
                 json::array({{{"MessageId", "Base.1.15." + id}, {"Message", message}}})}}}};
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  if (!body.is_null()) res.set_content(body.dump(), "application/json");
}

// Writes <lab_dir>/nodes/<node>/<file> atomically (a reader never sees half a value).
void WriteLabFile(const Bmc& b, const std::string& file, const std::string& value) {
  if (b.options->lab_dir.empty()) return;
  namespace fs = std::filesystem;
  fs::path dir = fs::path(b.options->lab_dir) / "nodes" / b.node.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path tmp = dir / (file + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << value << "\n";
  }
  fs::rename(tmp, dir / file, ec);
}

int64_t Scaled(const Bmc& b, int64_t ms) {
  double speed = b.options->speed > 0 ? b.options->speed : 1.0;
  return static_cast<int64_t>(static_cast<double>(ms) / speed);
}

// The host loses power: counted (the lab's node restarts), and staged BIOS images apply.
// REQUIRES: b.mu held.
void LosePower(Bmc& b) {
  ++b.power_epoch;
  for (const auto& [component, version] : b.staged) {
    b.firmware[component] = version;
    SimLog(b, "OK", component + " firmware " + version + " is active");
  }
  b.staged.clear();
  if (b.options->on_power_loss) b.options->on_power_loss(b.node.name);
}

// Applies transitions whose time has come. REQUIRES: b.mu held.
void Advance(Bmc& b) {
  int64_t now = SimNowMs();
  if (!b.power_next.empty() && now >= b.power_due_ms) {
    if (b.power_next == "Off") LosePower(b);
    b.power = b.power_next;
    b.power_next.clear();
    WriteLabFile(b, "power", b.power);
    SimLog(b, "OK", "System power is " + b.power);
  }
  for (auto& [id, t] : b.tasks) {
    if (t.applied || t.interrupted || now < t.end_ms) continue;
    t.applied = true;
    if (t.fails) {
      SimLog(b, "Critical", t.name + " failed: the image is corrupt");
    } else if (t.component == "BMC") {
      b.firmware[t.component] = t.version;  // the BMC restarts into its new image at once
      SimLog(b, "OK", "BMC firmware " + t.version + " is active");
    } else if (!t.component.empty()) {
      b.staged[t.component] = t.version;
      SimLog(b, "OK", t.component + " firmware " + t.version + " staged; applies at the next reset");
    } else {
      SimLog(b, "OK", t.name + " completed");
    }
  }
  bool pending = !b.power_next.empty();
  for (const auto& [id, t] : b.tasks) pending = pending || (!t.applied && !t.interrupted);
  b.pending.store(pending, std::memory_order_relaxed);
}

void StartTransition(Bmc& b, const std::string& through, const std::string& to, int64_t ms) {
  b.power = through;
  b.power_next = to;
  b.power_due_ms = SimNowMs() + Scaled(b, ms);
  b.pending.store(true, std::memory_order_relaxed);
}

void ApplyReset(Bmc& b, const std::string& type) {
  bool on = b.power == "On" || b.power == "PoweringOff";
  if (type == "On" || type == "ForceOn") {
    if (!on) StartTransition(b, "PoweringOn", "On", b.options->power_on_ms);
  } else if (type == "ForceOff") {
    if (b.power != "Off") LosePower(b);
    b.power = "Off";
    b.power_next.clear();
    WriteLabFile(b, "power", "Off");
  } else if (type == "GracefulShutdown") {
    if (on) StartTransition(b, "PoweringOff", "Off", b.options->power_off_ms);
  } else {  // ForceRestart, GracefulRestart, PowerCycle: off at once, then boot again
    LosePower(b);
    WriteLabFile(b, "power", "Off");
    StartTransition(b, "PoweringOn", "On", b.options->power_on_ms);
  }
}

bool ResetAllowed(const std::string& type) {
  static const std::vector<std::string> kAllowed = {
      "On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle"};
  return std::find(kAllowed.begin(), kAllowed.end(), type) != kAllowed.end();
}

// "http://x/bios-2.20.1.bin" -> {"BIOS", "2.20.1"}; "bmc" in the name means the BMC.
std::pair<std::string, std::string> ImageVersion(const std::string& uri) {
  std::string name = uri.substr(uri.rfind('/') + 1);
  std::string lower = name;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string component = lower.find("bmc") != std::string::npos ? "BMC" : "BIOS";
  size_t dash = name.rfind('-');
  std::string version = dash == std::string::npos ? name : name.substr(dash + 1);
  size_t dot = version.rfind(".bin");
  if (dot != std::string::npos) version.erase(dot);
  return {component, version};
}

// Registers a task and answers 202 with it and its monitor. REQUIRES: b.mu held.
void StartTask(Bmc& b, Bmc::Task t, httplib::Response& res) {
  std::string id = std::to_string(b.next_task++);
  b.tasks[id] = std::move(t);
  b.pending.store(true, std::memory_order_relaxed);
  res.set_header("Location", "/redfish/v1/TaskService/Tasks/" + id + "/Monitor");
  bool found = false;
  Reply(res, 202, SimResource(b, "TaskService/Tasks/" + id, &found));
}

json SessionJson(const Bmc& b, const std::string& id) {
  return json{{"@odata.id", "/redfish/v1/SessionService/Sessions/" + id},
              {"Id", id},
              {"Name", "User Session"},
              {"UserName", b.options->username}};
}

void Handle(Bmc& b, const std::string& method, const httplib::Request& req,
            httplib::Response& res) {
  std::unique_lock<std::mutex> lock(b.mu);
  ++b.requests;
  if (b.fault == SimFault::kHang) {
    b.fault_changed.wait(lock, [&] { return b.stopping || b.fault != SimFault::kHang; });
    if (b.stopping) return;
  }
  if (b.fault == SimFault::kHttp500 || b.fault == SimFault::kHttp503) {
    bool busy = b.fault == SimFault::kHttp503;
    if (b.fault_count > 0 && --b.fault_count == 0) b.fault = SimFault::kNone;
    if (busy) res.set_header("Retry-After", "1");
    Reply(res, busy ? 503 : 500,
          ErrorBody(busy ? "ServiceTemporarilyUnavailable" : "InternalError",
                    busy ? "The BMC is busy (injected fault)" : "Injected fault"));
    return;
  }
  if (b.fault == SimFault::kSlow) {
    b.fault_changed.wait_for(lock, std::chrono::milliseconds(b.options->slow_ms),
                             [&] { return b.stopping; });
    if (b.stopping) return;
  }
  if (b.fault == SimFault::kDropConnection || SimNowMs() < b.down_until_ms) {
    res.set_content_provider(1000, "application/json", [](size_t, size_t, httplib::DataSink&) {
      return false;
    });  // cut off: no body
    return;
  }
  if (b.fault == SimFault::kWrongContentType) {
    res.status = 200;
    res.set_content("<html><head><title>BMC Login</title></head><body>Please log in</body></html>",
                    "text/html");
    return;
  }
  Advance(b);
  std::string key = Normalize(req.path);
  bool login = method == "POST" && key == "SessionService/Sessions";
  std::string token = req.get_header_value("X-Auth-Token");
  std::string basic = req.get_header_value("Authorization");
  bool authorized =
      (!token.empty() && b.sessions.count(token)) ||
      (basic.rfind("Basic ", 0) == 0 &&
       Base64Decode(basic.substr(6)).value_or("") == b.options->username + ":" + b.options->password);
  if (!key.empty() && !login && !authorized) {
    Reply(res, 401, ErrorBody("NoValidSession", "There is no valid session"));
    return;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) body = json::object();

  if (login) {
    if (body.value("UserName", "") != b.options->username ||
        body.value("Password", "") != b.options->password) {
      Reply(res, 401, ErrorBody("ResourceAtUriUnauthorized", "Invalid user name or password"));
      return;
    }
    std::string id = std::to_string(b.next_session++);
    std::string new_token =
        "lab-" + b.node.name + "-" + id + "-" + std::to_string(SimNowMs() % 1000003);
    b.sessions[new_token] = id;
    std::string location = "/redfish/v1/SessionService/Sessions/" + id;
    res.set_header("X-Auth-Token", new_token);
    res.set_header("Location", location);
    Reply(res, 201, SessionJson(b, id));
    return;
  }
  if (method == "GET") {
    if (key.rfind("SessionService/Sessions/", 0) == 0) {
      std::string id = key.substr(24);
      for (const auto& [t, sid] : b.sessions)
        if (sid == id)
          return Reply(res, 200, SessionJson(b, id));
    }
    // Task monitors answer 202 while the task runs, then the finished task.
    if (key.rfind("TaskService/Tasks/", 0) == 0 && key.size() > 8 &&
        key.compare(key.size() - 8, 8, "/Monitor") == 0) {
      std::string task_key = key.substr(0, key.size() - 8);
      bool found = false;
      json task = SimResource(b, task_key, &found);
      if (!found) return Reply(res, 404, ErrorBody("ResourceMissingAtURI", "No such task"));
      return Reply(res, task.value("TaskState", "") == "Running" ? 202 : 200, task);
    }
    bool found = false;
    json resource = SimResource(b, key, &found);
    if (!found)
      return Reply(res, 404, ErrorBody("ResourceMissingAtURI", "No resource at " + req.path));
    if (resource.contains("@odata.etag"))
      res.set_header("ETag", resource["@odata.etag"].get<std::string>());
    return Reply(res, 200, resource);
  }
  if (method == "DELETE" && key.rfind("SessionService/Sessions/", 0) == 0) {
    std::string id = key.substr(24);
    for (auto it = b.sessions.begin(); it != b.sessions.end(); ++it) {
      if (it->second == id) {
        b.sessions.erase(it);
        res.status = 204;
        return;
      }
    }
    return Reply(res, 404, ErrorBody("ResourceMissingAtURI", "No such session"));
  }
  if (method == "PATCH" && key == "Systems/1") {
    std::string if_match = req.get_header_value("If-Match");
    std::string etag = "W/\"" + std::to_string(b.etag) + "\"";
    if (!if_match.empty() && if_match != etag)
      return Reply(res, 412, ErrorBody("PreconditionFailed", "The ETag does not match"));
    json boot = body.value("Boot", json::object());
    if (boot.contains("BootSourceOverrideTarget")) b.boot_target = boot["BootSourceOverrideTarget"];
    if (boot.contains("BootSourceOverrideEnabled"))
      b.boot_enabled = boot["BootSourceOverrideEnabled"];
    if (boot.contains("BootSourceOverrideMode")) b.boot_mode = boot["BootSourceOverrideMode"];
    ++b.etag;
    WriteLabFile(b, "boot_override", b.boot_target + " " + b.boot_enabled);
    res.status = 204;
    return;
  }
  if (method == "POST" && key == "Systems/1/Actions/ComputerSystem.Reset") {
    std::string type = body.value("ResetType", "");
    if (!ResetAllowed(type))
      return Reply(
          res, 400,
          ErrorBody("ActionParameterValueNotInList", "ResetType '" + type + "' is not allowed"));
    ApplyReset(b, type);
    res.status = 204;
    return;
  }
  if (method == "POST" && key.rfind("Managers/BMC/VirtualMedia/CD1/Actions/", 0) == 0) {
    if (key.find("InsertMedia") != std::string::npos) {
      b.media_image = body.value("Image", "");
      b.media_inserted = !b.media_image.empty();
    } else {
      b.media_image.clear();
      b.media_inserted = false;
    }
    res.status = 204;
    return;
  }
  if (method == "POST" && key == "UpdateService/Actions/UpdateService.SimpleUpdate") {
    std::string uri = body.value("ImageURI", "");
    if (uri.empty())
      return Reply(res, 400, ErrorBody("ActionParameterMissing", "ImageURI is required"));
    auto [component, version] = ImageVersion(uri);
    Bmc::Task t;
    t.start_ms = SimNowMs();
    t.end_ms = t.start_ms + Scaled(b, b.options->firmware_update_ms);
    t.name = "Firmware update " + component;
    t.component = component;
    t.version = version;
    t.fails = uri.find("corrupt") != std::string::npos;
    if (t.fails) t.end_ms = t.start_ms + (t.end_ms - t.start_ms) / 2;
    SimLog(b, "OK", t.name + " to " + version + " started");
    return StartTask(b, std::move(t), res);
  }
  const std::string erase_suffix = "/Actions/Drive.SecureErase";
  if (method == "POST" && key.rfind("Systems/1/Storage/1/Drives/", 0) == 0 &&
      key.size() > erase_suffix.size() &&
      key.compare(key.size() - erase_suffix.size(), erase_suffix.size(), erase_suffix) == 0) {
    std::string drive = key.substr(0, key.size() - erase_suffix.size());
    bool found = false;
    SimResource(b, drive, &found);
    if (!found) return Reply(res, 404, ErrorBody("ResourceMissingAtURI", "No drive " + drive));
    Bmc::Task t;
    t.start_ms = SimNowMs();
    t.end_ms = t.start_ms + Scaled(b, b.options->erase_ms);
    t.name = "Secure erase " + drive.substr(drive.rfind('/') + 1);
    SimLog(b, "Warning", t.name + " started");
    return StartTask(b, std::move(t), res);
  }
  Reply(res, method == "POST" || method == "PATCH" ? 405 : 404,
        ErrorBody("ResourceMissingAtURI", method + " is not supported at " + req.path));
}

}  // namespace

RedfishSim::RedfishSim(SimOptions options) : options_(std::move(options)) {
  ticker_ = std::thread([this] { Tick(); });
}

RedfishSim::~RedfishSim() { Stop(); }

void RedfishSim::Tick() {
  // Transitions end on time even when nobody asks the BMC, so the lab's power files are true.
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      for (auto& [name, b] : bmcs_) {
        if (!b->pending.load(std::memory_order_relaxed)) continue;
        std::lock_guard<std::mutex> bl(b->mu);
        Advance(*b);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status RedfishSim::AddNode(const SimNode& node) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return Error(ErrorCode::kRefused, "the simulator is stopping");
  if (node.name.empty()) return InvalidInput("a simulated node needs a name");
  if (bmcs_.count(node.name))
    return InvalidInput("simulated node " + node.name + " exists already");
  auto b = std::make_unique<Bmc>();
  b->node = node;
  b->options = &options_;
  b->firmware = {{"BIOS", node.bios_version}, {"BMC", node.bmc_version}};
  b->power = node.initial_power == "On" ? "On" : "Off";
  if (!options_.lab_dir.empty()) {
    std::ifstream in(std::filesystem::path(options_.lab_dir) / "nodes" / node.name / "power");
    std::string state;
    if (in >> state && (state == "On" || state == "Off")) b->power = state;
  }
  WriteLabFile(*b, "power", b->power);
  const std::string& cert = node.tls_cert.empty() ? options_.tls_cert : node.tls_cert;
  const std::string& key = node.tls_key.empty() ? options_.tls_key : node.tls_key;
  bool tls = !cert.empty() && !key.empty();
  if (tls) {
    b->server = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
  } else {
    b->server = std::make_unique<httplib::Server>();
  }
  if (!b->server->is_valid())
    return IoError("simulated BMC " + node.name + ": cannot load the TLS certificate or key");
  const size_t threads = static_cast<size_t>(std::max(1, options_.threads_per_bmc));
  b->server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  b->server->set_tcp_nodelay(true);
  b->server->set_keep_alive_max_count(1000);  // real BMCs keep connections open too
  b->server->set_keep_alive_timeout(std::max(1, options_.keep_alive_timeout_s));
  Bmc* raw = b.get();
  for (const char* method : {"GET", "POST", "PATCH", "DELETE"}) {
    auto handler = [raw, method](const httplib::Request& req, httplib::Response& res) {
      Handle(*raw, method, req, res);
    };
    std::string m = method;
    if (m == "GET") b->server->Get(".*", handler);
    if (m == "POST") b->server->Post(".*", handler);
    if (m == "PATCH") b->server->Patch(".*", handler);
    if (m == "DELETE") b->server->Delete(".*", handler);
  }
  int port = node.port;
  if (port == 0) {
    port = b->server->bind_to_any_port(node.address.c_str());
  } else if (!b->server->bind_to_port(node.address.c_str(), port)) {
    port = -1;
  }
  if (port <= 0)
    return Error(ErrorCode::kIo, "simulated BMC " + node.name + ": cannot listen on " +
                                     node.address + ":" + std::to_string(node.port));
  b->url = std::string(tls ? "https://" : "http://") + node.address + ":" + std::to_string(port);
  b->thread = std::thread([raw] { raw->server->listen_after_bind(); });
  while (!b->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bmcs_.emplace(node.name, std::move(b));
  return Status::Ok();
}

RedfishSim::Bmc* RedfishSim::Find(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bmcs_.find(node);
  return it == bmcs_.end() ? nullptr : it->second.get();
}

std::string RedfishSim::Url(const std::string& node) const {
  Bmc* b = Find(node);
  return b ? b->url : std::string();
}

Status RedfishSim::InjectFault(const std::string& node, SimFault fault, int count) {
  Bmc* b = Find(node);
  if (!b) return NotFound("no simulated node " + node);
  {
    std::lock_guard<std::mutex> lock(b->mu);
    Advance(*b);
    if (fault == SimFault::kExpireSessions || fault == SimFault::kBmcReboot) {
      b->sessions.clear();  // one-shot events; the standing fault stays as it was
      if (fault == SimFault::kBmcReboot) {
        b->down_until_ms = SimNowMs() + Scaled(*b, b->options->bmc_reboot_ms);
        for (auto& [id, t] : b->tasks)
          if (!t.applied) t.interrupted = true;
        SimLog(*b, "Warning", "The BMC restarted");
      } else {
        SimLog(*b, "OK", "All sessions expired");
      }
    } else {
      b->fault = fault;
      b->fault_count = count;
      if (fault == SimFault::kGpuMissing) SimLog(*b, "Critical", "A GPU is no longer detected");
    }
  }
  b->fault_changed.notify_all();
  return Status::Ok();
}

std::string RedfishSim::PowerState(const std::string& node) const {
  Bmc* b = Find(node);
  if (!b) return {};
  std::lock_guard<std::mutex> lock(b->mu);
  return b->power;
}

uint64_t RedfishSim::PowerEpoch(const std::string& node) const {
  Bmc* b = Find(node);
  if (!b) return 0;
  std::lock_guard<std::mutex> lock(b->mu);
  Advance(*b);
  return b->power_epoch;
}

Status RedfishSim::Reset(const std::string& node, const std::string& reset_type) {
  Bmc* b = Find(node);
  if (!b) return NotFound("no simulated node " + node);
  if (!ResetAllowed(reset_type))
    return InvalidInput("reset type '" + reset_type + "' is not one the BMC allows");
  std::lock_guard<std::mutex> lock(b->mu);
  Advance(*b);
  ApplyReset(*b, reset_type);
  return Status::Ok();
}

std::string RedfishSim::TakeBootOverride(const std::string& node) {
  Bmc* b = Find(node);
  if (!b) return {};
  std::lock_guard<std::mutex> lock(b->mu);
  if (b->boot_enabled == "Disabled" || b->boot_target == "None") return {};
  std::string target = b->boot_target;
  if (b->boot_enabled == "Once") {
    b->boot_target = "None";
    b->boot_enabled = "Disabled";
    ++b->etag;
    WriteLabFile(*b, "boot_override", "None Disabled");
  }
  return target;
}

int RedfishSim::LiveSessions(const std::string& node) const {
  Bmc* b = Find(node);
  if (!b) return 0;
  std::lock_guard<std::mutex> lock(b->mu);
  return static_cast<int>(b->sessions.size());
}

int64_t RedfishSim::Requests(const std::string& node) const {
  Bmc* b = Find(node);
  if (!b) return 0;
  std::lock_guard<std::mutex> lock(b->mu);
  return b->requests;
}

void RedfishSim::Stop() {
  std::map<std::string, std::unique_ptr<Bmc>> bmcs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && bmcs_.empty()) return;
    stopping_ = true;
    bmcs.swap(bmcs_);
  }
  if (ticker_.joinable()) ticker_.join();
  for (auto& [name, b] : bmcs) {
    {
      std::lock_guard<std::mutex> lock(b->mu);
      b->stopping = true;
    }
    b->fault_changed.notify_all();
    b->server->stop();
    if (b->thread.joinable()) b->thread.join();
  }
}

}  // namespace racksmith::lab
