// ClusterDriver: dispatch by step kind, the per-step run (output, waits, cancellation),
// error classification, and the Slurm steps (drain, admit, quarantine) and retire.
#include "exec/cluster_driver.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "exec/cluster_driver_internal.h"

namespace racksmith::exec {
namespace {

// The driver's transport, stopping commands (and refusing new ones) once the step must stop:
// a playbook run then ends at its next command instead of running to the end.
class StoppableTransport : public transport::Transport {
 public:
  StoppableTransport(transport::Transport& inner, const std::atomic<bool>& cancel,
                     std::function<int64_t()> default_timeout_ms)
      : inner_(inner), cancel_(cancel), default_timeout_ms_(std::move(default_timeout_ms)) {}

  Result<transport::ExecResult> Exec(const transport::Endpoint& node,
                                     const transport::ExecRequest& request) override {
    if (cancel_) return Stopped(node);
    transport::ExecRequest r = request;
    if (r.cancel == nullptr) r.cancel = &cancel_;
    if (r.timeout.count() == 0) r.timeout = std::chrono::milliseconds(default_timeout_ms_());
    return inner_.Exec(node, r);
  }
  Status Upload(const transport::Endpoint& node, const transport::UploadRequest& request) override {
    if (cancel_) return Stopped(node);
    return inner_.Upload(node, request);
  }
  Result<std::string> Download(const transport::Endpoint& node,
                               const std::string& remote_path) override {
    if (cancel_) return Stopped(node);
    return inner_.Download(node, remote_path);
  }
  void Disconnect(const std::string& node) override { inner_.Disconnect(node); }

 private:
  static Error Stopped(const transport::Endpoint& node) {
    return Error(ErrorCode::kRefused, node.node + ": stopped (interrupted or past the deadline)");
  }
  transport::Transport& inner_;
  const std::atomic<bool>& cancel_;
  std::function<int64_t()> default_timeout_ms_;
};

std::string ExpandHome(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + path.substr(1) : path;
}

std::string Param(const plan::Step& step, const std::string& key) {
  auto it = step.params.find(key);
  return it == step.params.end() ? std::string() : it->second;
}

bool IsTransientSlurmError(const Error& e) {
  return e.code() == ErrorCode::kIo || e.code() == ErrorCode::kTimeout ||
         e.code() == ErrorCode::kUnreachable;
}

std::string Described(const slurm::NodeInfo& n) {
  std::string s = "State=" + n.StateText();
  if (n.cpus_total > 0) {
    s += ", CPUs " + std::to_string(n.cpus_alloc) + "/" + std::to_string(n.cpus_total) +
         " allocated";
  }
  if (!n.reason.empty()) s += ", Reason=" + n.reason;
  return s;
}

// ---- Slurm steps ----------------------------------------------------------------------------

constexpr const char* kNoSlurm = "no Slurm controller configured";

StepOutcome RunDrain(StepRun& run) {
  slurm::SlurmControl* slurm = run.d.slurm;
  if (slurm == nullptr) return run.Fail(kNoSlurm);
  std::string reason = Param(run.step, "slurm_reason");
  if (reason.empty()) reason = "racksmith: " + run.step.reason;
  if (Status s = slurm->Drain(run.node.name, reason); !s.ok()) {
    return run.FromError(s.error(), "Slurm drain", IsTransientSlurmError(s.error()));
  }
  run.Say("drain requested in Slurm (reason: " + reason + ")");
  slurm::NodeInfo last;
  std::string error;
  int64_t start = run.NowMs();
  WaitEnd end = PollUntil(run, run.d.options.drain_timeout_ms, [&] {
    Result<slurm::NodeInfo> n = slurm->GetNode(run.node.name);
    if (!n.ok()) {
      error = n.error().message();
      return false;
    }
    error.clear();
    last = *n;
    return last.IsDrained();
  });
  if (end == WaitEnd::kDone) {
    return run.Ok("drained after " + Seconds(run.NowMs() - start) + ": " + Described(last));
  }
  std::string seen = error.empty() ? Described(last) : "Slurm: " + error;
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped() + "; last seen: " + seen);
  return run.Fail("still not drained after " + Seconds(run.NowMs() - start) + ": " + seen);
}

StepOutcome RunAdmit(StepRun& run) {
  slurm::SlurmControl* slurm = run.d.slurm;
  if (slurm == nullptr) return run.Fail(kNoSlurm);
  if (Status s = slurm->Resume(run.node.name); !s.ok()) {
    return run.FromError(s.error(), "Slurm resume", IsTransientSlurmError(s.error()));
  }
  run.Say("resumed in Slurm");
  slurm::NodeInfo last;
  std::string error;
  WaitEnd end = PollUntil(run, run.d.options.admit_timeout_ms, [&] {
    Result<slurm::NodeInfo> n = slurm->GetNode(run.node.name);
    if (!n.ok()) {
      error = n.error().message();
      return false;
    }
    error.clear();
    last = *n;
    return last.IsInService();
  });
  if (end == WaitEnd::kDone) return run.Ok("in service: " + Described(last));
  std::string seen = error.empty() ? Described(last) : "Slurm: " + error;
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped() + "; last seen: " + seen);
  return run.Fail("Slurm does not have the node in service " +
                  Seconds(run.d.options.admit_timeout_ms) + " after resume: " + seen);
}

