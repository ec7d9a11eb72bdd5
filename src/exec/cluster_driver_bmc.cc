// ClusterDriver, the steps done through the node's BMC: discover, firmware, image (boot
// override and reset; the node's side is in cluster_driver_node.cc), erase, power_off.
#include <cmath>
#include <map>

#include "bmc/hardware_json.h"
#include "exec/cluster_driver_internal.h"
#include "plan/plan.h"

namespace racksmith::exec {
namespace {

StepOutcome BmcFailed(StepRun& run, const Error& e, const std::string& what) {
  return run.FromError(e, what, IsTransientBmcError(e));
}

std::string HardwareLine(const bmc::HardwareReport& r) {
  std::map<std::string, int> models;
  for (const auto& g : r.gpus) ++models[g.model.empty() ? "unknown model" : g.model];
  std::string gpus = std::to_string(r.gpus.size()) + " GPUs";
  if (models.size() == 1) gpus += " x " + models.begin()->first;
  int cpus = r.logical_cpus > 0 ? r.logical_cpus : r.cpu_count;
  return gpus + ", " + std::to_string(cpus) + " CPUs, " +
         std::to_string(std::llround(r.memory_gib)) + " GiB memory, " +
         std::to_string(r.drives.size()) + " drives";
}

// The inventory's firmware key of a firmware step's component.
std::string FirmwareKey(const std::string& component) {
  if (component == "bmc_firmware") return "bmc";
  if (component.rfind("firmware_", 0) == 0) return component.substr(9);
  return component;  // bios
}

// The BMC's firmware entry for an inventory key: an exact Id first, then names vendors use.
const bmc::FirmwareComponent* FindFirmware(const std::vector<bmc::FirmwareComponent>& list,
                                           const std::string& key) {
  std::vector<std::string> words = {ToLower(key)};
  if (key == "bmc") words = {"bmc", "idrac", "ilo", "xcc", "remote access controller"};
  if (key == "bios") words = {"bios", "uefi", "system rom"};
  for (const auto& c : list) {
    if (ToLower(c.id) == words[0]) return &c;
  }
  for (const std::string& w : words) {
    for (const auto& c : list) {
      if (ToLower(c.id).find(w) != std::string::npos ||
          ToLower(c.name).find(w) != std::string::npos) {
        return &c;
      }
    }
  }
  return nullptr;
}

std::string FirmwareNames(const std::vector<bmc::FirmwareComponent>& list) {
  std::string out;
  for (const auto& c : list) out += (out.empty() ? "" : ", ") + c.id;
  return out.empty() ? "none" : out;
}

std::string FirmwareImageUri(const inventory::Node& node, const std::string& key,
                             const std::string& version, const ClusterDriverOptions& options) {
  const nlohmann::json& vars = node.vars;
  if (vars.is_object() && vars.contains("firmware_images")) {
    const nlohmann::json& images = vars["firmware_images"];
    if (images.is_object() && images.contains(key) && images[key].is_string()) {
      // "{version}" in the URI becomes the wanted version, so that changing `firmware:` in
      // the inventory cannot flash the image of another version.
      std::string uri = images[key].get<std::string>();
      for (size_t at; (at = uri.find("{version}")) != std::string::npos;) {
        uri.replace(at, 9, version);
      }
      return uri;
    }
  }
  if (options.firmware_base_uri.empty()) return {};
  std::string base = options.firmware_base_uri;
  if (base.back() == '/') base.pop_back();
  return base + "/" + key + "-" + version + ".bin";
}

// A URI for output: user information ("https://user:token@host/...") replaced by "***".
std::string ForOutput(const std::string& uri) {
  size_t scheme = uri.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t at = uri.find('@', start);
  size_t slash = uri.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return uri;
  return uri.substr(0, start) + "***" + uri.substr(at);
}

// The component's version as the BMC reports it now.
Result<std::string> FirmwareVersion(bmc::Bmc& b, const std::string& key) {
  Result<std::vector<bmc::FirmwareComponent>> list = b.ListFirmware();
  if (!list.ok()) return list.error();
  const bmc::FirmwareComponent* c = FindFirmware(*list, key);
  if (c == nullptr) {
    return NotFound("the BMC reports no firmware component for '" + key +
                    "' (it has: " + FirmwareNames(*list) + ")");
  }
  return c->version;
}

}  // namespace


std::optional<state::StepRecord> LastStepLikeThis(StepRun& run) {
  if (run.ctx.store == nullptr) return std::nullopt;
  Result<std::vector<state::StepRecord>> steps = run.ctx.store->StepsOfNode(run.node.name);
  if (!steps.ok()) return std::nullopt;
  const std::string kind = plan::StepKindName(run.step.kind);
  for (auto it = steps->rbegin(); it != steps->rend(); ++it) {
    if (it->kind == kind && it->component == run.step.component) return std::move(*it);
  }
  return std::nullopt;
}

int64_t LastStartOfStep(StepRun& run) {
  std::optional<state::StepRecord> last = LastStepLikeThis(run);
  return last ? last->started_at : 0;
}

// ---- live facts ------------------------------------------------------------------------------

void ReadLiveBmc(StepRun& run, const std::vector<std::string>& components, plan::LiveFacts* out) {
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) {
    out->unreadable.push_back("BMC: " + b.error().message());
    return;
  }
  const std::string where = "BMC " + (*b)->Describe();
  Result<bmc::PowerState> power = (*b)->GetPowerState();
  if (power.ok()) {
    out->power = bmc::PowerStateName(*power);
    out->power_evidence = where + ": PowerState " + out->power;
  } else {
    out->unreadable.push_back(where + ": power state: " + power.error().message());
  }
  std::vector<std::string> firmware;
  for (const std::string& c : components) {
    if (c == "bios" || c == "bmc_firmware" || c.rfind("firmware_", 0) == 0) firmware.push_back(c);
  }
  if (firmware.empty()) return;
  Result<std::vector<bmc::FirmwareComponent>> list = (*b)->ListFirmware();
  if (!list.ok()) {
    out->unreadable.push_back(where + ": firmware inventory: " + list.error().message());
    return;
  }
  for (const std::string& c : firmware) {
    const bmc::FirmwareComponent* f = FindFirmware(*list, FirmwareKey(c));
    if (f == nullptr) {
      out->unreadable.push_back(where + ": no firmware entry for " + c + " (it has: " +
                                FirmwareNames(*list) + ")");
      continue;
    }
    plan::LiveComponent& live = out->components[c];
    live.version = f->version;
    live.evidence = where + ": firmware " + f->id;
  }
}

