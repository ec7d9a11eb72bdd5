// Templates and expressions in playbooks: compiled once by the loader, rendered per node.
#include <algorithm>
#include <cctype>

#include "playbook/internal.h"

namespace racksmith::playbook::internal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<std::shared_ptr<const tmpl::Template>> CompileKeyed(TemplateCache& cache,
                                                           const std::string& key,
                                                           std::string_view source,
                                                           const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.compiled.find(key);
    if (it != cache.compiled.end()) return it->second;
  }
  auto t = tmpl::Template::Compile(source, name);
  if (!t.ok()) return t.error();
  auto shared = std::make_shared<const tmpl::Template>(std::move(t).value());
  std::lock_guard<std::mutex> lock(cache.mu);
  cache.compiled.emplace(key, shared);
  return shared;
}

/// The expression inside a string that is exactly one "{{ expr }}", else nullopt.
std::optional<std::string_view> SoleExpression(std::string_view s) {
  std::string_view t = s;  // not trimmed: "{{ x }}\n" is text, not a value
  if (t.size() < 4 || !t.starts_with("{{") || !t.ends_with("}}")) return std::nullopt;
  std::string_view inner = t.substr(2, t.size() - 4);
  if (inner.find("{{") != std::string_view::npos || inner.find("}}") != std::string_view::npos ||
      inner.find("{%") != std::string_view::npos || inner.find("{#") != std::string_view::npos) {
    return std::nullopt;
  }
  if (!inner.empty() && (inner.front() == '-' || inner.front() == '+')) inner.remove_prefix(1);
  if (!inner.empty() && (inner.back() == '-' || inner.back() == '+')) inner.remove_suffix(1);
  return Trim(inner);
}

}  // namespace

bool IsTemplated(std::string_view s) {
  return s.find("{{") != std::string_view::npos || s.find("{%") != std::string_view::npos ||
         s.find("{#") != std::string_view::npos;
}

std::string StripBraces(std::string_view expression) {
  if (auto inner = SoleExpression(expression)) return std::string(*inner);
  return std::string(Trim(expression));
}

Result<std::shared_ptr<const tmpl::Template>> CompileString(TemplateCache& cache,
                                                            const std::string& source) {
  if (auto inner = SoleExpression(source)) return CompileExpression(cache, *inner);
  return CompileKeyed(cache, "str:" + source, source, "<string>");
}

Result<std::shared_ptr<const tmpl::Template>> CompileExpression(TemplateCache& cache,
                                                                std::string_view expression) {
  std::string expr = StripBraces(expression);
  if (expr.empty()) return InvalidInput("expected an expression, found nothing");
  // The value travels as JSON so that lists, dicts, numbers and booleans keep their type.
  std::string source = "{{ (" + expr + ") | tojson }}";
  return CompileKeyed(cache, "expr:" + expr, source, "<expression>");
}

Result<std::shared_ptr<const tmpl::Template>> CompileFile(TemplateCache& cache,
                                                          const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.compiled.find("file:" + path);
    if (it != cache.compiled.end()) return it->second;
  }
  auto t = tmpl::Template::Load(path);
  if (!t.ok()) return t.error();
  auto shared = std::make_shared<const tmpl::Template>(std::move(t).value());
  std::lock_guard<std::mutex> lock(cache.mu);
  cache.compiled.emplace("file:" + path, shared);
  return shared;
}

Result<Json> EvaluateExpression(TemplateCache& cache, std::string_view expression,
                                const Json& vars) {
  auto t = CompileExpression(cache, expression);
  if (!t.ok()) return t.error();
  auto text = (*t)->Render(vars);
  if (!text.ok()) return text.error();
  Json value = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Internal("expression `" + StripBraces(expression) + "` gave invalid JSON");
  }
  return value;
}

Result<Json> RenderValue(TemplateCache& cache, const Json& value, const Json& vars) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (!IsTemplated(s)) return value;
    if (auto inner = SoleExpression(s)) return EvaluateExpression(cache, *inner, vars);
    auto t = CompileString(cache, s);
    if (!t.ok()) return t.error();
    auto text = (*t)->Render(vars);
    if (!text.ok()) return text.error();
    return Json(std::move(text).value());
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& item : value) {
      auto r = RenderValue(cache, item, vars);
      if (!r.ok()) return r;
      out.push_back(std::move(r).value());
    }
    return out;
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : value.items()) {
      auto r = RenderValue(cache, v, vars);
      if (!r.ok()) return r;
      out[k] = std::move(r).value();
    }
    return out;
  }
  return value;
}

