#include "redfish/actions.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "base/clock.h"

namespace racksmith::redfish {
namespace {

int64_t NowMs() { return SystemClock().MonotonicMillis(); }

std::string TaskMessages(const Json& task) {
  std::string out;
  const Json* msgs = Field(task, "Messages");
  if (msgs && msgs->is_array()) {
    for (const auto& m : *msgs) {
      std::string text = Str(m, "Message");
      if (text.empty()) text = Str(m, "MessageId");
      if (!text.empty()) out += (out.empty() ? "" : "; ") + text;
    }
  }
  return out;
}

}  // namespace

Result<ActionRef> FindAction(ResourceReader& reader, const Json& resource, const std::string& name,
                             const std::string& parameter, const std::string& describe) {
  const Json* actions = Field(resource, "Actions");
  const Json* action = actions ? Field(*actions, name) : nullptr;
  std::string where = Str(resource, "@odata.id");
  if (!action || !action->is_object())
    return Error(ErrorCode::kUnsupported,
                 describe + ": " + where + " does not offer the " + name + " action");
  ActionRef ref;
  ref.target = CleanPath(Str(*action, "target"));
  if (ref.target.empty())
    return Error(ErrorCode::kUnsupported,
                 describe + ": " + where + ": action " + name + " has no target");
  if (parameter.empty()) return ref;
  if (Field(*action, parameter + "@Redfish.AllowableValues")) {
    ref.allowed = Strings(*action, parameter + "@Redfish.AllowableValues");
    ref.allowed_known = true;
    return ref;
  }
  std::string info = Str(*action, "@Redfish.ActionInfo");
  if (info.empty()) return ref;
  Result<Json> ai = reader.Get(info);
  if (!ai.ok()) return ref;  // the action still works; only its documentation is missing
  const Json* params = Field(*ai, "Parameters");
  if (params && params->is_array()) {
    for (const auto& p : *params) {
      if (Str(p, "Name") != parameter) continue;
      if (Field(p, "AllowableValues")) {
        ref.allowed = Strings(p, "AllowableValues");
        ref.allowed_known = true;
      }
    }
  }
  return ref;
}

bool IsAllowed(const ActionRef& action, const std::string& value) {
  if (!action.allowed_known) return true;
  for (const auto& v : action.allowed)
    if (v == value) return true;
  return false;
}

Status CheckAllowed(const ActionRef& action, const std::string& parameter, const std::string& value,
                    const std::string& describe) {
  if (IsAllowed(action, value)) return Status::Ok();
  return Error(ErrorCode::kUnsupported,
               describe + ": " + action.target + ": " + parameter + " '" + value +
                   "' is not allowed; the BMC allows: " + fmt::format("{}", fmt::join(action.allowed, ", ")));
}

Status FollowTask(RedfishClient& client, const WriteResult& started, const TaskWait& wait,
                  const bmc::ProgressCallback& progress, const std::string& what) {
  const std::string& ep = client.endpoint();
  if (started.status != 202) {
    // A synchronous answer may still carry a Task (some BMCs answer 200 with it).
    if (!Field(started.body, "TaskState")) return Status::Ok();
  }
  std::string monitor = started.location;
  if (monitor.empty()) monitor = CleanPath(Str(started.body, "@odata.id"));
  if (monitor.empty()) {
    if (Field(started.body, "TaskState")) {
      // Fall through to evaluate the body once below.
    } else {
      return Status::Ok();  // accepted with nothing to follow: the BMC gives no way to know more
    }
  }
  int64_t deadline = NowMs() + wait.timeout_ms;
  Json task = started.body;
  bmc::TaskProgress last;
  int polls = 0;
  int64_t away_since = 0;  // when the BMC stopped answering; 0 while it answers
  for (;;) {
    bmc::TaskProgress now;
    now.state = Str(task, "TaskState");
    now.percent = static_cast<int>(Int(task, "PercentComplete", -1));
    now.message = client.Scrub(TaskMessages(task));
    if (progress && (now.state != last.state || now.percent != last.percent)) progress(now);
    last = now;
    if (now.state == "Completed") {
      if (Health(task) == "Critical" || Str(task, "TaskStatus") == "Critical")
        return Error(ErrorCode::kUnreachable,
                     ep + ": " + what + " completed with errors: " + now.message);
      return Status::Ok();
    }
    if (now.state == "Exception" || now.state == "Killed" || now.state == "Cancelled" ||
        now.state == "Interrupted")
      return Error(ErrorCode::kUnreachable, ep + ": " + what + " ended " + now.state +
                                                (now.message.empty() ? "" : ": " + now.message));
    if (monitor.empty()) return Status::Ok();
    if (NowMs() >= deadline)
      return Error(ErrorCode::kTimeout, ep + ": " + what + ": task " + monitor + " still " +
                                            (now.state.empty() ? "running" : now.state) +
                                            " after " + std::to_string(wait.timeout_ms / 1000) +
                                            " s");
    // Poll quickly at first (most tasks of a healthy BMC end within a second), then back off
    // to the configured interval so a long update does not hammer the BMC.
    int64_t pause = std::min<int64_t>(wait.poll_interval_ms, 100LL << std::min(polls, 10));
    ++polls;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    Result<WriteResult> polled = client.Poll(monitor);
    if (!polled.ok()) {
      // A BMC restarting (often its own firmware update) cuts connections for minutes; the
      // task may still be there when it is back. The client has already retried.
      ErrorCode code = polled.error().code();
      if (code != ErrorCode::kUnreachable && code != ErrorCode::kTimeout)
        return polled.error().WithContext(what);
      int64_t t = NowMs();
      if (away_since == 0) {
        away_since = t;
        spdlog::warn("{}: {}: the BMC stopped answering while the task ran ({}); waiting up to "
                     "{} s for it to come back",
                     ep, what, polled.error().message(), wait.away_ms / 1000);
      }
      if (t - away_since >= wait.away_ms || t >= deadline)
        return Error(code, ep + ": " + what + ": the BMC did not answer for " +
                               std::to_string((t - away_since) / 1000) +
                               " s while the task ran: " + polled.error().message());
      continue;
    }
    away_since = 0;
    if (polled->status == 404)
      return Error(ErrorCode::kNotFound,
                   ep + ": " + what + ": the BMC no longer knows the task " + monitor +
                       " (HTTP 404; it may have restarted and lost it): check the result by hand");
    if (polled->status == 202) {
      task = polled->body;
      continue;
    }
    if (polled->status >= 200 && polled->status < 300) {
      // The monitor answers with the final result; a Task body says how it went.
      if (Field(polled->body, "TaskState")) {
        task = polled->body;
        if (Str(task, "TaskState") == "Running" || Str(task, "TaskState") == "New" ||
            Str(task, "TaskState") == "Starting" || Str(task, "TaskState") == "Pending")
          continue;
        monitor.clear();
        continue;
      }
      if (progress) progress({"Completed", 100, ""});
      return Status::Ok();
    }
    std::string detail = client.Scrub(DescribeRedfishError(polled->body));
    return Error(ErrorCode::kUnreachable, ep + ": " + what + ": task monitor " + monitor +
                                              " answered HTTP " + std::to_string(polled->status) +
                                              (detail.empty() ? "" : ": " + detail));
  }
}

}  // namespace racksmith::redfish
