// Jinja2 built-in filters for scalars and strings, plus Ansible's regex_replace/to_yaml and
// racksmith's hostlist. Sequence filters live in filters_seq.cc.
#include "template/filters.h"

#include <cmath>
#include <regex>
#include <set>

#include "hostlist/hostlist.h"
#include "template/text.h"

namespace racksmith::tmpl {

bool IsKnownFilter(const std::string& name) {
  static const std::set<std::string> kFilters = {
      "abs",   "capitalize", "center",        "count",      "d",          "default",  "dictsort",
      "e",     "escape",     "first",         "float",      "format",     "hostlist", "indent",
      "int",   "join",       "last",          "length",     "list",       "lower",    "map",
      "max",   "min",        "regex_replace", "reject",     "rejectattr", "replace",  "reverse",
      "round", "safe",       "select",        "selectattr", "sort",       "string",   "sum",
      "title", "to_yaml",    "tojson",        "trim",       "unique",     "upper"};
  return kFilters.count(name) > 0;
}

FilterArgs::FilterArgs(const std::string& filter, CallArgs& args, std::vector<std::string> params,
                       const Expr& at)
    : filter_(filter), slots_(params.size()), set_(params.size(), false), at_(at) {
  if (args.pos.size() > params.size())
    Fail("filter '" + filter + "' takes at most " + std::to_string(params.size()) + " argument(s)",
         at.line, at.col);
  for (size_t i = 0; i < args.pos.size(); ++i) {
    slots_[i] = args.pos[i];
    set_[i] = true;
  }
  for (auto& [k, v] : args.kw) {
    size_t i = 0;
    while (i < params.size() && params[i] != k) ++i;
    if (i == params.size())
      Fail("filter '" + filter + "' got an unexpected keyword argument '" + k + "'", at.line,
           at.col);
    if (set_[i])
      Fail("filter '" + filter + "' got multiple values for '" + k + "'", at.line, at.col);
    slots_[i] = v;
    set_[i] = true;
  }
}

const Json& FilterArgs::JsonAt(size_t i) const { return RequireJson(slots_[i], at_); }

bool FilterArgs::Bool(size_t i, bool dflt) const { return set_[i] ? Truthy(slots_[i]) : dflt; }

int64_t FilterArgs::Int(size_t i, int64_t dflt) const {
  if (!set_[i]) return dflt;
  const Json& j = JsonAt(i);
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_boolean()) return j.get<bool>();
  Fail("filter '" + filter_ + "' expects an integer argument, got " + TypeName(j), at_.line,
       at_.col);
}

std::string FilterArgs::Str(size_t i, const std::string& dflt) const {
  return set_[i] ? PyStr(slots_[i]) : dflt;
}

std::string FilterArgs::OptStr(size_t i) const {
  if (!set_[i] || (slots_[i].is_json() && slots_[i].json().is_null())) return "";
  return PyStr(slots_[i]);
}

namespace {

Value Str(std::string s) { return Value::Of(Json(std::move(s))); }

std::string Stripped(const std::string& s) { return PyStrip(s, std::nullopt, true, true); }

// Python float(str); nullopt when Python raises ValueError.
std::optional<double> PyParseFloat(const std::string& s0) {
  std::string s = Stripped(s0);
  static const std::regex kNum(
      "[+-]?(?:(?:[0-9](?:_?[0-9])*)(?:\\.(?:[0-9](?:_?[0-9])*)?)?|\\.[0-9](?:_?[0-9])*)"
      "(?:[eE][+-]?[0-9](?:_?[0-9])*)?");
  static const std::regex kSpecial("[+-]?(?:inf|infinity|nan)", std::regex::icase);
  if (std::regex_match(s, kSpecial)) {
    bool neg = s[0] == '-';
    if (AsciiLower(s).find("nan") != std::string::npos) return std::nan("");
    return neg ? -INFINITY : INFINITY;
  }
  if (!std::regex_match(s, kNum)) return std::nullopt;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  return std::strtod(s.c_str(), nullptr);
}

// Python int(str, base) for bases 2, 8, 10 and 16; nullopt on ValueError.
std::optional<int64_t> PyParseInt(const std::string& s0, int64_t base, const Expr& at) {
  std::string s = Stripped(s0);
  static const std::regex k10("[+-]?[0-9](?:_?[0-9])*");
  static const std::regex k16("[+-]?(?:0[xX])?_?[0-9a-fA-F](?:_?[0-9a-fA-F])*");
  static const std::regex k8("[+-]?(?:0[oO])?_?[0-7](?:_?[0-7])*");
  static const std::regex k2("[+-]?(?:0[bB])?_?[01](?:_?[01])*");
  const std::regex* re = base == 10   ? &k10
                         : base == 16 ? &k16
                         : base == 8  ? &k8
                         : base == 2  ? &k2
                                      : nullptr;
  if (!re) Unsupported("int filter with base " + std::to_string(base), at.line, at.col);
  if (!std::regex_match(s, *re)) return std::nullopt;
  bool neg = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') s.erase(0, 1);
  if (base != 10 && s.size() > 1 && s[0] == '0' && std::isalpha(static_cast<unsigned char>(s[1])))
    s.erase(0, 2);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), nullptr, static_cast<int>(base));
  if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
    Unsupported("integers beyond 64 bits", at.line, at.col);
  return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

