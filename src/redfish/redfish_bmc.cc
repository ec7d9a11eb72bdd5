// Power, boot override and virtual media. Firmware, hardware, logs and erase are in
// redfish_bmc_inventory.cc.
#include "redfish/redfish_bmc.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <chrono>
#include <initializer_list>
#include <utility>
#include <thread>

#include "base/clock.h"

namespace racksmith::redfish {
namespace {

int64_t NowMs() { return SystemClock().MonotonicMillis(); }

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

}  // namespace

Result<ServiceMap*> RedfishBmc::Map() {
  if (!map_) {
    Result<ServiceMap> m = Discover(*client_, system_id_, client_->endpoint());
    if (!m.ok()) return m.error();
    map_ = std::move(m.value());
    map_just_read_ = true;
  } else {
    map_just_read_ = false;  // from an earlier call: its copy of the system may be old
  }
  return &*map_;
}

Result<Json> RedfishBmc::FreshSystem() {
  Result<ServiceMap*> m = Map();
  if (!m.ok()) return m.error();
  // Discovery has just read the system: reading it again would only double the requests.
  if (std::exchange(map_just_read_, false)) return (*m)->system;
  Result<Json> sys = client_->Get((*m)->system_path);
  if (sys.ok()) (*m)->system = *sys;
  return sys;
}

Result<bmc::PowerState> RedfishBmc::GetPowerState() {
  Result<Json> sys = FreshSystem();
  if (!sys.ok()) return sys.error();
  std::string p = Str(*sys, "PowerState");
  bmc::PowerState s = bmc::ParsePowerState(p);
  if (s == bmc::PowerState::kUnknown)
    return Error(ErrorCode::kUnsupported, client_->endpoint() + ": " + map_->system_path +
                                              ": expected PowerState On/Off, found '" + p + "'");
  return s;
}

Status RedfishBmc::PostReset(const ActionRef& action, const std::string& value) {
  spdlog::info("{}: ComputerSystem.Reset {}", client_->endpoint(), value);
  Result<WriteResult> w = client_->Post(action.target, Json{{"ResetType", value}});
  if (!w.ok()) return w.error();
  return FollowTask(*client_, *w, TaskWait{120'000, client_->options().task_poll_interval_ms},
                    nullptr, "reset " + value);
}

Status RedfishBmc::WaitPower(bmc::PowerState want, int64_t timeout_ms, int64_t poll_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    Result<bmc::PowerState> now = GetPowerState();
    if (now.ok() && *now == want) return Status::Ok();
    if (NowMs() >= deadline) {
      std::string found = now.ok() ? bmc::PowerStateName(*now) : now.error().message();
      return Error(ErrorCode::kTimeout, client_->endpoint() + ": power state still " + found +
                                            " after " + std::to_string(timeout_ms / 1000) +
                                            " s (waiting for " + bmc::PowerStateName(want) + ")");
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(poll_ms, std::max<int64_t>(1, deadline - NowMs()))));
  }
}

Status RedfishBmc::Reset(bmc::ResetType type, const bmc::ResetOptions& opts) {
  using bmc::PowerState;
  using bmc::ResetType;
  Result<Json> sys = FreshSystem();
  if (!sys.ok()) return sys.error();
  PowerState current = bmc::ParsePowerState(Str(*sys, "PowerState"));
  Result<ActionRef> action =
      FindAction(*client_, *sys, "#ComputerSystem.Reset", "ResetType", client_->endpoint());
  if (!action.ok()) return action.error();
  const ActionRef& a = *action;
  auto pick = [&](std::initializer_list<const char*> prefs) -> std::string {
    for (const char* p : prefs)
      if (IsAllowed(a, p)) return p;
    return {};
  };
  auto unsupported = [&](const char* what) {
    return Error(ErrorCode::kUnsupported, client_->endpoint() + ": cannot " + what +
                                              ": ResetType allows only " + fmt::format("{}", fmt::join(a.allowed, ", ")));
  };
  auto wait_for = [&](PowerState want) -> Status {
    if (!opts.wait) return Status::Ok();
    return WaitPower(want, opts.wait_timeout_ms, opts.poll_interval_ms);
  };
  auto power_on = [&]() -> Status {
    std::string v = pick({"On", "ForceOn", "PushPowerButton"});
    if (v.empty()) return unsupported("power on");
    if (Status s = PostReset(a, v); !s.ok()) return s;
    return wait_for(PowerState::kOn);
  };
  auto force_off = [&](bool must_wait) -> Status {
    std::string v = pick({"ForceOff"});
    if (v.empty()) return unsupported("force the power off");
    if (Status s = PostReset(a, v); !s.ok()) return s;
    if (must_wait) return WaitPower(PowerState::kOff, opts.wait_timeout_ms, opts.poll_interval_ms);
    return wait_for(PowerState::kOff);
  };

  switch (type) {
    case ResetType::kOn:
      if (current == PowerState::kOn) return Status::Ok();
      if (current == PowerState::kPoweringOn) return wait_for(PowerState::kOn);
      return power_on();
    case ResetType::kForceOff:
      if (current == PowerState::kOff) return Status::Ok();
      return force_off(false);
    case ResetType::kGracefulShutdown: {
      if (current == PowerState::kOff) return Status::Ok();
      if (IsAllowed(a, "GracefulShutdown")) {
        if (Status s = PostReset(a, "GracefulShutdown"); !s.ok()) return s;
        Status off = WaitPower(PowerState::kOff, opts.graceful_timeout_ms, opts.poll_interval_ms);
        if (off.ok()) return off;
        spdlog::warn("{}: no power-off {} s after GracefulShutdown; forcing it off",
                     client_->endpoint(), opts.graceful_timeout_ms / 1000);
      }
      return force_off(false);
    }
    case ResetType::kForceRestart:
    case ResetType::kGracefulRestart:
    case ResetType::kPowerCycle: {
      if (current == PowerState::kOff) return power_on();
      std::string v = type == ResetType::kPowerCycle ? pick({"PowerCycle"})
                      : type == ResetType::kForceRestart
                          ? pick({"ForceRestart", "PowerCycle"})
                          : pick({"GracefulRestart", "ForceRestart"});
      if (!v.empty()) {
        if (Status s = PostReset(a, v); !s.ok()) return s;
        return wait_for(PowerState::kOn);
      }
      // The BMC offers no restart: do it as ForceOff, wait for Off, then On.
      if (Status s = force_off(true); !s.ok()) return s;
      return power_on();
    }
  }
  return Internal("unknown reset type");
}

