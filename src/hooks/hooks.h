// racksmith/hooks: the administrator's executables that run at points of an apply.
//
// Contract:
// - Hooks live in <dir>/<event>.d/ (event: pre-apply, post-apply, pre-node-step,
//   post-node-step, node-state-change, pre-retire, post-burnin). HookRunner::Open reads each
//   folder once; a missing folder has no hooks. Regular files (or links to them) that are
//   executable run in byte order of their names; dotfiles, editor and package-manager leftovers
//   (`*~`, `#*#`, `*.dpkg-*`, `*.rpmnew`, `*.rpmsave`, `*.bak`, `*.orig`, `*.swp`) and files
//   that are not executable are skipped (logged at debug level). A hook that others than its
//   owner may write, or that is owned by someone other than this user or root, makes Open
//   fail: racksmith would run it with its own rights.
// - Each hook gets the event's JSON document on stdin, a clean environment (an allow-list of
//   harmless variables such as PATH and LANG plus RACKSMITH_HOOK_EVENT and friends: never the
//   caller's environment, so no secret in it reaches a hook), the hooks folder as its working
//   directory, its own process group, and a timeout. Past the timeout its process group gets
//   SIGTERM, then SIGKILL a second later; when it exits, whatever it left in its group is killed.
//   stdout and stderr are kept up to a bound each (the rest is read and dropped).
// - pre-* events: a hook that exits non-zero, is killed, times out or cannot start vetoes;
//   the hooks after it do not run, and the veto's reason is the hook's stderr (trimmed, on one
//   line, bounded). post-* events and node-state-change: every hook runs; a failure is a
//   warning (spdlog) and never a veto.
// - Run may be called from several threads at once.
// docs/hooks.md is the user's reference (events, documents, environment, examples).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::hooks {

enum class HookEvent {
  kPreApply,
  kPostApply,
  kPreNodeStep,
  kPostNodeStep,
  kNodeStateChange,
  kPreRetire,
  kPostBurnin,
};

inline constexpr std::array<HookEvent, 7> kAllHookEvents = {
    HookEvent::kPreApply,     HookEvent::kPostApply,       HookEvent::kPreNodeStep,
    HookEvent::kPostNodeStep, HookEvent::kNodeStateChange, HookEvent::kPreRetire,
    HookEvent::kPostBurnin,
};

/// "pre-apply", "post-apply", ...: the folder is this name plus ".d".
const char* HookEventName(HookEvent event);
/// The inverse of HookEventName; nullopt for anything else.
std::optional<HookEvent> ParseHookEvent(std::string_view name);
/// pre-apply, pre-node-step and pre-retire: their hooks may veto.
bool CanVeto(HookEvent event);

struct HookOptions {
  std::string dir;                       // the hooks folder; missing: no hooks
  int64_t timeout_ms = 30'000;           // per hook
  size_t max_capture_bytes = 64 * 1024;  // of stdout and of stderr, each
  /// Added to every hook's environment (RACKSMITH_INVENTORY, RACKSMITH_SITE): names and
  /// paths, never a secret.
  std::map<std::string, std::string> env;
};

/// How one hook ran.
struct HookResult {
  std::string name;  // "pre-apply.d/10-freeze"
  std::string path;
  int exit_code = -1;  // exit status; -N when killed by signal N; -1 when it did not start
  bool timed_out = false;
  std::string start_error;  // why it could not be started; empty when it ran
  std::string out;          // stdout, at most max_capture_bytes
  std::string err;          // stderr, at most max_capture_bytes
  int64_t duration_ms = 0;

  bool ok() const { return start_error.empty() && !timed_out && exit_code == 0; }
  /// "exited with status 3", "timed out after 2 s", "killed by signal 9", "cannot start: ...".
  std::string Describe(int64_t timeout_ms) const;
};

/// What the hooks of one event did.
struct HookOutcome {
  std::vector<HookResult> results;  // in the order they ran; a veto is the last
  bool vetoed = false;
  std::string veto;  // "vetoed by hook pre-apply.d/10-freeze: change freeze until Monday"
};

/// Per call: which run and node it is about (become RACKSMITH_RUN_ID, RACKSMITH_NODE,
/// RACKSMITH_STEP); empty or 0: not set.
struct HookCall {
  int64_t run_id = 0;
  std::string node;
  std::string step;
};

/// A hooks folder as read once by Open.
class HookRunner {
 public:
  /// No hooks at all.
  HookRunner() = default;
  /// Reads <options.dir>/<event>.d/ for every event. A missing options.dir is no hooks.
  /// kInvalidInput when options.dir is not a folder, when a hook may be written by others
  /// than its owner or belongs to another user; kIo when a folder cannot be read.
  static Result<HookRunner> Open(HookOptions options);

  bool Has(HookEvent event) const { return !hooks_[Index(event)].empty(); }
  bool Empty() const;
  /// The hooks of an event, in the order they run (full paths).
  const std::vector<std::string>& HooksOf(HookEvent event) const { return hooks_[Index(event)]; }
  const HookOptions& options() const { return options_; }

  /// Runs the event's hooks with `document` on stdin. See the contract for veto semantics.
  HookOutcome Run(HookEvent event, const nlohmann::json& document, const HookCall& call) const;

 private:
  static size_t Index(HookEvent event) { return static_cast<size_t>(event); }

  HookOptions options_;
  std::array<std::vector<std::string>, kAllHookEvents.size()> hooks_;
};

/// The folder `apply` looks in when --hooks-dir is not given: `hooks` beside the inventory
/// path ("inventory/lab.yaml" -> "inventory/hooks", "/etc/racksmith/inventory" ->
/// "/etc/racksmith/hooks", "site.yaml" -> "hooks").
std::string DefaultHooksDir(const std::string& inventory_path);

/// Trimmed, on one line (line breaks become "; "), at most `max_bytes` (cut on a UTF-8
/// character boundary, "..." appended).
std::string OneLine(std::string_view text, size_t max_bytes);

}  // namespace racksmith::hooks
