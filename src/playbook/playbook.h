// racksmith/playbook: Ansible-like YAML playbooks, validated completely before they run,
// executed on many nodes at once through a transport::Transport.
//
// Contract:
// - LoadPlaybook reads one playbook (docs/playbooks.md is the format) and validates all of
//   it before anything runs: schema (unknown keys get a did-you-mean), every template and
//   `when`/`changed_when`/`failed_when` expression compiles, every template `src` and copy
//   `src` file exists, every notified handler exists, every module's arguments are checked.
//   Every problem is reported (not just the first), each with its file:line:col.
// - RunPlaybook runs the tasks in order on every target, targets in parallel (at most
//   RunOptions::fanout at once), each target over its one pooled transport connection.
//   A failed task stops that target (unless ignore_errors); other targets go on. Handlers
//   run once, at the end, in definition order, only when a changed task notified them.
// - Every module reads the node's state first and reports changed only when it changed
//   something (command/shell: unless creates/removes/changed_when say otherwise). Check
//   mode (RunOptions::check) changes nothing on any node and reports what would change,
//   with unified diffs for files.
// - Nothing here throws across this header; failures are values.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transport/transport.h"

namespace racksmith::playbook {

using Json = nlohmann::ordered_json;

/// Input bounds (docs/playbooks.md, "Limits").
inline constexpr size_t kMaxPlaybookBytes = 4 * 1024 * 1024;
inline constexpr int kMaxNesting = 64;
inline constexpr size_t kMaxTasks = 10'000;
inline constexpr size_t kMaxYamlNodes = 1'000'000;  // values read, aliases counted each use

struct Task {
  std::string name;    // as written; "" -> shown as "module: first argument"
  std::string module;  // canonical module name ("line_in_file", not "lineinfile")
  Json args = Json::object();
  std::string when;  // a template expression; "" = always
  Json loop;         // null: no loop; a list, or a string that evaluates to one
  std::string loop_var = "item";
  std::string register_as;
  std::vector<std::string> notify;
  std::vector<std::string> listen;  // handlers: more names they answer to
  std::vector<std::string> tags;
  std::string changed_when;  // expression; "" = the module decides
  std::string failed_when;   // expression; "" = the module decides
  bool ignore_errors = false;
  bool no_log = false;     // hide messages, output and diffs (secrets: munge keys)
  bool check_mode = true;  // false: runs for real even in check mode (read-only queries)
  Json vars = Json::object();
  SourceLoc where;

  /// The name shown in reports.
  std::string DisplayName() const;
};

struct TemplateCache;  // compiled templates and expressions, filled by the loader

struct Playbook {
  std::string path;
  std::string dir;  // folder of the playbook: relative `src` paths start here
  std::string name;
  Json vars = Json::object();
  std::vector<Task> tasks;
  std::vector<Task> handlers;
  std::shared_ptr<TemplateCache> templates;
};

/// Everything one load found: the playbook (usable only when errors is empty) and every
/// error, sorted by position.
struct LoadOutcome {
  Playbook playbook;
  std::vector<Error> errors;
  bool ok() const { return errors.empty(); }
};

LoadOutcome LoadPlaybookAll(const std::string& path);
/// Loads YAML text as if it were the file `path` (relative srcs resolve from its folder).
LoadOutcome LoadPlaybookFromStringAll(std::string_view yaml, const std::string& path);
/// As above, every error joined into one InvalidInput error (one "file:line:col: msg" per line).
Result<Playbook> LoadPlaybook(const std::string& path);

/// Names of every module and its aliases, for docs and did-you-mean.
std::vector<std::string> ModuleNames();

// ---------------------------------------------------------------------------------------
// Running.

/// One node to run on: how to reach it and what its templates see as `node`.
struct Target {
  transport::Endpoint endpoint;  // endpoint.node is the name shown in reports
  Json node = Json::object();    // inventory::NodeContext, or {name, ip} for raw addresses
};

struct RunOptions {
  bool check = false;             // change nothing; report what would change
  bool diff = false;              // keep unified diffs of changed files in the results
  std::vector<std::string> tags;  // run only tasks with one of these tags (and "always")
  Json extra_vars = Json::object();  // -e: beat every other variable
  Json globals = Json::object();     // shared by every target: site, nodes (all node contexts)
  int fanout = 64;
  /// How modules that poll (reboot, wait_for) wait between attempts. Tests pass a no-op.
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Per-task progress on stderr-like sink (node, task, status); may be empty.
  std::function<void(const std::string& node, const std::string& line)> progress;
};

enum class TaskStatus { kOk, kChanged, kFailed, kSkipped, kUnreachable };
const char* TaskStatusName(TaskStatus status);

struct TaskResult {
  int index = -1;    // in Playbook::tasks (or ::handlers when handler)
  std::string task;  // display name
  SourceLoc where;
  bool handler = false;
  TaskStatus status = TaskStatus::kOk;
  bool ignored = false;  // failed, but ignore_errors
  std::string msg;
  std::string diff;  // unified diff(s) of files, when RunOptions::diff or check
  int rc = 0;
  std::string stdout_text;
  std::string stderr_text;
  /// Whole files the task owns and the SHA-256 of what it left in them (copy, template;
  /// not in check mode), so that later changes by others can be detected.
  std::vector<std::pair<std::string, std::string>> files;
};

struct NodeReport {
  std::string node;
  std::vector<TaskResult> results;
  int ok = 0, changed = 0, failed = 0, skipped = 0, unreachable = 0, ignored = 0;
  bool Succeeded() const { return failed == 0 && unreachable == 0; }
};

struct RunReport {
  std::vector<NodeReport> nodes;  // in target order
  bool check = false;
  bool AllSucceeded() const;
  int TotalChanged() const;
};

RunReport RunPlaybook(const Playbook& playbook, const std::vector<Target>& targets,
                      transport::Transport& transport, const RunOptions& options);

/// Ansible-like text: per task, one line per node ("changed: lab-n01"), diffs when asked,
/// then PLAY RECAP with ok/changed/failed/skipped/unreachable/ignored per node.
std::string FormatReport(const Playbook& playbook, const RunReport& report, bool show_diff);
/// {"playbook", "check", "nodes": [{"node", "recap": {...}, "tasks": [{...}]}]}
nlohmann::json ReportJson(const Playbook& playbook, const RunReport& report);

/// A unified diff of two texts (3 lines of context), "" when they are equal.
std::string UnifiedDiff(std::string_view before, std::string_view after,
                        const std::string& before_name, const std::string& after_name);

}  // namespace racksmith::playbook
