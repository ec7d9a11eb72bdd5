// racksmith/playbook (internal): templates and expressions, the module table, node I/O.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "playbook/playbook.h"
#include "template/template.h"

namespace racksmith::playbook::internal {

// ---------------------------------------------------------------------------------------
// Templates and expressions.

/// True when `s` contains a Jinja2 tag ("{{", "{%" or "{#").
bool IsTemplated(std::string_view s);

}  // namespace racksmith::playbook::internal

namespace racksmith::playbook {
/// Compiled templates keyed by source text (strings in tasks), by "expr:" + expression, and
/// by "file:" + path (template files). The loader fills it; rendering compiles what it lacks.
struct TemplateCache {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const tmpl::Template>> compiled;
};
}  // namespace racksmith::playbook

namespace racksmith::playbook::internal {

/// Compiles (or finds) the template for a string value.
Result<std::shared_ptr<const tmpl::Template>> CompileString(TemplateCache& cache,
                                                            const std::string& source);
/// Compiles (or finds) an expression as a template printing its value as JSON.
Result<std::shared_ptr<const tmpl::Template>> CompileExpression(TemplateCache& cache,
                                                                std::string_view expression);
/// Compiles (or finds) a template file.
Result<std::shared_ptr<const tmpl::Template>> CompileFile(TemplateCache& cache,
                                                          const std::string& path);

/// Renders every string in `value` (recursively). A string that is exactly one `{{ expr }}`
/// keeps the expression's type (a list stays a list), as Ansible does.
Result<Json> RenderValue(TemplateCache& cache, const Json& value, const Json& vars);
/// Evaluates an expression (`x is defined and x > 1`; surrounding {{ }} are allowed).
Result<Json> EvaluateExpression(TemplateCache& cache, std::string_view expression,
                                const Json& vars);
/// Python truthiness of a value.
bool Truthy(const Json& value);
/// "{{ x }}" -> "x"; other text unchanged.
std::string StripBraces(std::string_view expression);

// ---------------------------------------------------------------------------------------
// Modules.

enum class ArgType { kString, kBool, kInt, kList, kStringOrList, kMode, kAny };

struct ArgSpec {
  const char* name;
  ArgType type;
  bool required = false;
  std::vector<const char*> choices = {};
};

/// What a module did (or, in check mode, would do).
struct ModuleResult {
  bool changed = false;
  bool failed = false;
  bool unreachable = false;
  std::string msg;
  std::string diff;
  int rc = 0;
  std::string stdout_text;
  std::string stderr_text;
  Json extra = Json::object();  // more registered fields (e.g. stat, content)
  /// Whole files this module owns and left with known content (copy, template; not in
  /// check mode): path and SHA-256 of that content.
  std::vector<std::pair<std::string, std::string>> written;
};

/// What a module runs with.
struct ModuleContext {
  transport::Transport& transport;
  const transport::Endpoint& endpoint;
  const Playbook& playbook;
  const RunOptions& options;
  const Json& vars;  // everything templates see (template module renders with it)
  bool check = false;
};

struct ModuleSpec {
  const char* name;
  std::vector<const char*> aliases;
  std::vector<ArgSpec> args;
  /// The key a free-form string value fills (`command: ls` -> cmd), or nullptr.
  const char* free_form = nullptr;
  /// Checks beyond ArgSpec on the arguments as written (templated values may still be
  /// strings). Appends problems; those without a location get the task's. `playbook_dir`
  /// resolves relative srcs.
  void (*validate)(const Json& args, const std::string& playbook_dir, TemplateCache& cache,
                   std::vector<Error>* problems) = nullptr;
  ModuleResult (*run)(ModuleContext& ctx, const Json& args) = nullptr;
};

/// Every module, in documentation order.
const std::vector<ModuleSpec>& Modules();
/// The module called `name` (or an alias, or "ansible.builtin.NAME"), or nullptr.
const ModuleSpec* FindModule(std::string_view name);

/// Checks `value` against `spec`'s type (templated strings pass). "" when fine.
std::string CheckArgType(const ArgSpec& spec, const Json& value);
/// The closest of `candidates` to `word`, or "" when none is close.
std::string Closest(std::string_view word, const std::vector<std::string>& candidates);

// Module groups (each file registers its own).
void AddFileModules(std::vector<ModuleSpec>* out);
void AddCommandModules(std::vector<ModuleSpec>* out);
void AddSystemModules(std::vector<ModuleSpec>* out);

// Argument accessors on rendered args.
std::string ArgString(const Json& args, const char* key, const std::string& fallback = "");
bool ArgBool(const Json& args, const char* key, bool fallback);
/// An integer from a number or a numeric string; `fallback` when absent or not a number.
int64_t ArgInt(const Json& args, const char* key, int64_t fallback);
std::vector<std::string> ArgList(const Json& args, const char* key);
/// Like ArgList, but a string is one item, never split on commas: for expressions such as
/// assert's `that`, where "a in ['x', 'y']" is one expression and only a YAML list gives several.
std::vector<std::string> ArgItems(const Json& args, const char* key);
/// A mode written as octal digits ("0644", 644, "755"); nullopt when absent, -1 if invalid.
std::optional<int> ArgMode(const Json& args, const char* key);
/// Resolves a controller-side source path: absolute, else `dir`/files/PATH, then `dir`/PATH,
/// then `dir`/../files/PATH (for `copy`) or templates/ (for `template`).
std::string ResolveLocal(const std::string& dir, const std::string& path, const char* kind);

// ---------------------------------------------------------------------------------------
// Node I/O over the transport (node_ops.cc).

/// Quotes for POSIX sh: 'it'\''s'.
std::string ShellQuote(std::string_view word);
/// Splits a command line into words the way sh would (quotes, backslashes; no expansion).
Result<std::vector<std::string>> SplitWords(std::string_view line);

struct FileInfo {
  bool exists = false;
  std::string type;  // "file", "directory", "link", "other"
  int mode = 0;
  std::string owner, group;
};

/// Runs a command; a transport failure is an error, a non-zero exit is not.
Result<transport::ExecResult> Run(ModuleContext& ctx, const std::string& command);
/// Runs a command that must exit 0; otherwise an error naming the command and its stderr.
Status RunOk(ModuleContext& ctx, const std::string& command);
Result<FileInfo> StatPath(ModuleContext& ctx, const std::string& path);
/// The file's content, or nullopt when it does not exist.
Result<std::optional<std::string>> ReadFile(ModuleContext& ctx, const std::string& path);

/// Desired attributes of a path: each empty/nullopt means "leave as is".
struct Attrs {
  std::optional<int> mode;
  std::string owner, group;
};
/// Brings mode/owner/group of an existing path to `want` (not in check mode). Returns
/// what changed ("mode 0600->0644"), "" when nothing did.
Result<std::string> ApplyAttrs(ModuleContext& ctx, const std::string& path, const FileInfo& have,
                               const Attrs& want);
/// Writes `content` to `path` if it differs (and fixes attrs), with a diff. Shared by copy
/// and template.
ModuleResult WriteFileIfChanged(ModuleContext& ctx, const std::string& path,
                                const std::string& content, const Attrs& want);
/// Reads attrs (mode/owner/group) from module arguments.
Attrs ArgAttrs(const Json& args);
/// Converts an Error from the transport into a module result (unreachable when it is one).
ModuleResult FromError(const Error& error);

std::string FormatMode(int mode);  // 0644 -> "0644"

}  // namespace racksmith::playbook::internal