bool Truthy(const Json& value) {
  if (value.is_null()) return false;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<int64_t>() != 0;
  if (value.is_number_float()) return value.get<double>() != 0.0;
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  return !value.empty();  // array, object
}

// ---------------------------------------------------------------------------------------
// Argument accessors.

std::string ArgString(const Json& args, const char* key, const std::string& fallback) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return it->dump();
}

bool ArgBool(const Json& args, const char* key, bool fallback) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    if (s == "true" || s == "yes" || s == "1" || s == "on") return true;
    if (s == "false" || s == "no" || s == "0" || s == "off" || s.empty()) return false;
  }
  return Truthy(*it);
}

std::vector<std::string> ArgList(const Json& args, const char* key) {
  std::vector<std::string> out;
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return out;
  if (it->is_array()) {
    for (const auto& v : *it) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  } else if (it->is_string()) {
    // "a,b" is a list, as Ansible reads comma-separated strings for list arguments.
    std::string s = it->get<std::string>();
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t comma = s.find(',', pos);
      if (comma == std::string::npos) comma = s.size();
      std::string part(Trim(std::string_view(s).substr(pos, comma - pos)));
      if (!part.empty()) out.push_back(part);
      pos = comma + 1;
    }
  } else {
    out.push_back(it->dump());
  }
  return out;
}

std::vector<std::string> ArgItems(const Json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_string()) return ArgList(args, key);
  return {it->get<std::string>()};
}

std::optional<int> ArgMode(const Json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return std::nullopt;
  std::string digits;
  if (it->is_number_integer()) {
    digits = std::to_string(it->get<int64_t>());
  } else if (it->is_string()) {
    digits = it->get<std::string>();
  } else {
    return -1;
  }
  if (digits.empty() || digits.size() > 5) return -1;
  int mode = 0;
  for (char c : digits) {
    if (c < '0' || c > '7') return -1;
    mode = mode * 8 + (c - '0');
  }
  return mode > 07777 ? -1 : mode;
}

std::string FormatMode(int mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

std::string CheckArgType(const ArgSpec& spec, const Json& value) {
  if (value.is_string() && IsTemplated(value.get_ref<const std::string&>())) return "";
  auto found = [&] {
    if (value.is_string()) return "a string";
    if (value.is_boolean()) return "a boolean";
    if (value.is_number()) return "a number";
    if (value.is_array()) return "a list";
    if (value.is_object()) return "a mapping";
    return "nothing";
  };
  std::string f = std::string("found ") + found();
  switch (spec.type) {
    case ArgType::kString:
      if (value.is_object() || value.is_array() || value.is_null())
        return "expected a string, " + f;
      break;
    case ArgType::kBool:
      if (!value.is_boolean() && !value.is_string()) return "expected a boolean, " + f;
      if (value.is_string()) {
        Json probe = Json::object();
        probe["v"] = value;
        std::string s = value.get<std::string>();
        std::transform(s.begin(), s.end(), s.begin(), ::tolower);
        if (s != "true" && s != "false" && s != "yes" && s != "no")
          return "expected a boolean, " + f + " \"" + value.get<std::string>() + "\"";
      }
      break;
    case ArgType::kInt:
      if (!value.is_number_integer()) return "expected an integer, " + f;
      break;
    case ArgType::kList:
      if (!value.is_array()) return "expected a list, " + f;
      break;
    case ArgType::kStringOrList:
      if (value.is_object() || value.is_null()) return "expected a string or a list, " + f;
      break;
    case ArgType::kMode: {
      Json probe = Json::object();
      probe["m"] = value;
      auto m = ArgMode(probe, "m");
      if (!m || *m < 0) return "expected a mode as octal digits like \"0644\", " + f;
      break;
    }
    case ArgType::kAny:
      break;
  }
  if (!spec.choices.empty() && value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    bool ok = std::any_of(spec.choices.begin(), spec.choices.end(),
                          [&](const char* c) { return s == c; });
    if (!ok) {
      std::string list;
      for (const char* c : spec.choices) list += (list.empty() ? "" : ", ") + std::string(c);
      return "expected one of " + list + ", found \"" + s + "\"";
    }
  }
  return "";
}

std::string Closest(std::string_view word, const std::vector<std::string>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  if (word.size() > 64) return "";
  for (const auto& c : candidates) {
    size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace racksmith::playbook::internal
