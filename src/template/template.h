// racksmith/template: a Jinja2-compatible template engine for the files racksmith renders
// (slurm.conf, gres.conf, fstab, systemd units, cloud-init, /etc/hosts).
//
// Contract:
// - Template::Compile parses once; Render may then be called any number of times, from any
//   number of threads at once (a compiled Template is immutable; includes are parsed on
//   first use into a cache guarded by a mutex).
// - Output is byte-identical to Python Jinja2 3.1 configured as Ansible configures it
//   (trim_blocks, no lstrip_blocks, keep_trailing_newline) with StrictUndefined, for the
//   subset documented in docs/templates.md; the differential test in tests/template/
//   proves it. Anything outside the subset is an error "not supported: ...", never
//   silently different output.
// - Every failure is an Error (kInvalidInput, kUnsupported, kNotFound, kIo) whose location
//   is the template file:line:col and whose message quotes the offending tag.
// - Recursion (macros, includes), nesting, loop sizes and output size are bounded by
//   TemplateOptions, so a hostile template gets an error, not a crash.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::tmpl {

struct TemplateOptions {
  /// Remove the first newline after a block or comment tag. Default: true (Ansible).
  bool trim_blocks = true;
  /// Strip spaces and tabs from a line's start up to a block tag. Default: false (Ansible).
  bool lstrip_blocks = false;
  /// Keep a single trailing newline of the source. Default: true (Ansible).
  bool keep_trailing_newline = true;
  /// Folders searched, in order, for {% include %} names. Default: none.
  std::vector<std::string> search_path;
  /// Output bigger than this fails. Default: 256 MiB.
  size_t max_output_bytes = size_t{256} << 20;
  /// Depth of nested macro calls plus includes. Default: 64.
  int max_call_depth = 64;
  /// Depth of nested blocks and expressions in the source. Default: 128.
  int max_nesting = 128;
  /// Items one loop, range() or sequence repetition may produce. Default: 10 million.
  size_t max_items = 10'000'000;
};

struct Program;

class Template {
 public:
  /// Parses `source`; `name` is the file name used in error locations.
  static Result<Template> Compile(std::string_view source, std::string name,
                                  TemplateOptions options = {});
  /// Reads and parses a file; its folder is added to the end of the include search path.
  static Result<Template> Load(const std::string& path, TemplateOptions options = {});

  /// Renders with `context` as the template's variables. Thread-safe.
  Result<std::string> Render(const nlohmann::ordered_json& context) const;
  /// Same, for callers holding an unordered (key-sorted) nlohmann::json.
  Result<std::string> Render(const nlohmann::json& context) const;

  const std::string& name() const;

 private:
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

/// Renders a template file in one call (used by `racksmith template render`).
Result<std::string> RenderFile(const std::string& path, const nlohmann::ordered_json& context,
                               TemplateOptions options = {});

}  // namespace racksmith::tmpl