// ---- discover --------------------------------------------------------------------------------

StepOutcome RunDiscover(StepRun& run) {
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return BmcFailed(run, b.error(), "BMC");
  Result<bmc::HardwareReport> hw = (*b)->GetHardware();
  if (!hw.ok()) return BmcFailed(run, hw.error(), "reading the hardware from the BMC");
  std::string facts = bmc::HardwareFactsJson(*hw).dump();
  run.Say("BMC " + (*b)->Describe() + ": " + HardwareLine(*hw));
  for (const auto& w : hw->warnings) run.Say("warning: " + w);
  if (run.ctx.store != nullptr) {
    if (Status s = run.ctx.store->RecordBmcFacts(run.node.name, facts); !s.ok()) {
      return run.Fail("recording the BMC facts: " + s.error().message());
    }
    run.Say("BMC facts recorded");
  }
  Result<plan::DiscoveredHardware> found = plan::ParseHardwareFacts(facts);
  if (!found.ok()) return run.Fail("BMC facts: " + found.error().message());
  if (auto mismatch = plan::HardwareMismatch(run.node.hardware, *found)) {
    std::string what = run.node.profile.empty() ? "the inventory of " + run.node.name
                                                : "profile " + run.node.profile;
    return run.Fail("hardware does not match " + what + ": " + *mismatch);
  }
  return run.Ok("hardware matches the inventory");
}

