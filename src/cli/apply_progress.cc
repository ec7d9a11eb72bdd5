// Event sinks for `racksmith apply`: JSON lines, plain lines, live progress.
#include "cli/apply_progress.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "hostlist/hostlist.h"
#include "state/records.h"

namespace racksmith::cli {
namespace {

std::string StepLabel(const plan::Step& step) {
  std::string kind = plan::StepKindName(step.kind);
  if (step.component.empty() || step.component == kind) return kind;
  return kind + " " + step.component;
}

std::string Clock(int64_t unix_ms) {
  std::string iso = state::FormatTimeIso(unix_ms);  // 2026-11-24T11:35:12.345Z
  return iso.size() >= 19 ? iso.substr(11, 8) : iso;
}

class JsonLinesSink final : public exec::EventSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : out_(out) {}
  void OnEvent(const exec::Event& e) override {
    nlohmann::json j;
    j["event"] = exec::EventTypeName(e.type);
    j["at"] = state::FormatTimeIso(e.at_ms);
    j["run"] = e.run_id;
    if (!e.node.empty()) j["node"] = e.node;
    if (e.step != nullptr) {
      j["step"] = e.step->id;
      j["kind"] = plan::StepKindName(e.step->kind);
      if (!e.step->component.empty()) j["component"] = e.step->component;
      j["destructive"] = e.step->destructive;
    }
    if (e.attempt > 0) j["attempt"] = e.attempt;
    if (!e.status.empty()) j["status"] = e.status;
    if (!e.error.empty()) j["error"] = e.error;
    if (!e.message.empty()) j["message"] = e.message;
    if (e.type == exec::Event::Type::kStepFinished) j["duration_ms"] = e.duration_ms;
    if (e.type == exec::Event::Type::kStepRetrying) j["delay_ms"] = e.delay_ms;
    if (e.type == exec::Event::Type::kRunStarted) {
      j["nodes"] = e.total_nodes;
      j["steps"] = e.total_steps;
    }
    out_ << j.dump() << "\n";
    out_.flush();
  }

 private:
  std::ostream& out_;
};

class PlainSink final : public exec::EventSink {
 public:
  explicit PlainSink(std::ostream& out) : out_(out) {}
  void OnEvent(const exec::Event& e) override {
    std::string t = Clock(e.at_ms);
    switch (e.type) {
      case exec::Event::Type::kRunStarted:
        out_ << fmt::format("{} run {}: {} nodes, {} steps\n", t, e.run_id, e.total_nodes,
                            e.total_steps);
        break;
      case exec::Event::Type::kStepStarted:
        out_ << fmt::format("{} {} {}: started{}\n", t, e.node, StepLabel(*e.step),
                            e.attempt > 1 ? fmt::format(" (attempt {})", e.attempt) : "");
        break;
      case exec::Event::Type::kStepRetrying:
        out_ << fmt::format("{} {} {}: {}; retrying in {:.1f} s\n", t, e.node, StepLabel(*e.step),
                            e.error, e.delay_ms / 1000.0);
        break;
      case exec::Event::Type::kStepFinished:
        out_ << fmt::format("{} {} {}: {} ({:.1f} s){}\n", t, e.node, StepLabel(*e.step),
                            e.status, e.duration_ms / 1000.0,
                            e.error.empty() ? "" : ": " + e.error);
        break;
      case exec::Event::Type::kGuardChecked:
        out_ << fmt::format("{} {} {}: {}\n", t, e.node, StepLabel(*e.step), e.message);
        break;
      case exec::Event::Type::kNodeFinished:
        out_ << fmt::format("{} {}: {}{}\n", t, e.node, e.status,
                            e.error.empty() ? "" : ": " + e.error);
        break;
      case exec::Event::Type::kBudgetExceeded:
      case exec::Event::Type::kRolloutHalted:
      case exec::Event::Type::kInterrupted:
        out_ << fmt::format("{} {}\n", t, e.message);
        break;
      case exec::Event::Type::kRunFinished:
        out_ << fmt::format("{} run {} {}: {}\n", t, e.run_id, e.status, e.message);
        break;
    }
    out_.flush();
  }

 private:
  std::ostream& out_;
};

// Redraws a block of lines in place: one per phase (in plan order of kinds), then a status
// line. Messages (failures, retries) are printed above the block and stay.
class LiveSink final : public exec::EventSink {
 public:
  LiveSink(const plan::Plan& plan, std::ostream& out, bool color) : out_(out), color_(color) {
    for (const plan::NodePlan& np : plan.nodes) {
      for (const plan::Step& s : np.steps) {
        Phase& p = PhaseOf(plan::StepKindName(s.kind));
        ++p.total;
      }
    }
    start_ = std::chrono::steady_clock::now();
  }