StepOutcome RunQuarantine(StepRun& run) {
  slurm::SlurmControl* slurm = run.d.slurm;
  if (slurm == nullptr) return run.Ok(std::string(kNoSlurm) + ": not drained");
  std::string reason = Param(run.step, "failed_reason");
  if (reason.empty()) reason = run.step.reason;
  Status s = slurm->Drain(run.node.name, "racksmith: " + reason);
  if (!s.ok() && s.error().code() == ErrorCode::kNotFound) {
    return run.Ok("not in Slurm: nothing to drain");
  }
  if (!s.ok()) return run.FromError(s.error(), "Slurm drain", IsTransientSlurmError(s.error()));
  return run.Ok("drained in Slurm (reason: racksmith: " + reason + ")");
}

GuardResult GuardSlurm(StepRun& run, bool drained) {
  if (run.d.slurm == nullptr) return {GuardVerdict::kUnknown, kNoSlurm};
  Result<slurm::NodeInfo> n = run.d.slurm->GetNode(run.node.name);
  if (!n.ok()) return {GuardVerdict::kUnknown, "Slurm: " + n.error().message()};
  bool done = drained ? n->IsDrained() : n->IsInService();
  return {done ? GuardVerdict::kDone : GuardVerdict::kNotDone, "Slurm reports " + Described(*n)};
}

GuardResult GuardStoreState(StepRun& run, state::NodeState wanted) {
  if (run.ctx.store == nullptr) return {GuardVerdict::kUnknown, "no state store"};
  Result<state::NodeRecord> rec = run.ctx.store->GetNode(run.node.name);
  if (!rec.ok()) return {GuardVerdict::kUnknown, rec.error().message()};
  std::string evidence =
      "the store records the node " + std::string(state::NodeStateName(rec->state));
  return {rec->state == wanted ? GuardVerdict::kDone : GuardVerdict::kNotDone, evidence};
}

}  // namespace

std::optional<StepOutcome> RefuseIfSlurmRunsJobs(StepRun& run, const std::string& what) {
  slurm::SlurmControl* slurm = run.d.slurm;
  if (slurm == nullptr) return std::nullopt;
  Result<slurm::NodeInfo> n = slurm->GetNode(run.node.name);
  if (!n.ok() && n.error().code() == ErrorCode::kNotFound) return std::nullopt;
  if (!n.ok()) {
    // Nothing was touched yet: worth another try (a retried destructive step is checked
    // by its guard first).
    return run.FromError(n.error(), "Slurm, asked whether jobs run on the node before it " + what,
                         IsTransientSlurmError(n.error()));
  }
  if (!n->RunsJobs()) return std::nullopt;
  return run.Fail("Slurm still runs jobs on the node (" + Described(*n) + "): drain it before " +
                  "racksmith " + what + "; nothing was done");
}