GuardResult GuardDiscover(StepRun& run) {
  if (run.ctx.store == nullptr) return {GuardVerdict::kUnknown, "no state store"};
  Result<std::optional<state::BmcFacts>> facts = run.ctx.store->LatestBmcFacts(run.node.name);
  if (!facts.ok()) return {GuardVerdict::kUnknown, facts.error().message()};
  int64_t since = LastStartOfStep(run);
  if (!facts->has_value() || since == 0 || (*facts)->collected_at < since) {
    return {GuardVerdict::kNotDone, "no BMC facts recorded since the step started"};
  }
  Result<plan::DiscoveredHardware> found = plan::ParseHardwareFacts((*facts)->facts_json);
  if (!found.ok()) return {GuardVerdict::kNotDone, "BMC facts: " + found.error().message()};
  if (auto mismatch = plan::HardwareMismatch(run.node.hardware, *found)) {
    return {GuardVerdict::kNotDone, "BMC facts recorded since do not match: " + *mismatch};
  }
  return {GuardVerdict::kDone, "BMC facts recorded since the step started match the inventory"};
}

// ---- firmware --------------------------------------------------------------------------------

StepOutcome RunFirmware(StepRun& run) {
  const std::string key = FirmwareKey(run.step.component);
  const std::string& want = run.step.to_version;
  if (want.empty()) return run.Fail("no firmware version to flash for " + key);
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return BmcFailed(run, b.error(), "BMC");
  bmc::Bmc& bmc = **b;
  Result<std::vector<bmc::FirmwareComponent>> list = bmc.ListFirmware();
  if (!list.ok()) return BmcFailed(run, list.error(), "listing firmware");
  const bmc::FirmwareComponent* c = FindFirmware(*list, key);
  if (c == nullptr) {
    return run.Fail("the BMC " + bmc.Describe() + " reports no firmware component for '" + key +
                    "' (it has: " + FirmwareNames(*list) + ")");
  }
  if (c->version == want) return run.Ok(c->id + " already at " + want);
  std::string uri = FirmwareImageUri(run.node, key, want, run.d.options);
  if (uri.empty()) {
    return run.Fail("no firmware image for " + key + " " + want + ": set vars.firmware_images." +
                    key +
                    " in the inventory (a URI the BMC can fetch, {version} replaced) or the "
                    "firmware base URI");
  }
  const std::string from = c->version;
  run.Say(c->id + " " + (from.empty() ? "?" : from) + " -> " + want + " from " + ForOutput(uri));
  bmc::FirmwareUpdate update;
  update.image_uri = uri;
  update.timeout_ms = run.Bounded(run.d.options.firmware_timeout_ms);
  std::string last_state;
  Status s = bmc.UpdateFirmware(update, [&](const bmc::TaskProgress& p) {
    if (p.state != last_state) {
      last_state = p.state;
      run.Say("update task: " + p.state +
              (p.percent >= 0 ? " " + std::to_string(p.percent) + "%" : ""));
    }
  });
  if (!s.ok()) return BmcFailed(run, s.error(), "firmware update");

  // Some components (BIOS) apply at the next boot; a BMC may restart itself after its own.
  std::string now, error;
  auto at_target = [&] {
    Result<std::string> v = FirmwareVersion(bmc, key);
    if (!v.ok()) {
      error = v.error().message();
      return false;
    }
    error.clear();
    now = *v;
    return now == want;
  };
  WaitEnd end = PollUntil(run, run.d.options.power_timeout_ms, [&] {
    return at_target() || (error.empty() && !now.empty());  // answered, at target or not
  });
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped());
  if (now == want) return run.Ok(key + " now at " + want);
  if (!error.empty()) return run.Fail("after the update the BMC does not answer: " + error);
  if (!run.d.options.reset_to_apply_firmware) {
    return run.Fail("the update task completed but the BMC reports " + key + " at " + now +
                    ", expected " + want);
  }
  run.Say("BMC still reports " + now + ": restarting the host to apply the update");
  bmc::ResetOptions ro;
  ro.wait = false;
  if (Status r = bmc.Reset(bmc::ResetType::kForceRestart, ro); !r.ok()) {
    return BmcFailed(run, r.error(), "restart to apply firmware");
  }
  run.Disconnect();
  end = PollUntil(run, run.d.options.boot_timeout_ms, at_target);
  if (end == WaitEnd::kDone) return run.Ok(key + " now at " + want + " after a restart");
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped());
  return run.Fail("after the update and a restart the BMC reports " + key + " at " +
                  (now.empty() ? "?" : now) + ", expected " + want +
                  (error.empty() ? "" : " (" + error + ")"));
}

