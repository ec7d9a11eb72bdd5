// racksmith/state: the plain records the Store reads and writes.
//
// Contract:
// - Records are values: no handles into the database, safe to copy and keep.
// - Times are milliseconds since the Unix epoch, taken from the Clock the store was opened
//   with; 0 means "not yet" (a step not finished, a run still going).
// - JSON fields (step intent, BMC facts, burn-in summary) hold a JSON text; the store checks
//   that it parses and otherwise treats it as opaque.
// - Nothing here may hold a secret: command lines go through RedactCommandLine first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "state/node_state.h"

namespace racksmith::state {

/// A node as the store knows it.
struct NodeRecord {
  std::string name;
  NodeState state = NodeState::kNew;
  std::string reason;  // why it is in this state ("GPU 3 fell off the bus"); may be empty
  int64_t created_at = 0;
  int64_t updated_at = 0;  // last change of state or reason
};

/// One entry of a node's lifecycle history.
struct StateChange {
  std::string node;
  std::optional<NodeState> from;  // nullopt: the node was created in `to`
  NodeState to = NodeState::kNew;
  std::string reason;
  int64_t run_id = 0;  // the run that made the change; 0: none (a manual change)
  int64_t at = 0;
};

/// What a node has had applied of one component (firmware, image, nvidia_driver, cuda, ...).
/// The planner compares content_hash with the hash of what the inventory renders now.
struct ComponentRecord {
  std::string node;
  std::string component;
  std::string version;       // human-readable ("550.127.05"); may be empty
  std::string content_hash;  // hash of everything the component renders from
  int64_t applied_at = 0;    // set by the store when recorded
  int64_t run_id = 0;        // the run that applied it; 0: none
};

/// How a run ended. kRunning: not finished (still going, or killed before it could say).
enum class RunOutcome { kRunning, kSucceeded, kFailed, kAborted };
std::string_view RunOutcomeName(RunOutcome outcome);  // "running", "succeeded", ...
Result<RunOutcome> ParseRunOutcome(std::string_view name);

/// What the caller says about a run when it begins it.
struct RunStart {
  std::string command_line;  // already redacted (RedactCommandLine)
  std::string user;
  std::string host;
  int64_t pid = 0;
};

struct RunRecord {
  int64_t id = 0;
  std::string command_line;
  std::string user;
  std::string host;
  int64_t pid = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;  // 0 while running
  RunOutcome outcome = RunOutcome::kRunning;
};

/// A journal step's status. intended: recorded, not started; running: started, no result yet.
enum class StepStatus { kIntended, kRunning, kSucceeded, kFailed, kSkipped };
std::string_view StepStatusName(StepStatus status);  // "intended", "running", ...
Result<StepStatus> ParseStepStatus(std::string_view name);
/// True for succeeded, failed and skipped.
bool IsFinished(StepStatus status);

/// What the executor is about to do; recorded by RecordIntent before the step runs.
struct StepIntent {
  int64_t run_id = 0;
  std::string node;
  std::string kind;         // the step kind: "power_on", "image", "install", "burnin", ...
  std::string component;    // the component it applies, or empty
  std::string intent_json;  // the step's parameters as a JSON text; empty means "{}"
  int attempt = 1;          // 1 for the first try, 2 for the first retry, ...
};

/// What came of a step; recorded by RecordResult after it ran.
struct StepResult {
  StepStatus status = StepStatus::kSucceeded;  // REQUIRES: IsFinished(status)
  std::string error;                           // why it failed (or was skipped); empty on success
  std::string output_tail;  // last lines of the step's output; the store keeps ~64 KiB at most
  /// Recorded in the same transaction as a succeeded result, so that "step done" and
  /// "component at this hash" can never disagree after a crash. Its node and run_id are
  /// taken from the step.
  std::optional<ComponentRecord> component;
};

/// A journal entry.
struct StepRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string node;
  std::string kind;
  std::string component;
  std::string intent_json;
  StepStatus status = StepStatus::kIntended;
  int attempt = 1;
  int64_t started_at = 0;   // when the intent was recorded
  int64_t finished_at = 0;  // 0 until a result is recorded
  std::string error;
  std::string output_tail;
};

/// A node with everything the planner needs about it, loaded in bulk.
struct NodeSnapshot {
  NodeRecord node;
  std::vector<ComponentRecord> components;  // sorted by component name
  std::optional<StepRecord> last_step;      // the node's most recent journal entry
  /// The id of the node's last succeeded erase step when only power_off, retire or erase
  /// steps came after it (any other step, even a failed one, may have written to the disks
  /// or followed a return to service): its disks are erased and nothing was written to
  /// them since. 0 otherwise. Loaded for
  /// retiring and failed nodes (a retirement that stopped after its erase), 0 for others.
  int64_t erased_by_step = 0;
};

/// An SSH host key seen for a node (trust on first use; a mismatch is refused by the caller).
struct HostKey {
  std::string node;
  std::string address;   // where it was seen ("10.2.0.11:22"); updated on every sighting
  std::string key_type;  // "ssh-ed25519", "ecdsa-sha2-nistp256", ...
  std::string key;       // base64 public key, or "SHA256:..." fingerprint
  int64_t first_seen = 0;
  int64_t last_seen = 0;
};

/// Hardware and firmware facts a BMC reported, as JSON.
struct BmcFacts {
  std::string node;
  std::string facts_json;
  int64_t collected_at = 0;
};

struct BurninResult {
  std::string node;
  int64_t run_id = 0;  // 0: not part of a run
  bool passed = false;
  std::string summary_json;
  int64_t at = 0;  // set by the store when recorded
};

/// Who holds the apply lock.
struct LockHolder {
  std::string description;  // e.g. "racksmith apply @rack:r01" (redacted)
  int64_t pid = 0;
  std::string host;
  int64_t since = 0;
  /// Tells the holder apart from a later process with the same pid: on Linux
  /// "<boot id>/<start time in ticks>"; empty when unknown.
  std::string process_identity;
};

/// What AcquireLock got.
struct LockInfo {
  LockHolder holder;                // this process, now
  std::optional<LockHolder> stale;  // set when a dead holder's lock was taken over
  std::string ToString() const;     // "took over a stale lock from pid ..." or ""
};

/// "2026-11-24 11:35:12 UTC" for people; used in the store's messages.
std::string FormatTime(int64_t unix_millis);
/// "2026-11-24T11:35:12.345Z" for --json output.
std::string FormatTimeIso(int64_t unix_millis);

/// Joins argv into one line with the values of secret-looking options (password,
/// passphrase, secret, token, credential; "--opt value" and "--opt=value") replaced by
/// "***", so that a run's command line can be stored.
std::string RedactCommandLine(const std::vector<std::string>& argv);

}  // namespace racksmith::state