// ---- Helpers ---------------------------------------------------------------------------------

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Seconds(int64_t ms) {
  char buf[32];
  if (ms < 10'000) {
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  } else if (ms < 120'000) {
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(ms / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%lld min", static_cast<long long>(ms / 60'000));
  }
  return buf;
}

std::string FirstLines(std::string_view text, int n) {
  std::string out;
  size_t pos = 0;
  int taken = 0;
  while (pos < text.size() && taken < n) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) {
      out += (out.empty() ? "" : " | ") + std::string(line);
      ++taken;
    }
    pos = end + 1;
  }
  return out;
}

bool IsTransientBmcError(const Error& e) {
  const std::string& m = e.message();
  for (const char* busy : {"HTTP 503", "HTTP 429", "HTTP 502", "HTTP 504"}) {
    if (m.find(busy) != std::string::npos) return true;
  }
  if (e.code() != ErrorCode::kUnreachable && e.code() != ErrorCode::kTimeout) return false;
  // The BMC answered (another HTTP error) or its task ended badly: retrying will not help.
  for (const char* answered : {"HTTP ", " task ", "completed with errors", " ended "}) {
    if (m.find(answered) != std::string::npos) return false;
  }
  return true;
}

bool IsTransientSshError(const Error& e) {
  return e.code() == ErrorCode::kUnreachable || e.code() == ErrorCode::kTimeout;
}

WaitEnd PollUntil(StepRun& run, int64_t timeout_ms, const std::function<bool()>& probe) {
  int64_t until = timeout_ms > 0 ? run.NowMs() + timeout_ms : INT64_MAX;
  for (;;) {
    if (run.Stopped()) return WaitEnd::kStopped;
    if (probe()) return WaitEnd::kDone;
    int64_t left = until - run.NowMs();
    if (left <= 0) return WaitEnd::kTimedOut;
    if (!run.Sleep(std::min(left, std::max<int64_t>(run.d.options.poll_interval_ms, 1)))) {
      return WaitEnd::kStopped;
    }
  }
}

Result<transport::Endpoint> InventoryEndpoint(const inventory::Node& node) {
  if (node.ip.empty())
    return InvalidInput(node.name + ": the inventory gives no ip to reach it at");
  transport::Endpoint e;
  e.node = node.name;
  e.address = node.ip;
  e.port = node.ssh.port;
  e.user = node.ssh.user;
  e.use_agent = node.ssh.agent;
  if (!node.ssh.key_path.empty()) {
    e.key_path = ExpandHome(node.ssh.key_path);
  } else if (node.ssh.key.kind == inventory::SecretRef::Kind::kFile) {
    e.key_path = ExpandHome(node.ssh.key.ref);
  } else if (node.ssh.key.kind == inventory::SecretRef::Kind::kEnv) {
    return InvalidInput(node.name + ": ssh.key " + node.ssh.key.ToString() +
                        " must be resolved by the caller (give SshAccess::endpoint)");
  }
  return e;
}

const playbook::Json& DriverParts::Globals() const {
  std::call_once(globals_once, [this] {
    playbook::Json nodes = playbook::Json::array();
    for (const auto& n : inventory.nodes) {
      nodes.push_back(playbook::Json(inventory::NodeContext(inventory, n)));
    }
    globals = {{"site", inventory.site}, {"nodes", std::move(nodes)}};
  });
  return globals;
}

// ---- StepRun ---------------------------------------------------------------------------------

StepRun::StepRun(const DriverParts& parts, const plan::Step& s, const StepContext& c)
    : d(parts), step(s), ctx(c), node(*c.node) {}

StepRun::~StepRun() {
  if (watch_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      watch_stop_ = true;
    }
    watch_cv_.notify_all();
    watch_.join();
  }
}

