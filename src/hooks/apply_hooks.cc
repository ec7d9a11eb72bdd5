// Hooks around an apply (apply_hooks.h): the documents of docs/hooks.md, the StepDriver and
// EventSink wrappers.
#include "hooks/apply_hooks.h"

#include <fmt/format.h>

#include <ctime>
#include <unordered_map>

namespace racksmith::hooks {
namespace {

// What the store knows of a node that the inventory does not.
struct NodeFacts {
  std::optional<std::string> state;
  std::string reason;
  std::string serial;  // the system's serial number as its BMC reported it
};

std::string IsoTime(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string SerialOf(const std::string& facts_json) {
  nlohmann::json j = nlohmann::json::parse(facts_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {};
  auto it = j.find("serial");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

NodeFacts FactsOf(state::Store* store, const std::string& node) {
  NodeFacts f;
  if (store == nullptr) return f;
  if (Result<state::NodeRecord> rec = store->GetNode(node); rec.ok()) {
    f.state = std::string(state::NodeStateName(rec->state));
    f.reason = rec->reason;
  }
  if (Result<std::optional<state::BmcFacts>> facts = store->LatestBmcFacts(node);
      facts.ok() && facts->has_value()) {
    f.serial = SerialOf((*facts)->facts_json);
  }
  return f;
}

// Facts of every node in two queries (apply-level documents may name thousands of nodes).
std::unordered_map<std::string, NodeFacts> AllFacts(state::Store* store) {
  std::unordered_map<std::string, NodeFacts> out;
  if (store == nullptr) return out;
  if (Result<std::vector<state::NodeSnapshot>> snaps = store->LoadSnapshots(); snaps.ok()) {
    for (const state::NodeSnapshot& s : *snaps) {
      NodeFacts& f = out[s.node.name];
      f.state = std::string(state::NodeStateName(s.node.state));
      f.reason = s.node.reason;
    }
  }
  if (Result<std::vector<state::BmcFacts>> facts = store->LatestBmcFactsOfAllNodes(); facts.ok()) {
    for (const state::BmcFacts& b : *facts) out[b.node].serial = SerialOf(b.facts_json);
  }
  return out;
}

// A BMC address without any "user:password@" it might carry.
std::string WithoutUserinfo(const std::string& address) {
  size_t start = address.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = address.find('/', start);
  size_t at = address.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < start) return address;
  return address.substr(0, start) + address.substr(at + 1);
}

// The node as hooks see it: names, addresses, versions and its state. Not its BMC or SSH
// credentials (not even their references) and not its free-form vars, which racksmith cannot
// tell apart from secrets.
nlohmann::json NodeDocument(const inventory::Node& n, const NodeFacts& f) {
  nlohmann::json j = {{"name", n.name},
                      {"rack", n.rack},
                      {"profile", n.profile},
                      {"desired", inventory::NodeStateName(n.state)},
                      {"ip", n.ip},
                      {"mac", n.mac},
                      {"bmc", WithoutUserinfo(n.bmc.address)},
                      {"partitions", n.slurm.partitions},
                      {"image", n.image},
                      {"firmware", n.firmware},
                      {"software", n.software}};
  j["state"] = f.state ? nlohmann::json(*f.state) : nlohmann::json(nullptr);
  j["reason"] = f.reason;
  j["serial"] = f.serial;
  return j;
}

nlohmann::json OptionalState(const std::optional<state::NodeState>& s) {
  return s ? nlohmann::json(std::string(state::NodeStateName(*s))) : nlohmann::json(nullptr);
}

nlohmann::json StepDocument(const plan::Step& s, int attempt) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : s.params) params[k] = v;
  nlohmann::json j = {{"id", s.id},
                      {"node", s.node},
                      {"kind", plan::StepKindName(s.kind)},
                      {"component", s.component},
                      {"from", s.from_version},
                      {"to", s.to_version},
                      {"reason", s.reason},
                      {"origin", s.origin},
                      {"destructive", s.destructive},
                      {"on_start", OptionalState(s.on_start)},
                      {"on_success", OptionalState(s.on_success)},
                      {"params", params}};
  if (attempt > 0) j["attempt"] = attempt;
  return j;
}

constexpr size_t kOutputTail = 4096;

nlohmann::json OutcomeDocument(const exec::StepOutcome& out, int64_t duration_ms) {
  const char* status = out.kind == exec::StepOutcome::Kind::kSucceeded ? "succeeded"
                       : out.kind == exec::StepOutcome::Kind::kFailed  ? "failed"
                                                                       : "transient";
  std::string tail = out.output.size() > kOutputTail
                         ? out.output.substr(out.output.size() - kOutputTail)
                         : out.output;
  // The cut may split a UTF-8 character; JSON needs valid text.
  while (!tail.empty() && (static_cast<unsigned char>(tail.front()) & 0xC0) == 0x80) {
    tail.erase(0, 1);
  }
  return {{"status", status}, {"error", out.error}, {"output", tail}, {"duration_ms", duration_ms}};
}

nlohmann::json Base(HookEvent event, const ApplyHookContext& ctx, int64_t run_id) {
  return {{"schema", 1},
          {"event", HookEventName(event)},
          {"time", IsoTime(ctx.clock->NowUnixMillis())},
          {"run_id", run_id > 0 ? nlohmann::json(run_id) : nlohmann::json(nullptr)},
          {"site", ctx.inventory->site},
          {"inventory", ctx.inventory->path}};
}

nlohmann::json PlanNodes(const ApplyHookContext& ctx, const plan::Plan& plan) {
  std::unordered_map<std::string, NodeFacts> facts = AllFacts(ctx.store);
  nlohmann::json nodes = nlohmann::json::array();
  for (const plan::NodePlan& np : plan.nodes) {
    if (np.steps.empty()) continue;
    const inventory::Node* node = ctx.inventory->FindNode(np.node);
    if (node == nullptr) continue;
    auto it = facts.find(np.node);
    nodes.push_back(NodeDocument(*node, it == facts.end() ? NodeFacts{} : it->second));
  }
  return nodes;
}

}  // namespace

HookOutcome RunPreApply(const ApplyHookContext& ctx, const plan::Plan& plan) {
  if (!ctx.runner->Has(HookEvent::kPreApply)) return {};
  nlohmann::json doc = Base(HookEvent::kPreApply, ctx, 0);
  doc["nodes"] = PlanNodes(ctx, plan);
  nlohmann::json p = nlohmann::json::parse(
      plan::RenderPlanJson(plan, {ctx.inventory->path, "", false}), nullptr, false);
  if (p.is_object()) {
    for (const char* k : {"inventory", "state_path", "state_exists"}) p.erase(k);
  }
  doc["plan"] = std::move(p);
  return ctx.runner->Run(HookEvent::kPreApply, doc, {});
}

HookOutcome RunPostApply(const ApplyHookContext& ctx, const plan::Plan& plan,
                         const exec::RunSummary& summary) {
  if (!ctx.runner->Has(HookEvent::kPostApply)) return {};
  nlohmann::json doc = Base(HookEvent::kPostApply, ctx, summary.run_id);
  doc["nodes"] = PlanNodes(ctx, plan);
  nlohmann::json outcomes = nlohmann::json::array();
  for (const exec::NodeOutcome& o : summary.nodes) {
    outcomes.push_back({{"name", o.node},
                        {"outcome", exec::NodeOutcomeName(o.kind)},
                        {"error", o.error},
                        {"last_step", o.last_step}});
  }
  doc["result"] = {{"outcome", state::RunOutcomeName(summary.outcome)},
                   {"nodes_done", summary.nodes_done},
                   {"nodes_failed", summary.nodes_failed},
                   {"nodes_not_started", summary.nodes_not_started},
                   {"nodes_stopped", summary.nodes_stopped},
                   {"steps_succeeded", summary.steps_succeeded},
                   {"steps_failed", summary.steps_failed},
                   {"steps_verified", summary.steps_verified},
                   {"retries", summary.retries},
                   {"wall_ms", summary.wall_ms},
                   {"nodes", std::move(outcomes)}};
  return ctx.runner->Run(HookEvent::kPostApply, doc, {summary.run_id, {}, {}});
}

// ---- HookedDriver ------------------------------------------------------------------------

exec::StepOutcome HookedDriver::Run(const plan::Step& step, const exec::StepContext& sctx) {
  const HookRunner& hooks = *ctx_.runner;
  state::Store* store = ctx_.store != nullptr ? ctx_.store : sctx.store;
  HookCall call{sctx.run_id, step.node, step.id};
  auto document = [&](HookEvent event) {
    nlohmann::json doc = Base(event, ctx_, sctx.run_id);
    doc["nodes"] = nlohmann::json::array({NodeDocument(*sctx.node, FactsOf(store, step.node))});
    doc["step"] = StepDocument(step, sctx.attempt);
    return doc;
  };

  const plan::NodePlan* np = sctx.node_plan;
  bool begins_retirement = np != nullptr && np->action == plan::NodeAction::kRetire &&
                           !np->steps.empty() && np->steps.front().id == step.id &&
                           sctx.attempt == 1;
  if (begins_retirement && hooks.Has(HookEvent::kPreRetire)) {
    nlohmann::json doc = document(HookEvent::kPreRetire);
    nlohmann::json steps = nlohmann::json::array();
    for (const plan::Step& s : np->steps) steps.push_back(StepDocument(s, 0));
    doc["retirement"] = std::move(steps);  // every step the retirement will take
    HookOutcome o = hooks.Run(HookEvent::kPreRetire, doc, call);
    if (o.vetoed) return exec::StepOutcome::Failed(o.veto);
  }
  if (hooks.Has(HookEvent::kPreNodeStep)) {
    HookOutcome o = hooks.Run(HookEvent::kPreNodeStep, document(HookEvent::kPreNodeStep), call);
    if (o.vetoed) return exec::StepOutcome::Failed(o.veto);
  }

  int64_t begin = ctx_.clock->MonotonicMillis();
  exec::StepOutcome out = inner_.Run(step, sctx);
  int64_t duration_ms = ctx_.clock->MonotonicMillis() - begin;

  if (hooks.Has(HookEvent::kPostNodeStep)) {
    nlohmann::json doc = document(HookEvent::kPostNodeStep);
    doc["result"] = OutcomeDocument(out, duration_ms);
    (void)hooks.Run(HookEvent::kPostNodeStep, doc, call);
  }
  if (step.kind == plan::StepKind::kBurnin && hooks.Has(HookEvent::kPostBurnin)) {
    nlohmann::json doc = document(HookEvent::kPostBurnin);
    doc["result"] = OutcomeDocument(out, duration_ms);
    nlohmann::json burnin = nullptr;
    if (store != nullptr) {
      if (Result<std::vector<state::BurninResult>> results = store->BurninResults(step.node);
          results.ok()) {
        for (const state::BurninResult& r : *results) {
          if (r.run_id != sctx.run_id) continue;
          nlohmann::json summary = nlohmann::json::parse(r.summary_json, nullptr, false);
          burnin = {{"passed", r.passed},
                    {"at", IsoTime(r.at)},
                    {"summary", summary.is_discarded() ? nlohmann::json(nullptr) : summary}};
        }
      }
    }
    doc["burnin"] = std::move(burnin);  // the latest result recorded in this run; null: none
    (void)hooks.Run(HookEvent::kPostBurnin, doc, call);
  }
  return out;
}

// ---- NodeStateHooks ----------------------------------------------------------------------

NodeStateHooks::NodeStateHooks(ApplyHookContext ctx, const plan::Plan& plan, exec::EventSink* inner)
    : ctx_(ctx), inner_(inner) {
  for (const plan::NodePlan& np : plan.nodes) {
    // The executor registers unknown nodes as new before it starts.
    if (!np.steps.empty()) states_[np.node] = np.current.value_or(state::NodeState::kNew);
  }
  thread_ = std::thread([this] { Serve(); });
}

NodeStateHooks::~NodeStateHooks() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void NodeStateHooks::OnEvent(const exec::Event& event) {
  if (inner_ != nullptr) inner_->OnEvent(event);
  switch (event.type) {
    case exec::Event::Type::kStepStarted:
      if (event.step != nullptr && event.step->on_start) {
        Record(event, *event.step->on_start, event.step->reason);
      }
      break;
    case exec::Event::Type::kStepFinished:
      if (event.step == nullptr) break;
      if ((event.status == "succeeded" || event.status == "verified") && event.step->on_success) {
        // The reason the store records with it (the executor's rule).
        std::string reason = event.step->reason;
        if (auto it = event.step->params.find("failed_reason"); it != event.step->params.end()) {
          reason = it->second;
        }
        if (*event.step->on_success == state::NodeState::kActive) reason = "admitted";
        Record(event, *event.step->on_success, reason);
      } else if (event.status == "failed") {
        Record(event, state::NodeState::kFailed, event.error);
      }
      break;
    case exec::Event::Type::kNodeFinished:
      if (event.status == "failed") Record(event, state::NodeState::kFailed, event.error);
      break;
    default:
      break;
  }
}

void NodeStateHooks::Record(const exec::Event& event, state::NodeState to, std::string reason) {
  auto [it, inserted] = states_.try_emplace(event.node, state::NodeState::kNew);
  (void)inserted;
  if (it->second == to) return;
  Change c;
  c.run_id = event.run_id;
  c.at_ms = event.at_ms;
  c.node = event.node;
  c.from = state::NodeStateName(it->second);
  c.to = state::NodeStateName(to);
  c.reason = std::move(reason);
  if (event.step != nullptr) c.step = StepDocument(*event.step, event.attempt);
  it->second = to;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(c));
  }
  cv_.notify_all();
}

void NodeStateHooks::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void NodeStateHooks::Serve() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_, and nothing left to run
    Change c = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();

    nlohmann::json doc = Base(HookEvent::kNodeStateChange, ctx_, c.run_id);
    nlohmann::json node = nullptr;
    if (const inventory::Node* n = ctx_.inventory->FindNode(c.node)) {
      NodeFacts facts = FactsOf(ctx_.store, c.node);
      facts.state = c.to;  // the store may have moved on by now; this document is this change
      facts.reason = c.reason;
      node = NodeDocument(*n, facts);
    }
    doc["nodes"] = node.is_null() ? nlohmann::json::array() : nlohmann::json::array({node});
    doc["change"] = {{"node", c.node},
                     {"from", c.from},
                     {"to", c.to},
                     {"reason", c.reason},
                     {"at", IsoTime(c.at_ms)}};
    doc["step"] = c.step ? *c.step : nlohmann::json(nullptr);
    (void)ctx_.runner->Run(HookEvent::kNodeStateChange, doc,
                           {c.run_id, c.node, c.step ? c.step->value("id", "") : ""});

    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace racksmith::hooks
