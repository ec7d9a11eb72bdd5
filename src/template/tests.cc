// Jinja2 tests (`x is defined`, `n is divisibleby 3`).
#include <cmath>
#include <set>

#include "template/renderer.h"

namespace racksmith::tmpl {

bool IsKnownTest(const std::string& name) {
  static const std::set<std::string> kTests = {
      "defined", "undefined", "none",        "number",  "string", "mapping", "sequence", "iterable",
      "in",      "eq",        "equalto",     "==",      "ne",     "!=",      "lt",       "lessthan",
      "<",       "gt",        "greaterthan", ">",       "le",     "<=",      "ge",       ">=",
      "even",    "odd",       "divisibleby", "boolean", "true",   "false",   "integer",  "float",
      "lower",   "upper",     "sameas",      "callable"};
  return kTests.count(name) > 0;
}

namespace {

const Value& Arg(CallArgs& a, size_t i, const char* name, const std::string& test, const Expr& at) {
  if (i < a.pos.size()) return a.pos[i];
  for (auto& [k, v] : a.kw)
    if (k == name) return v;
  Fail("test '" + test + "' is missing its argument '" + name + "'", at.line, at.col);
}

bool AllCase(const std::string& s, bool lower) {
  bool cased = false;
  for (unsigned char c : s) {
    if (std::isalpha(c)) {
      cased = true;
      if (lower ? std::isupper(c) : std::islower(c)) return false;
    } else if (c >= 0x80) {
      Unsupported("case tests on non-ASCII text");
    }
  }
  return cased;
}

}  // namespace

bool ApplyTest(Renderer& r, const std::string& name, const Value& v, CallArgs& args,
               const Expr& at) {
  if (!IsKnownTest(name)) Unsupported("test '" + name + "'", at.line, at.col);
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "callable") return v.kind() == ValueKind::kMacro;
  // Type tests are false for Undefined (isinstance never raises).
  bool json = v.is_json();
  bool plain = json && v.seq == SeqKind::kPlain;
  const Json* j = json ? &v.json() : nullptr;
  if (name == "none") return json && j->is_null();
  if (name == "number") return json && IsNumber(*j);
  if (name == "integer") return json && j->is_number_integer();
  if (name == "float") return json && j->is_number_float();
  if (name == "boolean") return json && j->is_boolean();
  if (name == "true") return json && j->is_boolean() && j->get<bool>();
  if (name == "false") return json && j->is_boolean() && !j->get<bool>();
  if (name == "string") return json && j->is_string();
  if (name == "mapping") return (plain && j->is_object()) || v.kind() == ValueKind::kNamespace;
  if (name == "sequence")
    return json &&
           (j->is_string() || j->is_object() || (j->is_array() && v.seq != SeqKind::kGenerator));
  if (name == "sameas") {
    const Json& o = RequireJson(Arg(args, 0, "other", name, at), at);
    if (!json) return false;
    if ((j->is_null() || j->is_boolean()) && (o.is_null() || o.is_boolean()))
      return j->type() == o.type() && *j == o;
    if (j->is_null() || j->is_boolean() || o.is_null() || o.is_boolean()) return false;
    Unsupported("'sameas' on values other than none/true/false", at.line, at.col);
  }
  if (name == "iterable") {
    if (v.is_undefined()) Fail(v.undefined_hint(), at.line, at.col);
    return json && (j->is_string() || j->is_array() || j->is_object());
  }
  const Json& x = RequireJson(v, at);
  if (name == "lower" || name == "upper") return AllCase(PyStr(v), name == "lower");
  if (name == "even" || name == "odd" || name == "divisibleby") {
    Json d = name == "divisibleby" ? RequireJson(Arg(args, 0, "num", name, at), at) : Json(2);
    if (!IsNumber(x) || !IsNumber(d))
      Fail("unsupported operand type(s) for %: '" + TypeName(x) + "' and '" + TypeName(d) + "'",
           at.line, at.col);
    double m;
    if ((x.is_number_integer() || x.is_boolean()) && (d.is_number_integer() || d.is_boolean())) {
      int64_t dv = static_cast<int64_t>(AsDouble(d));
      if (dv == 0) Fail("integer division or modulo by zero", at.line, at.col);
      int64_t xv = x.is_boolean() ? x.get<bool>() : x.get<int64_t>();
      m = static_cast<double>(xv % dv);
    } else {
      if (AsDouble(d) == 0) Fail("float modulo", at.line, at.col);
      m = std::fmod(AsDouble(x), AsDouble(d));
    }
    if (name == "even") return m == 0;
    if (name == "odd") return m != 0 && std::fabs(m) == 1;
    return m == 0;
  }
  if (name == "in") {
    const Json& seq = RequireJson(Arg(args, 0, "seq", name, at), at);
    if (seq.is_string()) {
      if (!x.is_string()) Fail("'in <string>' requires string as left operand", at.line, at.col);
      return seq.get_ref<const std::string&>().find(x.get_ref<const std::string&>()) !=
             std::string::npos;
    }
    if (seq.is_object()) return x.is_string() && seq.contains(x.get_ref<const std::string&>());
    if (seq.is_array()) {
      for (const auto& e : seq)
        if (PyEquals(e, x)) return true;
      return false;
    }
    Fail("argument of type '" + TypeName(seq) + "' is not iterable", at.line, at.col);
  }
  const Json& o = RequireJson(Arg(args, 0, "other", name, at), at);
  if (name == "eq" || name == "equalto" || name == "==") return PyEquals(x, o);
  if (name == "ne" || name == "!=") return !PyEquals(x, o);
  if (x.is_object() || o.is_object() || x.is_null() || o.is_null() ||
      (x.type() != o.type() && !(IsNumber(x) && IsNumber(o))))
    Fail("'<' not supported between instances of '" + TypeName(x) + "' and '" + TypeName(o) + "'",
         at.line, at.col);
  int c = PyCompare(x, o);
  if (name == "lt" || name == "lessthan" || name == "<") return c < 0;
  if (name == "gt" || name == "greaterthan" || name == ">") return c > 0;
  if (name == "le" || name == "<=") return c <= 0;
  if (name == "ge" || name == ">=") return c >= 0;
  (void)r;
  Unsupported("test '" + name + "'", at.line, at.col);
}

}  // namespace racksmith::tmpl