GuardResult GuardFirmware(StepRun& run) {
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return {GuardVerdict::kUnknown, b.error().message()};
  const std::string key = FirmwareKey(run.step.component);
  Result<std::string> v = FirmwareVersion(**b, key);
  if (!v.ok()) return {GuardVerdict::kUnknown, v.error().message()};
  std::string evidence = "the BMC reports " + key + " at " + *v;
  if (*v == run.step.to_version) return {GuardVerdict::kDone, evidence};
  // At the old version, but an update may be on its way (a kill -9 or a lost answer in the
  // middle of one): flashing again on top of it is how a BMC gets bricked.
  Result<std::vector<bmc::BmcTask>> tasks = (*b)->ListTasks();
  if (!tasks.ok()) {
    return {GuardVerdict::kUnknown,
            evidence + "; its tasks could not be read: " + tasks.error().message()};
  }
  for (const bmc::BmcTask& t : *tasks) {
    if (!bmc::IsUnfinishedTaskState(t.state)) continue;
    return {GuardVerdict::kUnknown,
            evidence + ", and its task " + (t.name.empty() ? t.id : t.name) + " is " +
                (t.state.empty() ? "in no stated state" : t.state) +
                (t.percent >= 0 ? " (" + std::to_string(t.percent) + "%)" : "") +
                ": an update may still be running"};
  }
  return {GuardVerdict::kNotDone, evidence + ", and no task of it is unfinished"};
}

// ---- image: boot from the network once, reset, wait for the new boot ------------------------

StepOutcome RunImage(StepRun& run) {
  if (run.node.image.empty()) return run.Fail("the inventory names no image for " + run.node.name);
  if (auto busy = RefuseIfSlurmRunsJobs(run, "reimages it")) return *busy;
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return BmcFailed(run, b.error(), "BMC");
  bmc::Bmc& bmc = **b;

  std::string before;
  bool sentinel = false;
  if (Result<std::string> id = ReadBootId(run); id.ok()) {
    before = *id;
    run.Say("boot id before: " + before.substr(0, 8));
    // Left in the old root: if the node comes back with it, the network boot fell back to
    // the disk and nothing was imaged (RunImageMarker).
    Status s = WriteMarker(run, kReimageSentinel,
                           "# racksmith: this root is being replaced by " + run.step.id +
                               "\nboot_id=" + before + "\n");
    sentinel = s.ok();
    if (!s.ok()) run.Say("could not leave " + std::string(kReimageSentinel) + " (" +
                         s.error().message() + "): a boot of the old root will not be noticed");
  } else {
    run.Say("not answering over SSH before the reset (" + id.error().message() + ")");
  }
  Result<bmc::PowerState> power = bmc.GetPowerState();
  if (!power.ok()) return BmcFailed(run, power.error(), "power state");
  bmc::BootOverride boot;
  boot.device = bmc::BootDevice::kPxe;
  boot.persistent = false;
  if (Status s = bmc.SetBootOverride(boot); !s.ok())
    return BmcFailed(run, s.error(), "boot override");
  run.Say("boot override: Pxe, once (BMC " + bmc.Describe() + ")");

  const bool off = *power == bmc::PowerState::kOff || *power == bmc::PowerState::kPoweringOff;
  bmc::ResetOptions ro;
  ro.wait = false;
  if (Status s = bmc.Reset(off ? bmc::ResetType::kOn : bmc::ResetType::kForceRestart, ro);
      !s.ok()) {
    return BmcFailed(run, s.error(), off ? "power on" : "restart");
  }
  run.Say(off ? "powered on" : "restarted (ForceRestart)");
  run.Disconnect();
  if (run.d.options.forget_host_keys_on_reimage && run.d.ssh.host_keys != nullptr) {
    Result<int> forgotten = run.d.ssh.host_keys->Forget(run.node.name);
    if (!forgotten.ok()) return run.Fail("forgetting host keys: " + forgotten.error().message());
    run.Say("forgot " + std::to_string(*forgotten) +
            " host key(s); the new image's are recorded at first contact");
  }
  std::string boot_id;
  if (auto out = WaitForNewBoot(run, before, run.d.options.boot_timeout_ms, &boot_id)) return *out;
  return RunImageMarker(run, boot_id, sentinel);
}