std::string StepRun::Output() const {
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

StepOutcome StepRun::Ok(const std::string& last_line) {
  if (!last_line.empty()) Say(last_line);
  return StepOutcome::Ok(Output());
}

StepOutcome StepRun::Fail(const std::string& error) {
  Say("failed: " + error);
  return StepOutcome::Failed(error, Output());
}

StepOutcome StepRun::Transient(const std::string& error) {
  Say("will retry: " + error);
  return StepOutcome::Transient(error, Output());
}

StepOutcome StepRun::FromError(const Error& e, const std::string& what, bool transient) {
  std::string msg = what + ": " + e.message();
  return transient ? Transient(msg) : Fail(msg);
}

std::optional<std::string> StepRun::Stopped() const {
  if (ctx.interrupt != nullptr && ctx.interrupt->Abort()) {
    return std::string("interrupted: the run is being aborted");
  }
  if (ctx.deadline_ms > 0 && NowMs() >= ctx.deadline_ms) {
    return std::string("the step ran past its deadline");
  }
  return std::nullopt;
}

bool StepRun::Sleep(int64_t ms) {
  int64_t until = NowMs() + ms;
  for (;;) {
    if (Stopped()) return false;
    int64_t left = until - NowMs();
    if (left <= 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, 50)));
  }
}

int64_t StepRun::Remaining() const {
  if (ctx.deadline_ms <= 0) return INT64_MAX;
  return std::max<int64_t>(0, ctx.deadline_ms - NowMs());
}

int64_t StepRun::Bounded(int64_t limit_ms) const {
  return std::max<int64_t>(1, std::min(limit_ms, Remaining()));
}

Result<bmc::Bmc*> StepRun::Bmc() {
  if (!bmc_) {
    if (!d.bmc) return Error(ErrorCode::kUnsupported, "no BMC access configured");
    Result<std::unique_ptr<bmc::Bmc>> made = d.bmc(node);
    if (!made.ok()) return made.error();
    if (!*made) return Internal("the BMC factory gave no BMC for " + node.name);
    bmc_ = std::move(*made);
  }
  return bmc_.get();
}

Result<transport::Endpoint> StepRun::Endpoint() {
  if (!endpoint_) {
    Result<transport::Endpoint> e = d.ssh.endpoint ? d.ssh.endpoint(node) : InventoryEndpoint(node);
    if (!e.ok()) return e.error();
    endpoint_ = *e;
  }
  return *endpoint_;
}

void StepRun::StartWatch() {
  if (watch_.joinable()) return;
  watch_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(watch_mu_);
    while (!watch_stop_) {
      if (Stopped()) {
        cancel_ = true;
        return;
      }
      watch_cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  });
}

Result<transport::Transport*> StepRun::Ssh() {
  if (d.ssh.transport == nullptr) return Error(ErrorCode::kUnsupported, "no SSH access configured");
  if (!guarded_) {
    StartWatch();
    guarded_ = std::make_unique<StoppableTransport>(
        *d.ssh.transport, cancel_, [this] { return Bounded(d.options.command_timeout_ms); });
  }
  return guarded_.get();
}

Result<transport::ExecResult> StepRun::Exec(const std::string& command, int64_t timeout_ms) {
  Result<transport::Endpoint> e = Endpoint();
  if (!e.ok()) return e.error();
  Result<transport::Transport*> t = Ssh();
  if (!t.ok()) return t.error();
  transport::ExecRequest r;
  r.command = command;
  r.timeout = std::chrono::milliseconds(
      Bounded(timeout_ms > 0 ? timeout_ms : d.options.command_timeout_ms));
  return (*t)->Exec(*e, r);
}

void StepRun::Disconnect() {
  if (d.ssh.transport != nullptr) d.ssh.transport->Disconnect(node.name);
}

// ---- ClusterDriver ---------------------------------------------------------------------------

ClusterDriver::ClusterDriver(const inventory::Inventory& inventory, BmcFactory bmc, SshAccess ssh,
                             slurm::SlurmControl* slurm, const Clock& clock,
                             ClusterDriverOptions options, state::Store* facts)
    : parts_(new Parts{inventory, std::move(bmc), std::move(ssh), slurm, clock, std::move(options),
                       facts}) {}

ClusterDriver::~ClusterDriver() = default;

