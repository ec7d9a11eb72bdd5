#include "state/records.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace racksmith::state {
namespace {

template <typename Enum, size_t N>
Result<Enum> ParseName(std::string_view what, std::string_view name, const std::array<Enum, N>& all,
                       std::string_view (*print)(Enum)) {
  std::string valid;
  for (Enum e : all) {
    if (print(e) == name) return e;
    if (!valid.empty()) valid += ", ";
    valid += print(e);
  }
  return InvalidInput(fmt::format("unknown {} '{}'; expected one of: {}", what, name, valid));
}

struct tm UtcParts(int64_t unix_millis) {
  time_t secs = static_cast<time_t>(unix_millis / 1000);
  struct tm parts {};
  gmtime_r(&secs, &parts);
  return parts;
}

bool LooksSecret(std::string_view option) {
  std::string lower(option);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view word :
       {"password", "passwd", "passphrase", "secret", "token", "credential"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string_view RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kRunning:
      return "running";
    case RunOutcome::kSucceeded:
      return "succeeded";
    case RunOutcome::kFailed:
      return "failed";
    case RunOutcome::kAborted:
      return "aborted";
  }
  return "unknown";
}

Result<RunOutcome> ParseRunOutcome(std::string_view name) {
  static constexpr std::array kAll = {RunOutcome::kRunning, RunOutcome::kSucceeded,
                                      RunOutcome::kFailed, RunOutcome::kAborted};
  return ParseName("run outcome", name, kAll, &RunOutcomeName);
}

std::string_view StepStatusName(StepStatus status) {
  switch (status) {
    case StepStatus::kIntended:
      return "intended";
    case StepStatus::kRunning:
      return "running";
    case StepStatus::kSucceeded:
      return "succeeded";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "unknown";
}

Result<StepStatus> ParseStepStatus(std::string_view name) {
  static constexpr std::array kAll = {StepStatus::kIntended, StepStatus::kRunning,
                                      StepStatus::kSucceeded, StepStatus::kFailed,
                                      StepStatus::kSkipped};
  return ParseName("step status", name, kAll, &StepStatusName);
}

bool IsFinished(StepStatus status) {
  return status == StepStatus::kSucceeded || status == StepStatus::kFailed ||
         status == StepStatus::kSkipped;
}

std::string LockInfo::ToString() const {
  if (!stale) return {};
  return fmt::format("took over a stale apply lock from pid {} on host {} (held since {}: {})",
                     stale->pid, stale->host, FormatTime(stale->since), stale->description);
}

std::string FormatTime(int64_t unix_millis) {
  struct tm t = UtcParts(unix_millis);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
}

std::string FormatTimeIso(int64_t unix_millis) {
  struct tm t = UtcParts(unix_millis);
  int64_t ms = unix_millis % 1000;
  if (ms < 0) ms += 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms);
}

std::string RedactCommandLine(const std::vector<std::string>& argv) {
  std::string line;
  bool hide_next = false;
  for (const std::string& arg : argv) {
    if (!line.empty()) line += ' ';
    if (hide_next) {
      line += "***";
      hide_next = false;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      size_t eq = arg.find('=');
      std::string_view option = std::string_view(arg).substr(0, eq);
      if (LooksSecret(option)) {
        if (eq == std::string::npos) {
          line += arg;
          hide_next = true;
        } else {
          line += arg.substr(0, eq + 1) + "***";
        }
        continue;
      }
    }
    line += arg;
  }
  return line;
}

}  // namespace racksmith::state