// ---- erase, power_off ------------------------------------------------------------------------

StepOutcome RunErase(StepRun& run) {
  if (auto busy = RefuseIfSlurmRunsJobs(run, "erases its disks")) return *busy;
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return BmcFailed(run, b.error(), "BMC");
  bmc::Bmc& bmc = **b;
  Result<bmc::HardwareReport> hw = bmc.GetHardware();
  if (!hw.ok()) return BmcFailed(run, hw.error(), "reading the drives from the BMC");
  int expected = 0;
  for (const auto& d : run.node.hardware.drives) expected += d.count;
  if (hw->drives.empty()) {
    if (expected > 0) {
      return run.Fail("the BMC reports no drives but the inventory lists " +
                      std::to_string(expected) + ": nothing erased; erase them by hand");
    }
    return run.Ok("the BMC reports no drives and the inventory lists none: nothing to erase");
  }
  std::string unsupported;
  for (const auto& d : hw->drives) {
    if (!d.secure_erase || d.odata_id.empty())
      unsupported += (unsupported.empty() ? "" : ", ") + d.id;
  }
  if (!unsupported.empty()) {
    return run.Fail("drive(s) " + unsupported + " offer no SecureErase on the BMC: nothing erased");
  }
  int erased = 0;
  for (const auto& d : hw->drives) {
    if (auto why = run.Stopped()) {
      return run.Fail(*why + " after erasing " + std::to_string(erased) + " of " +
                      std::to_string(hw->drives.size()) + " drives");
    }
    run.Say("erasing drive " + d.id + " (" + d.model + ", serial " + d.serial + ")");
    Status s = bmc.SecureEraseDrive(d.odata_id, {});
    // Never retried automatically: a second erase must not start without checking the first.
    if (!s.ok()) return run.Fail("erasing drive " + d.id + ": " + s.error().message());
    ++erased;
  }
  return run.Ok("erased " + std::to_string(erased) + " drive(s)");
}

StepOutcome RunPowerOff(StepRun& run) {
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return BmcFailed(run, b.error(), "BMC");
  bmc::Bmc& bmc = **b;
  Result<bmc::PowerState> power = bmc.GetPowerState();
  if (!power.ok()) return BmcFailed(run, power.error(), "power state");
  if (*power == bmc::PowerState::kOff) return run.Ok("already off");
  bmc::ResetOptions ro;
  ro.wait = false;
  if (Status s = bmc.Reset(bmc::ResetType::kForceOff, ro); !s.ok()) {
    return BmcFailed(run, s.error(), "ForceOff");
  }
  run.Say("ForceOff sent to BMC " + bmc.Describe());
  run.Disconnect();
  bmc::PowerState last = bmc::PowerState::kUnknown;
  std::string error;
  WaitEnd end = PollUntil(run, run.d.options.power_timeout_ms, [&] {
    Result<bmc::PowerState> p = bmc.GetPowerState();
    if (!p.ok()) {
      error = p.error().message();
      return false;
    }
    last = *p;
    return last == bmc::PowerState::kOff;
  });
  if (end == WaitEnd::kDone) return run.Ok("the BMC reports power off");
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped());
  return run.Fail("the BMC still reports power " + std::string(bmc::PowerStateName(last)) +
                  " after " + Seconds(run.d.options.power_timeout_ms) +
                  (error.empty() ? "" : " (" + error + ")"));
}

GuardResult GuardPowerOff(StepRun& run) {
  Result<bmc::Bmc*> b = run.Bmc();
  if (!b.ok()) return {GuardVerdict::kUnknown, b.error().message()};
  Result<bmc::PowerState> p = (*b)->GetPowerState();
  if (!p.ok()) return {GuardVerdict::kUnknown, p.error().message()};
  return {*p == bmc::PowerState::kOff ? GuardVerdict::kDone : GuardVerdict::kNotDone,
          std::string("the BMC reports power ") + bmc::PowerStateName(*p)};
}

}  // namespace racksmith::exec
