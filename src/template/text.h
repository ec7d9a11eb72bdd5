// Internal: Python string operations the filters and methods need, byte-exact with CPython
// for ASCII text (case mapping of non-ASCII letters is not attempted; see docs/templates.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "template/value.h"

namespace racksmith::tmpl {

std::string AsciiUpper(std::string s);
std::string AsciiLower(std::string s);
std::string Capitalize(const std::string& s);  // str.capitalize()
std::string PyTitle(const std::string& s);     // str.title()
std::string JinjaTitle(const std::string& s);  // Jinja2's title filter
std::string PyStrip(const std::string& s, const std::optional<std::string>& chars, bool left,
                    bool right);
std::vector<std::string> PySplit(const std::string& s, const std::optional<std::string>& sep,
                                 int64_t maxsplit);
std::string PyReplace(const std::string& s, const std::string& old_s, const std::string& new_s,
                      int64_t count);
std::string PyCenter(const std::string& s, int64_t width);
std::string JinjaIndent(const std::string& s, const std::string& indention, bool first, bool blank);
std::string HtmlEscape(const std::string& s);

// Jinja2's tojson: json.dumps(sort_keys=True, indent=...) with <, >, &, ' escaped.
std::string ToJsonText(const Json& j, int indent);
// racksmith's to_yaml: yaml.safe_dump(default_flow_style=False, sort_keys=True,
// allow_unicode=True, unbounded width); fails on strings it cannot write byte-exactly.
std::string ToYamlText(const Json& j);
// Ansible's regex_replace with Python re syntax translated to ECMAScript.
std::string RegexReplace(const std::string& value, const std::string& pattern,
                         const std::string& replacement, bool ignorecase, bool multiline,
                         int64_t count);

}  // namespace racksmith::tmpl