Result<bmc::BootSettings> RedfishBmc::GetBoot() {
  Result<Json> sys = FreshSystem();
  if (!sys.ok()) return sys.error();
  const Json* boot = Field(*sys, "Boot");
  if (!boot)
    return Error(ErrorCode::kUnsupported,
                 client_->endpoint() + ": " + map_->system_path + " has no Boot settings");
  bmc::BootSettings b;
  b.enabled = Str(*boot, "BootSourceOverrideEnabled");
  b.target = Str(*boot, "BootSourceOverrideTarget");
  b.mode = Str(*boot, "BootSourceOverrideMode");
  b.allowed_targets = Strings(*boot, "BootSourceOverrideTarget@Redfish.AllowableValues");
  return b;
}

Status RedfishBmc::SetBootOverride(const bmc::BootOverride& want) {
  const std::string& ep = client_->endpoint();
  for (int attempt = 0;; ++attempt) {
    Result<Json> sys = FreshSystem();
    if (!sys.ok()) return sys.error();
    const Json* boot = Field(*sys, "Boot");
    if (!boot)
      return Error(ErrorCode::kUnsupported, ep + ": " + map_->system_path + " has no Boot");
    std::string target = bmc::BootDeviceName(want.device);
    auto check = [&](const std::string& key, const std::string& value) -> Status {
      std::string allow_key = key + "@Redfish.AllowableValues";
      if (!Field(*boot, allow_key)) return Status::Ok();
      std::vector<std::string> allowed = Strings(*boot, allow_key);
      if (Contains(allowed, value)) return Status::Ok();
      return Error(ErrorCode::kUnsupported,
                   ep + ": " + map_->system_path + ": " + key + " '" + value +
                       "' is not allowed; the BMC allows: " + fmt::format("{}", fmt::join(allowed, ", ")));
    };
    Json patch;
    patch["BootSourceOverrideTarget"] = target;
    if (Status s = check("BootSourceOverrideTarget", target); !s.ok()) return s;
    std::string enabled = want.persistent ? "Continuous" : "Once";
    if (Status s = check("BootSourceOverrideEnabled", enabled); !s.ok()) return s;
    patch["BootSourceOverrideEnabled"] = enabled;
    if (want.mode != bmc::BootMode::kUnchanged) {
      std::string mode = want.mode == bmc::BootMode::kUefi ? "UEFI" : "Legacy";
      if (!Field(*boot, "BootSourceOverrideMode"))
        return Error(ErrorCode::kUnsupported,
                     ep + ": " + map_->system_path + " does not offer BootSourceOverrideMode");
      if (Status s = check("BootSourceOverrideMode", mode); !s.ok()) return s;
      patch["BootSourceOverrideMode"] = mode;
    }
    if (want.device == bmc::BootDevice::kUefiTarget) {
      if (want.uefi_target.empty())
        return InvalidInput(ep + ": boot device UefiTarget needs a UEFI device path");
      patch["UefiTargetBootSourceOverride"] = want.uefi_target;
    }
    Result<WriteResult> w =
        client_->Patch(map_->system_path, Json{{"Boot", patch}}, Str(*sys, "@odata.etag"));
    if (w.ok()) return Status::Ok();
    // Someone changed the system between our read and write: read again, once.
    if (w.error().code() == ErrorCode::kConflict && attempt == 0) continue;
    return w.error();
  }
}