Value FloatToInt(double d, const Value& dflt, const Expr& at) {
  if (std::isnan(d)) return dflt;
  if (std::isinf(d)) Fail("cannot convert float infinity to integer", at.line, at.col);
  if (std::fabs(d) >= 9.2e18) Unsupported("integers beyond 64 bits", at.line, at.col);
  return Value::Of(Json(static_cast<int64_t>(std::trunc(d))));
}

Value IntFilter(const Value& v, CallArgs& args, const Expr& at) {
  FilterArgs a("int", args, {"default", "base"}, at);
  Value dflt = a.Has(0) ? *a.Get(0) : Value::Of(Json(0));
  const Json& j = RequireJson(v, at);
  if (j.is_string()) {
    if (auto i = PyParseInt(j.get_ref<const std::string&>(), a.Int(1, 10), at))
      return Value::Of(Json(*i));
    if (auto f = PyParseFloat(j.get_ref<const std::string&>())) return FloatToInt(*f, dflt, at);
    return dflt;
  }
  if (j.is_boolean()) return Value::Of(Json(int64_t{j.get<bool>()}));
  if (j.is_number_integer()) return Value::Of(Json(j.get<int64_t>()));
  if (j.is_number_float()) return FloatToInt(j.get<double>(), dflt, at);
  return dflt;
}

Value FloatFilter(const Value& v, CallArgs& args, const Expr& at) {
  FilterArgs a("float", args, {"default"}, at);
  Value dflt = a.Has(0) ? *a.Get(0) : Value::Of(Json(0.0));
  const Json& j = RequireJson(v, at);
  if (j.is_string()) {
    if (auto f = PyParseFloat(j.get_ref<const std::string&>())) return Value::Of(Json(*f));
    return dflt;
  }
  if (IsNumber(j)) return Value::Of(Json(AsDouble(j)));
  return dflt;
}

Value RoundFilter(const Value& v, CallArgs& args, const Expr& at) {
  FilterArgs a("round", args, {"precision", "method"}, at);
  int64_t prec = a.Int(0, 0);
  std::string method = a.Str(1, "common");
  const Json& j = RequireJson(v, at);
  if (!IsNumber(j))
    Fail("type " + TypeName(j) + " doesn't define __round__ method", at.line, at.col);
  if (prec < 0 || prec > 300) Unsupported("round precision outside 0..300", at.line, at.col);
  if (method != "common" && method != "ceil" && method != "floor")
    Fail("method must be common, ceil or floor", at.line, at.col);
  if (method == "common") {
    if (!j.is_number_float())
      return Value::Of(Json(j.is_boolean() ? int64_t{j.get<bool>()} : j.get<int64_t>()));
    double d = j.get<double>();
    if (!std::isfinite(d)) return v;
    // glibc prints the exact binary value rounded half-even, which is what Python's round does.
    std::vector<char> buf(400);
    std::snprintf(buf.data(), buf.size(), "%.*f", static_cast<int>(prec), d);
    return Value::Of(Json(std::strtod(buf.data(), nullptr)));
  }
  double scale = std::pow(10.0, static_cast<double>(prec));
  double x = AsDouble(j) * scale;
  double r = method == "ceil" ? std::ceil(x) : std::floor(x);
  return Value::Of(Json(r / scale));
}

Value RegexReplaceFilter(const Value& v, CallArgs& args, const Expr& at) {
  FilterArgs a("regex_replace", args,
               {"pattern", "replacement", "ignorecase", "multiline", "count"}, at);
  try {
    return Str(RegexReplace(PyStr(v), a.Str(0, ""), a.Str(1, ""), a.Bool(2, false),
                            a.Bool(3, false), a.Int(4, 0)));
  } catch (RenderError& e) {
    if (e.line == 0) {
      e.line = at.line;
      e.col = at.col;
    }
    throw;
  }
}

Value HostlistFilter(Renderer& r, const Value& v, const Expr& at) {
  const Json& j = RequireJson(v, at);
  if (!j.is_array())
    Fail("hostlist expects a list of host names, got " + TypeName(v), at.line, at.col);
  std::vector<std::string> names;
  for (const Value& e : Elements(r, v, at)) {
    const Json& n = RequireJson(e, at);
    if (!n.is_string())
      Fail("hostlist expects host names (strings), got " + TypeName(n), at.line, at.col);
    names.push_back(n.get<std::string>());
  }
  return Str(hostlist::Compress(names));
}

}  // namespace