StepOutcome ClusterDriver::Run(const plan::Step& step, const StepContext& ctx) {
  if (ctx.node == nullptr) return StepOutcome::Failed(step.id + ": no inventory node given");
  StepRun run(*parts_, step, ctx);
  if (auto why = run.Stopped()) return run.Fail(*why);
  switch (step.kind) {
    case plan::StepKind::kDrain:
      return RunDrain(run);
    case plan::StepKind::kQuarantine:
      return RunQuarantine(run);
    case plan::StepKind::kDiscover:
      return RunDiscover(run);
    case plan::StepKind::kFirmware:
      return RunFirmware(run);
    case plan::StepKind::kImage:
      return RunImage(run);
    case plan::StepKind::kInstall:
      return RunInstall(run);
    case plan::StepKind::kRemove:
      return RunRemove(run);
    case plan::StepKind::kConfigure:
    case plan::StepKind::kMount:
      return RunConfigure(run);
    case plan::StepKind::kBurnin:
      return RunBurnin(run);
    case plan::StepKind::kAdmit:
      return RunAdmit(run);
    case plan::StepKind::kErase:
      return RunErase(run);
    case plan::StepKind::kPowerOff:
      return RunPowerOff(run);
    case plan::StepKind::kRetire:
      return run.Ok("nothing to do on the machine; the node is recorded retired");
  }
  return run.Fail(std::string("unknown step kind ") + plan::StepKindName(step.kind));
}

GuardResult ClusterDriver::CheckGuard(const plan::Step& step, const StepContext& ctx) {
  if (ctx.node == nullptr) return {GuardVerdict::kUnknown, "no inventory node given"};
  StepRun run(*parts_, step, ctx);
  switch (step.kind) {
    case plan::StepKind::kDrain:
      return GuardSlurm(run, /*drained=*/true);
    case plan::StepKind::kAdmit:
      return GuardSlurm(run, /*drained=*/false);
    case plan::StepKind::kQuarantine:
      return GuardStoreState(run, state::NodeState::kFailed);
    case plan::StepKind::kRetire:
      return GuardStoreState(run, state::NodeState::kRetired);
    case plan::StepKind::kDiscover:
      return GuardDiscover(run);
    case plan::StepKind::kFirmware:
      return GuardFirmware(run);
    case plan::StepKind::kImage:
      return GuardImage(run);
    case plan::StepKind::kInstall:
    case plan::StepKind::kConfigure:
    case plan::StepKind::kMount:
      return GuardMarker(run);
    case plan::StepKind::kRemove:
      return GuardRemove(run);
    case plan::StepKind::kBurnin:
      return GuardBurnin(run);
    case plan::StepKind::kPowerOff:
      return GuardPowerOff(run);
    case plan::StepKind::kErase:
      // The Bmc interface waits for an erase task but cannot find it again afterwards.
      return {GuardVerdict::kUnknown,
              "the BMC's erase task cannot be looked up after the run stopped; check the "
              "drives' erase status on the BMC"};
  }
  return {GuardVerdict::kUnknown, "unknown step kind"};
}

Result<plan::LiveFacts> ClusterDriver::ReadLive(const inventory::Node& node,
                                                const std::vector<std::string>& components,
                                                const StepContext& ctx) {
  plan::Step probe;  // no step runs: StepRun only lends its BMC, SSH and deadline
  probe.node = node.name;
  probe.id = node.name + "/refresh";
  probe.kind = plan::StepKind::kDiscover;
  StepContext c = ctx;
  c.node = &node;
  StepRun run(*parts_, probe, c);
  plan::LiveFacts live;
  ReadLiveBmc(run, components, &live);
  if (live.power == "Off") return live;  // nothing answers SSH; the BMC said why
  ReadLiveNode(run, components, &live);
  return live;
}

std::string ClusterDriver::FirmwareGroup(const inventory::Node& node) {
  if (parts_->facts == nullptr) return {};
  Result<std::optional<state::BmcFacts>> facts = parts_->facts->LatestBmcFacts(node.name);
  if (!facts.ok() || !facts->has_value()) return {};
  nlohmann::json j = nlohmann::json::parse((*facts)->facts_json, nullptr, false);
  if (!j.is_object() || !j.contains("manufacturer") || !j["manufacturer"].is_string()) return {};
  return j["manufacturer"].get<std::string>();
}

}  // namespace racksmith::exec