Result<std::vector<Json>> RedfishBmc::MediaSlots() {
  Result<ServiceMap*> m = Map();
  if (!m.ok()) return m.error();
  std::vector<std::string> collections;
  // Most BMCs put virtual media under the Manager; newer schemas (and rackmount1) under the
  // System. Look in both, the manager first.
  if (!(*m)->manager_path.empty()) {
    Result<Json> mgr = client_->Get((*m)->manager_path);
    if (mgr.ok() && !Link(*mgr, "VirtualMedia").empty())
      collections.push_back(Link(*mgr, "VirtualMedia"));
  }
  std::string sys_vm = Link((*m)->system, "VirtualMedia");
  if (!sys_vm.empty()) collections.push_back(sys_vm);
  std::vector<Json> slots;
  for (const auto& c : collections) {
    Result<std::vector<Json>> members = client_->GetMembers(c, nullptr);
    if (!members.ok()) return members.error();
    for (auto& j : *members) slots.push_back(std::move(j));
  }
  if (slots.empty())
    return Error(ErrorCode::kUnsupported,
                 client_->endpoint() + ": no VirtualMedia under the manager " + (*m)->manager_path +
                     " or the system " + (*m)->system_path);
  return slots;
}

Result<std::vector<bmc::VirtualMediaSlot>> RedfishBmc::ListVirtualMedia() {
  Result<std::vector<Json>> slots = MediaSlots();
  if (!slots.ok()) return slots.error();
  std::vector<bmc::VirtualMediaSlot> out;
  for (const auto& j : *slots) {
    bmc::VirtualMediaSlot s;
    s.id = Str(j, "Id");
    s.odata_id = CleanPath(Str(j, "@odata.id"));
    s.media_types = Strings(j, "MediaTypes");
    s.image = Str(j, "Image");
    s.inserted = Bool(j, "Inserted", !s.image.empty());
    out.push_back(std::move(s));
  }
  return out;
}

namespace {
const Json* ChooseSlot(const std::vector<Json>& slots, const std::string& id) {
  for (const auto& s : slots)
    if (!id.empty() && Str(s, "Id") == id) return &s;
  if (!id.empty()) return nullptr;
  for (const auto& s : slots)
    for (const auto& t : Strings(s, "MediaTypes"))
      if (t == "CD" || t == "DVD") return &s;
  return slots.empty() ? nullptr : &slots.front();
}
}  // namespace

Status RedfishBmc::InsertMedia(const std::string& image_url, const std::string& slot_id) {
  const std::string& ep = client_->endpoint();
  if (image_url.empty()) return InvalidInput(ep + ": virtual media insert needs an image URL");
  Result<std::vector<Json>> slots = MediaSlots();
  if (!slots.ok()) return slots.error();
  const Json* slot = ChooseSlot(*slots, slot_id);
  if (!slot) return NotFound(ep + ": no virtual media slot '" + slot_id + "'");
  std::string path = CleanPath(Str(*slot, "@odata.id"));
  Result<ActionRef> action = FindAction(*client_, *slot, "#VirtualMedia.InsertMedia", "", ep);
  Result<WriteResult> w =
      action.ok()
          ? client_->Post(action->target,
                          Json{{"Image", image_url}, {"Inserted", true}, {"WriteProtected", true}})
          : client_->Patch(path, Json{{"Image", image_url}, {"Inserted", true}},
                           Str(*slot, "@odata.etag"));
  if (!w.ok()) return w.error();
  return FollowTask(*client_, *w, TaskWait{300'000, client_->options().task_poll_interval_ms},
                    nullptr, "virtual media insert");
}

Status RedfishBmc::EjectMedia(const std::string& slot_id) {
  const std::string& ep = client_->endpoint();
  Result<std::vector<Json>> slots = MediaSlots();
  if (!slots.ok()) return slots.error();
  const Json* slot = nullptr;
  if (slot_id.empty()) {
    for (const auto& s : *slots)
      if (Bool(s, "Inserted", false) && !slot) slot = &s;
    if (!slot) return Status::Ok();  // nothing inserted anywhere: already ejected
  } else {
    slot = ChooseSlot(*slots, slot_id);
    if (!slot) return NotFound(ep + ": no virtual media slot '" + slot_id + "'");
  }
  std::string path = CleanPath(Str(*slot, "@odata.id"));
  Result<ActionRef> action = FindAction(*client_, *slot, "#VirtualMedia.EjectMedia", "", ep);
  Result<WriteResult> w = action.ok()
                              ? client_->Post(action->target, Json::object())
                              : client_->Patch(path, Json{{"Image", nullptr}, {"Inserted", false}},
                                               Str(*slot, "@odata.etag"));
  if (!w.ok()) return w.error();
  return FollowTask(*client_, *w, TaskWait{300'000, client_->options().task_poll_interval_ms},
                    nullptr, "virtual media eject");
}

}  // namespace racksmith::redfish
