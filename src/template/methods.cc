// Python methods templates call on values: dict.items(), str.split(), str.startswith()...
#include "template/renderer.h"
#include "template/text.h"

namespace racksmith::tmpl {
namespace {

const Value* Arg(CallArgs& a, size_t i, const char* name) {
  if (i < a.pos.size()) return &a.pos[i];
  for (auto& [k, v] : a.kw)
    if (k == name) return &v;
  return nullptr;
}

void MaxArgs(CallArgs& a, size_t n, const std::string& m, const Expr& at) {
  if (a.pos.size() + a.kw.size() > n)
    Fail(m + "() takes at most " + std::to_string(n) + " argument(s)", at.line, at.col);
}

std::string StrArg(CallArgs& a, size_t i, const char* name, const std::string& m, const Expr& at) {
  const Value* v = Arg(a, i, name);
  if (!v) Fail(m + "() missing required argument '" + name + "'", at.line, at.col);
  const Json& j = RequireJson(*v, at);
  if (!j.is_string()) Fail(m + "() argument must be str, not " + TypeName(j), at.line, at.col);
  return j.get<std::string>();
}

Value Str(std::string s) { return Value::Of(Json(std::move(s))); }

Value DictMethod(const Value& obj, const std::string& name, CallArgs& args, const Expr& at) {
  const Json& d = obj.json();
  if (name == "items" || name == "keys" || name == "values") {
    MaxArgs(args, 0, name, at);
    Json out = Json::array();
    for (const auto& [k, v] : d.items()) {
      if (name == "items") {
        out.push_back(Json::array({k, v}));
      } else if (name == "keys") {
        out.push_back(k);
      } else {
        out.push_back(v);
      }
    }
    Value r = Value::Of(std::move(out));
    r.seq = name == "items"  ? SeqKind::kDictItems
            : name == "keys" ? SeqKind::kDictKeys
                             : SeqKind::kDictValues;
    return r;
  }
  if (name == "get") {
    MaxArgs(args, 2, name, at);
    const Value* k = Arg(args, 0, "key");
    if (!k) Fail("get() missing required argument 'key'", at.line, at.col);
    const Json& kj = RequireJson(*k, at);
    if (kj.is_string()) {
      auto it = d.find(kj.get_ref<const std::string&>());
      if (it != d.end()) return obj.Child(*it);
    } else if (kj.is_array() || kj.is_object()) {
      Fail("unhashable type: '" + TypeName(kj) + "'", at.line, at.col);
    }
    const Value* dflt = Arg(args, 1, "default");
    return dflt ? *dflt : Value::Of(Json(nullptr));
  }
  Unsupported("the dict method '" + name + "'", at.line, at.col);
}

Value StrMethod(const std::string& s, const std::string& name, CallArgs& args, const Expr& at) {
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    MaxArgs(args, 0, name, at);
    if (name == "upper") return Str(AsciiUpper(s));
    if (name == "lower") return Str(AsciiLower(s));
    if (name == "capitalize") return Str(Capitalize(s));
    return Str(PyTitle(s));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    MaxArgs(args, 1, name, at);
    const Value* c = Arg(args, 0, "chars");
    std::optional<std::string> chars;
    if (c && !RequireJson(*c, at).is_null()) chars = StrArg(args, 0, "chars", name, at);
    return Str(PyStrip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    MaxArgs(args, 2, name, at);
    const Value* sep = Arg(args, 0, "sep");
    const Value* mx = Arg(args, 1, "maxsplit");
    int64_t maxsplit = -1;
    if (mx) {
      const Json& m = RequireJson(*mx, at);
      if (!m.is_number_integer()) Fail("maxsplit must be an integer", at.line, at.col);
      maxsplit = m.get<int64_t>();
    }
    std::optional<std::string> sp;
    if (sep && !RequireJson(*sep, at).is_null()) sp = StrArg(args, 0, "sep", name, at);
    if (sp && sp->empty()) Fail("empty separator", at.line, at.col);
    if (name == "rsplit" && maxsplit >= 0) Unsupported("rsplit() with maxsplit", at.line, at.col);
    Json out = Json::array();
    for (auto& part : PySplit(s, sp, maxsplit)) out.push_back(std::move(part));
    return Value::Of(std::move(out));
  }
  if (name == "startswith" || name == "endswith") {
    MaxArgs(args, 1, name, at);
    const Value* p = Arg(args, 0, "prefix");
    if (!p) Fail(name + "() takes at least 1 argument", at.line, at.col);
    const Json& pj = RequireJson(*p, at);
    std::vector<std::string> options;
    if (pj.is_string()) {
      options.push_back(pj.get<std::string>());
    } else if (pj.is_array() && p->seq == SeqKind::kTuple) {
      for (const auto& e : pj) {
        if (!e.is_string()) Fail(name + "() tuple items must be str", at.line, at.col);
        options.push_back(e.get<std::string>());
      }
    } else {
      Fail(name + " first arg must be str or a tuple of str, not " + TypeName(*p), at.line, at.col);
    }
    for (const auto& o : options) {
      if (o.size() > s.size()) continue;
      if (name == "startswith" ? s.compare(0, o.size(), o) == 0
                               : s.compare(s.size() - o.size(), o.size(), o) == 0)
        return Value::Of(Json(true));
    }
    return Value::Of(Json(false));
  }
  if (name == "replace") {
    MaxArgs(args, 3, name, at);
    std::string old_s = StrArg(args, 0, "old", name, at);
    std::string new_s = StrArg(args, 1, "new", name, at);
    int64_t count = -1;
    if (const Value* c = Arg(args, 2, "count")) {
      const Json& cj = RequireJson(*c, at);
      if (!cj.is_number_integer()) Fail("replace() count must be an integer", at.line, at.col);
      count = cj.get<int64_t>();
    }
    return Str(PyReplace(s, old_s, new_s, count));
  }
  if (name == "join") {
    MaxArgs(args, 1, name, at);
    const Value* it = Arg(args, 0, "iterable");
    if (!it) Fail("join() takes exactly one argument", at.line, at.col);
    const Json& j = RequireJson(*it, at);
    std::string out;
    bool first = true;
    auto add = [&](const Json& e) {
      if (!e.is_string())
        Fail("sequence item: expected str instance, " + TypeName(e) + " found", at.line, at.col);
      if (!first) out += s;
      first = false;
      out += e.get_ref<const std::string&>();
    };
    if (j.is_array()) {
      if (it->seq == SeqKind::kDictItems || it->seq == SeqKind::kTupleList)
        Fail("sequence item 0: expected str instance, tuple found", at.line, at.col);
      for (const auto& e : j) add(e);
    } else if (j.is_object()) {
      for (const auto& [k, v] : j.items()) add(Json(k));
    } else if (j.is_string()) {
      for (auto& c : SplitCodePoints(j.get_ref<const std::string&>())) add(Json(c));
    } else {
      Fail("can only join an iterable", at.line, at.col);
    }
    return Str(std::move(out));
  }
  if (name == "count" || name == "find") {
    MaxArgs(args, 1, name, at);
    std::string sub = StrArg(args, 0, "sub", name, at);
    if (name == "find") {
      size_t p = s.find(sub);
      return Value::Of(Json(
          p == std::string::npos ? int64_t{-1} : static_cast<int64_t>(CodePoints(s.substr(0, p)))));
    }
    if (sub.empty()) return Value::Of(Json(static_cast<int64_t>(CodePoints(s) + 1)));
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value::Of(Json(n));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace") {
    MaxArgs(args, 0, name, at);
    if (s.empty()) return Value::Of(Json(false));
    for (unsigned char c : s) {
      if (c >= 0x80) Unsupported("str." + name + "() on non-ASCII text", at.line, at.col);
      bool ok = name == "isdigit"   ? std::isdigit(c)
                : name == "isalpha" ? std::isalpha(c)
                : name == "isalnum" ? std::isalnum(c)
                                    : IsPySpace(c);
      if (!ok) return Value::Of(Json(false));
    }
    return Value::Of(Json(true));
  }
  if (name == "format")
    Unsupported("str.format(); use the 'format' filter or '%'", at.line, at.col);
  Fail("'str object' has no attribute '" + name + "'", at.line, at.col);
}

}  // namespace

Value CallMethod(Renderer& r, const Value& obj, const std::string& name, CallArgs& args,
                 const Expr& at) {
  (void)r;
  if (obj.kind() == ValueKind::kNamespace || obj.kind() == ValueKind::kMacro)
    Fail("'" + TypeName(obj) + "' object has no callable attribute '" + name + "'", at.line,
         at.col);
  const Json& j = RequireJson(obj, at);
  if (j.is_object() && obj.seq == SeqKind::kPlain) return DictMethod(obj, name, args, at);
  if (j.is_string()) return StrMethod(j.get_ref<const std::string&>(), name, args, at);
  if (j.is_array()) Unsupported("the " + TypeName(obj) + " method '" + name + "'", at.line, at.col);
  Fail("'" + TypeName(obj) + " object' has no attribute '" + name + "'", at.line, at.col);
}

}  // namespace racksmith::tmpl