  void OnEvent(const exec::Event& e) override {
    switch (e.type) {
      case exec::Event::Type::kRunStarted:
        total_nodes_ = e.total_nodes;
        run_id_ = e.run_id;
        break;
      case exec::Event::Type::kStepStarted:
        ++PhaseOf(plan::StepKindName(e.step->kind)).running;
        break;
      case exec::Event::Type::kStepRetrying:
        --PhaseOf(plan::StepKindName(e.step->kind)).running;
        Message(fmt::format("retry  {} {}: {}", e.node, StepLabel(*e.step), e.error));
        break;
      case exec::Event::Type::kStepFinished: {
        Phase& p = PhaseOf(plan::StepKindName(e.step->kind));
        --p.running;
        if (e.status == "failed") {
          ++p.failed;
        } else if (e.status != "aborted") {
          ++p.done;
          ++steps_done_;
        }
        break;
      }
      case exec::Event::Type::kGuardChecked:
        Message(fmt::format("guard  {} {}: {}", e.node, StepLabel(*e.step), e.message));
        break;
      case exec::Event::Type::kNodeFinished:
        if (e.status == "failed") {
          ++nodes_failed_;
          Message(fmt::format("{}  {}: {}", Red("FAILED"), e.node, e.error));
        } else {
          ++nodes_done_;
        }
        break;
      case exec::Event::Type::kBudgetExceeded:
      case exec::Event::Type::kRolloutHalted:
      case exec::Event::Type::kInterrupted:
        Message(e.message);
        break;
      case exec::Event::Type::kRunFinished:
        Draw();
        return;
    }
    // At most ten redraws a second (the executor emits events one at a time, and a step
    // waits for its event to be taken: thousands of steps must not wait for a terminal),
    // and at once after a message, which cleared the block.
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ == 0 || now - last_draw_ >= std::chrono::milliseconds(100)) {
      last_draw_ = now;
      Draw();
    }
  }

 private:
  struct Phase {
    std::string name;
    int total = 0, done = 0, failed = 0, running = 0;
  };
  Phase& PhaseOf(const std::string& name) {
    for (Phase& p : phases_) {
      if (p.name == name) return p;
    }
    phases_.push_back({name});
    return phases_.back();
  }
  std::string Red(const std::string& s) const { return color_ ? "\033[31m" + s + "\033[0m" : s; }

  void Clear() {
    for (int i = 0; i < drawn_; ++i) out_ << "\033[1A\033[2K";
    drawn_ = 0;
  }
  void Message(const std::string& line) {
    Clear();
    out_ << line << "\n";
  }
  void Draw() {
    Clear();
    int total = 0;
    for (const Phase& p : phases_) {
      total += p.total;
      constexpr int kWidth = 24;
      int filled = p.total == 0 ? 0 : (p.done + p.failed) * kWidth / p.total;
      out_ << fmt::format("  {:<11} [{}{}] {:>5}/{:<5}", p.name, std::string(filled, '#'),
                          std::string(kWidth - filled, '.'), p.done, p.total);
      if (p.running > 0) out_ << fmt::format("  {} running", p.running);
      if (p.failed > 0) out_ << "  " << Red(fmt::format("{} failed", p.failed));
      out_ << "\n";
      ++drawn_;
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
                         .count();
    std::string eta = "--";
    if (steps_done_ > 0 && total > steps_done_) {
      double left = elapsed / steps_done_ * (total - steps_done_);
      eta = fmt::format("{}:{:02d}", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
    }
    out_ << fmt::format("  run {}: {}/{} nodes done, {} failed · {:.0f} s · ETA {}\n", run_id_,
                        nodes_done_, total_nodes_, nodes_failed_, elapsed, eta);
    ++drawn_;
    out_.flush();
  }

  std::ostream& out_;
  bool color_;
  std::vector<Phase> phases_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int drawn_ = 0;
  int total_nodes_ = 0, nodes_done_ = 0, nodes_failed_ = 0, steps_done_ = 0;
  int64_t run_id_ = 0;
};

}  // namespace

std::unique_ptr<exec::EventSink> MakeProgressSink(ProgressStyle style, const plan::Plan& plan,
                                                  std::ostream& out, bool color) {
  switch (style) {
    case ProgressStyle::kJsonLines: return std::make_unique<JsonLinesSink>(out);
    case ProgressStyle::kPlain: return std::make_unique<PlainSink>(out);
    case ProgressStyle::kLive: return std::make_unique<LiveSink>(plan, out, color);
  }
  return nullptr;
}

std::string RenderApplySummary(const exec::RunSummary& s) {
  std::string out = fmt::format(
      "Apply run {} {}: {} done, {} failed, {} not started, {} stopped ({} steps, {} verified "
      "by guard, {} retries, {:.1f} s).\n",
      s.run_id, state::RunOutcomeName(s.outcome), s.nodes_done, s.nodes_failed,
      s.nodes_not_started, s.nodes_stopped, s.steps_succeeded + s.steps_failed,
      s.steps_verified, s.retries, s.wall_ms / 1000.0);
  // Nodes that did not finish, grouped by identical outcome and reason.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> groups;
  for (const exec::NodeOutcome& n : s.nodes) {
    if (n.kind == exec::NodeOutcome::Kind::kDone) continue;
    groups[{exec::NodeOutcomeName(n.kind), n.error}].push_back(n.node);
  }
  for (const auto& [key, nodes] : groups) {
    out += fmt::format("  {} {}: {}\n", key.first, hostlist::Compress(nodes), key.second);
  }
  if (s.nodes_failed > 0) {
    out += "Failed nodes stay out of service; see `racksmith history NODE` for every step and "
           "its output, fix the cause, then `racksmith apply --retry-failed`.\n";
  }
  if (s.nodes_stopped + s.nodes_not_started > 0 &&
      s.outcome == state::RunOutcome::kAborted) {
    out += "Run `racksmith apply` again to resume: finished steps are not repeated.\n";
  }
  return out;
}

}  // namespace racksmith::cli