Value ApplyFilter(Renderer& r, const std::string& name, const Value& v, CallArgs& args,
                  const Expr& at) {
  if (!IsKnownFilter(name)) Unsupported("filter '" + name + "'", at.line, at.col);
  if (name == "default" || name == "d") {
    FilterArgs a(name, args, {"default_value", "boolean"}, at);
    bool use_default = v.is_undefined() || (a.Bool(1, false) && !Truthy(v));
    if (!use_default) return v;
    return a.Has(0) ? *a.Get(0) : Str("");
  }
  bool handled = false;
  Value seq = SequenceFilter(r, name, v, args, at, &handled);
  if (handled) return seq;
  if (name == "upper" || name == "lower" || name == "capitalize" || name == "title" ||
      name == "string" || name == "safe" || name == "e" || name == "escape") {
    FilterArgs a(name, args, {}, at);
    std::string s = PyStr(v);
    if (name == "upper") return Str(AsciiUpper(s));
    if (name == "lower") return Str(AsciiLower(s));
    if (name == "capitalize") return Str(Capitalize(s));
    if (name == "title") return Str(JinjaTitle(s));
    if (name == "e" || name == "escape") return Str(HtmlEscape(s));
    return Str(s);
  }
  if (name == "trim") {
    FilterArgs a(name, args, {"chars"}, at);
    std::optional<std::string> chars;
    if (a.Has(0) && !a.JsonAt(0).is_null()) chars = a.Str(0, "");
    return Str(PyStrip(PyStr(v), chars, true, true));
  }
  if (name == "replace") {
    FilterArgs a(name, args, {"old", "new", "count"}, at);
    if (!a.Has(0) || !a.Has(1)) Fail("replace needs 'old' and 'new'", at.line, at.col);
    int64_t count = a.Has(2) && !a.JsonAt(2).is_null() ? a.Int(2, -1) : -1;
    return Str(PyReplace(PyStr(v), a.Str(0, ""), a.Str(1, ""), count));
  }
  if (name == "center") {
    FilterArgs a(name, args, {"width"}, at);
    return Str(PyCenter(PyStr(v), a.Int(0, 80)));
  }
  if (name == "indent") {
    FilterArgs a(name, args, {"width", "first", "blank"}, at);
    const Json& j = RequireJson(v, at);
    if (!j.is_string()) Fail("indent expects a string, got " + TypeName(j), at.line, at.col);
    std::string ind;
    if (a.Has(0) && a.JsonAt(0).is_string()) {
      ind = a.JsonAt(0).get<std::string>();
    } else {
      int64_t w = a.Int(0, 4);
      if (w > 1000) Unsupported("indent wider than 1000", at.line, at.col);
      ind = std::string(static_cast<size_t>(std::max<int64_t>(0, w)), ' ');
    }
    return Str(JinjaIndent(j.get<std::string>(), ind, a.Bool(1, false), a.Bool(2, false)));
  }
  if (name == "format") {
    if (!args.kw.empty()) Unsupported("format with keyword arguments", at.line, at.col);
    return Str(PercentFormat(PyStr(v), args.pos, at));
  }
  if (name == "int") return IntFilter(v, args, at);
  if (name == "float") return FloatFilter(v, args, at);
  if (name == "round") return RoundFilter(v, args, at);
  if (name == "abs") {
    FilterArgs a(name, args, {}, at);
    const Json& j = RequireJson(v, at);
    if (j.is_number_float()) return Value::Of(Json(std::fabs(j.get<double>())));
    if (j.is_boolean()) return Value::Of(Json(int64_t{j.get<bool>()}));
    if (j.is_number_integer()) {
      int64_t i = j.get<int64_t>();
      if (i == INT64_MIN) Unsupported("integers beyond 64 bits", at.line, at.col);
      return Value::Of(Json(i < 0 ? -i : i));
    }
    Fail("bad operand type for abs(): '" + TypeName(j) + "'", at.line, at.col);
  }
  if (name == "tojson") {
    FilterArgs a(name, args, {"indent"}, at);
    if (v.seq == SeqKind::kGenerator || v.seq == SeqKind::kDictItems ||
        v.seq == SeqKind::kDictKeys || v.seq == SeqKind::kDictValues)
      Fail("Object of type " + TypeName(v) + " is not JSON serializable", at.line, at.col);
    int indent = -1;
    if (a.Has(0) && !a.JsonAt(0).is_null())
      indent = static_cast<int>(std::clamp<int64_t>(a.Int(0, 0), 0, 100));
    return Str(ToJsonText(RequireJson(v, at), indent));
  }
  if (name == "to_yaml") {
    FilterArgs a(name, args, {}, at);
    if (v.seq != SeqKind::kPlain)
      Fail("to_yaml cannot represent a " + TypeName(v), at.line, at.col);
    try {
      return Str(ToYamlText(RequireJson(v, at)));
    } catch (RenderError& e) {
      if (e.line == 0) {
        e.line = at.line;
        e.col = at.col;
      }
      throw;
    }
  }
  if (name == "regex_replace") return RegexReplaceFilter(v, args, at);
  if (name == "hostlist") {
    FilterArgs a(name, args, {}, at);
    return HostlistFilter(r, v, at);
  }
  Unsupported("filter '" + name + "'", at.line, at.col);
}

}  // namespace racksmith::tmpl
