// Expression evaluation with Python's operator semantics.
#include <cmath>
#include <limits>

#include "template/renderer.h"

namespace racksmith::tmpl {

const Json& RequireJson(const Value& v, const Expr& at) {
  switch (v.kind()) {
    case ValueKind::kJson:
      return v.json();
    case ValueKind::kUndefined:
      Fail(v.undefined_hint(), at.line, at.col);
    case ValueKind::kNamespace:
      return *v.ns();
    default:
      Unsupported("using a " + TypeName(v) + " as a value", at.line, at.col);
  }
}

Json ToJson(const Value& v, const Expr& at) {
  if (v.is_json() && v.seq != SeqKind::kPlain && v.seq != SeqKind::kTuple)
    Unsupported(
        "storing a " + TypeName(v) + " (dict view, generator or tuple list) in a collection",
        at.line, at.col);
  if (v.kind() == ValueKind::kNamespace)
    Unsupported("storing a namespace in a collection", at.line, at.col);
  return RequireJson(v, at);
}

namespace {

bool IsInt(const Json& j) { return j.is_number_integer() || j.is_boolean(); }
int64_t Int(const Json& j) { return j.is_boolean() ? (j.get<bool>() ? 1 : 0) : j.get<int64_t>(); }

[[noreturn]] void Overflow(const Expr& at) {
  Unsupported("integer results beyond 64 bits", at.line, at.col);
}

[[noreturn]] void BadOperands(const std::string& op, const Json& a, const Json& b, const Expr& at) {
  Fail(
      "unsupported operand type(s) for " + op + ": '" + TypeName(a) + "' and '" + TypeName(b) + "'",
      at.line, at.col);
}

double FloorDivDouble(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, a / b);
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

double ModDouble(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

// Python slice indices for a sequence of length n.
std::vector<size_t> SliceIndices(size_t n, const Value* start, const Value* stop, const Value* step,
                                 const Expr& at) {
  auto get = [&](const Value* v, bool& present) -> int64_t {
    present = false;
    if (!v) return 0;
    const Json& j = RequireJson(*v, at);
    if (j.is_null()) return 0;
    if (!IsInt(j)) Fail("slice indices must be integers or None", at.line, at.col);
    present = true;
    return Int(j);
  };
  bool has_start, has_stop, has_step;
  int64_t st = get(start, has_start), sp = get(stop, has_stop), stp = get(step, has_step);
  if (!has_step) stp = 1;
  if (stp == 0) Fail("slice step cannot be zero", at.line, at.col);
  int64_t len = static_cast<int64_t>(n);
  auto adjust = [&](int64_t i, bool present, int64_t dflt) {
    if (!present) return dflt;
    if (i < 0) i += len;
    if (stp > 0) return std::clamp<int64_t>(i, 0, len);
    return std::clamp<int64_t>(i, -1, len - 1);
  };
  int64_t b = adjust(st, has_start, stp > 0 ? 0 : len - 1);
  int64_t e = adjust(sp, has_stop, stp > 0 ? len : -1);
  std::vector<size_t> out;
  for (int64_t i = b; stp > 0 ? i < e : i > e; i += stp) out.push_back(static_cast<size_t>(i));
  return out;
}

bool IsDictMethod(const std::string& n) {
  return n == "items" || n == "keys" || n == "values" || n == "get" || n == "update" ||
         n == "pop" || n == "copy" || n == "setdefault" || n == "clear" || n == "popitem";
}

}  // namespace

Value Renderer::Eval(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.lit;
    case ExprKind::kName:
      return EvalName(e);
    case ExprKind::kGetAttr: {
      Value obj = Eval(*e.args[0]);
      return GetAttr(obj, e.name, e);
    }
    case ExprKind::kGetItem: {
      Value obj = Eval(*e.args[0]);
      Value key = Eval(*e.args[1]);
      return GetItem(obj, key, e);
    }
    case ExprKind::kSlice: {
      Value obj = Eval(*e.args[0]);
      Value parts[3];
      const Value* p[3] = {nullptr, nullptr, nullptr};
      for (int i = 0; i < 3; ++i) {
        if (e.args[i + 1]) {
          parts[i] = Eval(*e.args[i + 1]);
          p[i] = &parts[i];
        }
      }
      const Json& j = RequireJson(obj, e);
      if (j.is_string()) {
        auto cps = SplitCodePoints(j.get_ref<const std::string&>());
        std::string out;
        for (size_t i : SliceIndices(cps.size(), p[0], p[1], p[2], e)) out += cps[i];
        return Value::Of(Json(std::move(out)));
      }
      if (j.is_array()) {
        Json out = Json::array();
        for (size_t i : SliceIndices(j.size(), p[0], p[1], p[2], e)) out.push_back(j[i]);
        Value v = Value::Of(std::move(out));
        v.seq = obj.seq == SeqKind::kTuple ? SeqKind::kTuple : SeqKind::kPlain;
        if (obj.seq != SeqKind::kPlain && obj.seq != SeqKind::kTuple)
          Unsupported("slicing a " + TypeName(obj), e.line, e.col);
        return v;
      }
      return Value::Undefined("'" + TypeName(j) + " object' is not subscriptable");
    }
    case ExprKind::kCall:
      return EvalCall(e);
    case ExprKind::kFilter:
      return EvalFilter(e);
    case ExprKind::kTest:
      return EvalTest(e);
    case ExprKind::kUnary: {
      Value v = Eval(*e.args[0]);
      if (e.name == "not") return Value::Of(Json(!Truthy(v)));
      const Json& j = RequireJson(v, e);
      if (!IsNumber(j))
        Fail("bad operand type for unary " + e.name + ": '" + TypeName(j) + "'", e.line, e.col);
      if (e.name == "+") return IsInt(j) ? Value::Of(Json(Int(j))) : v;
      if (IsInt(j)) {
        if (Int(j) == std::numeric_limits<int64_t>::min()) Overflow(e);
        return Value::Of(Json(-Int(j)));
      }
      return Value::Of(Json(-j.get<double>()));
    }
    case ExprKind::kBinary:
      return EvalBinary(e);
    case ExprKind::kAnd: {
      Value a = Eval(*e.args[0]);
      return Truthy(a) ? Eval(*e.args[1]) : a;
    }
    case ExprKind::kOr: {
      Value a = Eval(*e.args[0]);
      return Truthy(a) ? a : Eval(*e.args[1]);
    }
    case ExprKind::kCompare:
      return EvalCompare(e);
    case ExprKind::kCond:
      if (Truthy(Eval(*e.args[0]))) return Eval(*e.args[1]);
      // Jinja2 yields a lenient Undefined (prints as nothing) when there is no else.
      return e.args[2] ? Eval(*e.args[2]) : Value::Of(Json(""));
    case ExprKind::kList:
    case ExprKind::kTuple:
    case ExprKind::kDict:
      return EvalSequence(e);
  }
  Fail("internal: unknown expression kind", e.line, e.col);
}

Value Renderer::EvalSequence(const Expr& e) {
  if (e.kind == ExprKind::kDict) {
    Json obj = Json::object();
    for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
      Value k = Eval(*e.args[i]);
      const Json& kj = RequireJson(k, *e.args[i]);
      if (!kj.is_string())
        Unsupported("dict keys that are not strings", e.args[i]->line, e.args[i]->col);
      obj[kj.get<std::string>()] = ToJson(Eval(*e.args[i + 1]), *e.args[i + 1]);
    }
    return Value::Of(std::move(obj));
  }
  Json arr = Json::array();
  for (const auto& a : e.args) {
    Value v = Eval(*a);
    if (v.seq == SeqKind::kTuple) Unsupported("tuples inside a list or tuple", a->line, a->col);
    arr.push_back(ToJson(v, *a));
  }
  Value v = Value::Of(std::move(arr));
  if (e.kind == ExprKind::kTuple) v.seq = SeqKind::kTuple;
  return v;
}

Value Renderer::EvalName(const Expr& e) {
  if (const Value* v = Lookup(e.name)) return *v;
  if (context_.is_object()) {
    auto it = context_.find(e.name);
    if (it != context_.end()) return Value::Ref(*it);
  }
  return Value::Undefined("'" + e.name + "' is undefined");
}

Value Renderer::LoopAttr(const LoopState& l, const std::string& name, const Expr& at) {
  size_t i = l.index0, n = l.length;
  if (name == "index") return Value::Of(Json(static_cast<int64_t>(i + 1)));
  if (name == "index0") return Value::Of(Json(static_cast<int64_t>(i)));
  if (name == "revindex") return Value::Of(Json(static_cast<int64_t>(n - i)));
  if (name == "revindex0") return Value::Of(Json(static_cast<int64_t>(n - i - 1)));
  if (name == "first") return Value::Of(Json(i == 0));
  if (name == "last") return Value::Of(Json(i + 1 == n));
  if (name == "length") return Value::Of(Json(static_cast<int64_t>(n)));
  if (name == "depth") return Value::Of(Json(1));
  if (name == "depth0") return Value::Of(Json(0));
  if (name == "previtem") {
    if (i == 0) return Value::Undefined("there is no previous item");
    return Value::ChildOf(l.items, (*l.items)[i - 1]);
  }
  if (name == "nextitem") {
    if (i + 1 >= n) return Value::Undefined("there is no next item");
    return Value::ChildOf(l.items, (*l.items)[i + 1]);
  }
  Unsupported("loop." + name, at.line, at.col);
}

Value Renderer::GetAttr(const Value& obj, const std::string& name, const Expr& at) {
  switch (obj.kind()) {
    case ValueKind::kUndefined:
      Fail(obj.undefined_hint(), at.line, at.col);
    case ValueKind::kLoop:
      return LoopAttr(*obj.loop(), name, at);
    case ValueKind::kNamespace: {
      auto it = obj.ns()->find(name);
      if (it == obj.ns()->end())
        return Value::Undefined("'Namespace' has no attribute '" + name + "'");
      return Value::Of(*it);
    }
    case ValueKind::kMacro:
      Unsupported("macro attributes", at.line, at.col);
    case ValueKind::kJson:
      break;
  }
  const Json& j = obj.json();
  if (j.is_object() && obj.seq == SeqKind::kPlain) {
    if (IsDictMethod(name))
      Unsupported("referring to the method '" + name + "' without calling it", at.line, at.col);
    auto it = j.find(name);
    if (it != j.end()) return obj.Child(*it);
  }
  return Value::Undefined("'" + TypeName(obj) + " object' has no attribute '" + name + "'");
}

Value Renderer::GetItem(const Value& obj, const Value& key, const Expr& at) {
  if (obj.is_undefined()) Fail(obj.undefined_hint(), at.line, at.col);
  if (obj.kind() == ValueKind::kLoop || obj.kind() == ValueKind::kNamespace) {
    const Json& k = RequireJson(key, at);
    if (k.is_string()) return GetAttr(obj, k.get<std::string>(), at);
    return Value::Undefined("'" + TypeName(obj) + " object' is not subscriptable");
  }
  const Json& j = RequireJson(obj, at);
  const Json& k = RequireJson(key, at);
  if (obj.seq == SeqKind::kGenerator || obj.seq == SeqKind::kDictItems ||
      obj.seq == SeqKind::kDictKeys || obj.seq == SeqKind::kDictValues)
    return Value::Undefined("'" + TypeName(obj) + " object' is not subscriptable");
  if (j.is_object()) {
    if (k.is_string()) {
      auto it = j.find(k.get_ref<const std::string&>());
      if (it != j.end()) return obj.Child(*it);
      if (IsDictMethod(k.get<std::string>()))
        Unsupported("referring to the method '" + k.get<std::string>() + "' without calling it",
                    at.line, at.col);
    }
    if (k.is_array() || k.is_object())
      Fail("unhashable type: '" + TypeName(k) + "'", at.line, at.col);
    return Value::Undefined("'" + TypeName(obj) + " object' has no attribute " + PyRepr(k));
  }
  if ((j.is_array() || j.is_string()) && IsInt(k)) {
    int64_t i = Int(k);
    if (j.is_array()) {
      int64_t n = static_cast<int64_t>(j.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n)
        return Value::Undefined(TypeName(obj) + " object has no element " + std::to_string(Int(k)));
      return obj.Child(j[static_cast<size_t>(i)]);
    }
    auto cps = SplitCodePoints(j.get_ref<const std::string&>());
    int64_t n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n)
      return Value::Undefined("str object has no element " + std::to_string(Int(k)));
    return Value::Of(Json(cps[static_cast<size_t>(i)]));
  }
  return Value::Undefined("'" + TypeName(obj) + " object' has no attribute " + PyRepr(k));
}

std::shared_ptr<const Json> Renderer::Iterate(const Value& v, const Expr& at) {
  if (v.kind() == ValueKind::kNamespace || v.kind() == ValueKind::kLoop ||
      v.kind() == ValueKind::kMacro)
    Fail("'" + TypeName(v) + "' object is not iterable", at.line, at.col);
  const Json& j = RequireJson(v, at);
  if (j.is_array()) return v.json_ptr();
  if (j.is_object()) {
    auto keys = std::make_shared<Json>(Json::array());
    for (const auto& [k, val] : j.items()) keys->push_back(k);
    return keys;
  }
  if (j.is_string()) {
    auto chars = std::make_shared<Json>(Json::array());
    for (auto& c : SplitCodePoints(j.get_ref<const std::string&>())) chars->push_back(std::move(c));
    return chars;
  }
  Fail("'" + TypeName(j) + "' object is not iterable", at.line, at.col);
}

Value Renderer::EvalBinary(const Expr& e) {
  Value av = Eval(*e.args[0]);
  Value bv = Eval(*e.args[1]);
  const std::string& op = e.name;
  if (op == "~") return Value::Of(Json(PyStr(av) + PyStr(bv)));
  const Json& a = RequireJson(av, *e.args[0]);
  const Json& b = RequireJson(bv, *e.args[1]);
  bool nums = IsNumber(a) && IsNumber(b);
  bool ints = IsInt(a) && IsInt(b);
  int64_t r = 0;
  if (op == "+") {
    if (ints) {
      if (__builtin_add_overflow(Int(a), Int(b), &r)) Overflow(e);
      return Value::Of(Json(r));
    }
    if (nums) return Value::Of(Json(AsDouble(a) + AsDouble(b)));
    if (a.is_string() && b.is_string())
      return Value::Of(Json(a.get<std::string>() + b.get<std::string>()));
    if (a.is_array() && b.is_array() &&
        (av.seq == SeqKind::kTuple) == (bv.seq == SeqKind::kTuple) &&
        (av.seq == SeqKind::kPlain || av.seq == SeqKind::kTuple) &&
        (bv.seq == SeqKind::kPlain || bv.seq == SeqKind::kTuple)) {
      CheckItems(a.size() + b.size(), e);
      Json out = a;
      for (const auto& x : b) out.push_back(x);
      Value v = Value::Of(std::move(out));
      v.seq = av.seq;
      return v;
    }
    BadOperands("+", a, b, e);
  }
  if (op == "-") {
    if (ints) {
      if (__builtin_sub_overflow(Int(a), Int(b), &r)) Overflow(e);
      return Value::Of(Json(r));
    }
    if (nums) return Value::Of(Json(AsDouble(a) - AsDouble(b)));
    BadOperands("-", a, b, e);
  }
  if (op == "*") {
    if (ints) {
      if (__builtin_mul_overflow(Int(a), Int(b), &r)) Overflow(e);
      return Value::Of(Json(r));
    }
    if (nums) return Value::Of(Json(AsDouble(a) * AsDouble(b)));
    const Json* seq = (a.is_string() || a.is_array()) && IsInt(b)   ? &a
                      : (b.is_string() || b.is_array()) && IsInt(a) ? &b
                                                                    : nullptr;
    if (seq && (av.seq == SeqKind::kPlain || av.seq == SeqKind::kTuple) &&
        (bv.seq == SeqKind::kPlain || bv.seq == SeqKind::kTuple)) {
      int64_t times = std::max<int64_t>(0, Int(seq == &a ? b : a));
      size_t unit = seq->is_string() ? seq->get_ref<const std::string&>().size() : seq->size();
      if (unit && static_cast<uint64_t>(times) > options().max_output_bytes / unit)
        Fail("repetition result exceeds the output limit", e.line, e.col);
      if (seq->is_string()) {
        std::string out;
        for (int64_t i = 0; i < times; ++i) out += seq->get_ref<const std::string&>();
        return Value::Of(Json(std::move(out)));
      }
      CheckItems(unit * static_cast<size_t>(times), e);
      Json out = Json::array();
      for (int64_t i = 0; i < times; ++i)
        for (const auto& x : *seq) out.push_back(x);
      Value v = Value::Of(std::move(out));
      v.seq = (seq == &a ? av : bv).seq;
      return v;
    }
    BadOperands("*", a, b, e);
  }
  if (op == "/") {
    if (!nums) BadOperands("/", a, b, e);
    if (AsDouble(b) == 0) Fail("division by zero", e.line, e.col);
    if (ints) return Value::Of(Json(static_cast<double>(Int(a)) / static_cast<double>(Int(b))));
    return Value::Of(Json(AsDouble(a) / AsDouble(b)));
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.is_string()) {
      std::vector<Value> args;
      if (bv.seq == SeqKind::kTuple) {
        for (const auto& x : b) args.push_back(bv.Child(x));
      } else if (b.is_object()) {
        Unsupported("'%' formatting with a mapping", e.line, e.col);
      } else {
        args.push_back(bv);
      }
      return Value::Of(Json(PercentFormat(a.get<std::string>(), args, e)));
    }
    if (!nums) BadOperands(op, a, b, e);
    if (ints) {
      int64_t x = Int(a), y = Int(b);
      if (y == 0) Fail("integer division or modulo by zero", e.line, e.col);
      if (x == std::numeric_limits<int64_t>::min() && y == -1) Overflow(e);
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::Of(Json(op == "//" ? q : m));
    }
    double x = AsDouble(a), y = AsDouble(b);
    if (y == 0) Fail(op == "//" ? "float floor division by zero" : "float modulo", e.line, e.col);
    return Value::Of(Json(op == "//" ? FloorDivDouble(x, y) : ModDouble(x, y)));
  }
  if (op == "**") {
    if (!nums) BadOperands("**", a, b, e);
    if (ints && Int(b) >= 0) {
      int64_t base = Int(a), exp = Int(b), acc = 1;
      while (exp > 0) {
        if (exp & 1)
          if (__builtin_mul_overflow(acc, base, &acc)) Overflow(e);
        exp >>= 1;
        if (exp && __builtin_mul_overflow(base, base, &base)) Overflow(e);
      }
      return Value::Of(Json(acc));
    }
    double x = AsDouble(a), y = AsDouble(b);
    if (x == 0 && y < 0) Fail("0.0 cannot be raised to a negative power", e.line, e.col);
    if (x < 0 && y != std::floor(y)) Unsupported("complex numbers", e.line, e.col);
    double res = std::pow(x, y);
    if (std::isinf(res) && !std::isinf(x)) Fail("numerical result out of range", e.line, e.col);
    return Value::Of(Json(res));
  }
  Fail("internal: unknown operator " + op, e.line, e.col);
}

namespace {

bool Contains(const Value& hay, const Json& h, const Json& needle, const Expr& at) {
  if (h.is_string()) {
    if (!needle.is_string())
      Fail("'in <string>' requires string as left operand, not " + TypeName(needle), at.line,
           at.col);
    return h.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) !=
           std::string::npos;
  }
  if (h.is_object() && hay.seq == SeqKind::kPlain) {
    if (needle.is_array() || needle.is_object())
      Fail("unhashable type: '" + TypeName(needle) + "'", at.line, at.col);
    return needle.is_string() && h.contains(needle.get_ref<const std::string&>());
  }
  if (h.is_array()) {
    if (hay.seq == SeqKind::kGenerator) Unsupported("'in' on a generator", at.line, at.col);
    for (const auto& x : h)
      if (PyEquals(x, needle)) return true;
    return false;
  }
  Fail("argument of type '" + TypeName(h) + "' is not iterable", at.line, at.col);
}

}  // namespace

Value Renderer::EvalCompare(const Expr& e) {
  Value left = Eval(*e.args[0]);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = Eval(*e.args[i + 1]);
    const std::string& op = e.ops[i];
    const Json& a = RequireJson(left, *e.args[i]);
    const Json& b = RequireJson(right, *e.args[i + 1]);
    bool ok;
    if (op == "==") {
      ok = PyEquals(a, b) && (left.seq == SeqKind::kTuple) == (right.seq == SeqKind::kTuple);
    } else if (op == "!=") {
      ok = !(PyEquals(a, b) && (left.seq == SeqKind::kTuple) == (right.seq == SeqKind::kTuple));
    } else if (op == "in" || op == "notin") {
      ok = Contains(right, b, a, e) == (op == "in");
    } else {
      if (a.is_object() || b.is_object() || a.is_null() || b.is_null() ||
          (a.type() != b.type() && !(IsNumber(a) && IsNumber(b))))
        Fail("'" + op + "' not supported between instances of '" + TypeName(a) + "' and '" +
                 TypeName(b) + "'",
             e.line, e.col);
      int c = PyCompare(a, b);
      ok = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    }
    if (!ok) return Value::Of(Json(false));
    left = std::move(right);
  }
  return Value::Of(Json(true));
}

void Renderer::EvalArgs(const Expr& e, size_t first, CallArgs& out) {
  for (size_t i = first; i < e.args.size(); ++i) out.pos.push_back(Eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) out.kw.emplace_back(k, Eval(*v));
}

Value Renderer::EvalCall(const Expr& e) {
  const Expr& callee = *e.args[0];
  CallArgs args;
  if (callee.kind == ExprKind::kGetAttr) {
    Value obj = Eval(*callee.args[0]);
    if (obj.is_undefined()) Fail(obj.undefined_hint(), callee.line, callee.col);
    if (obj.kind() == ValueKind::kLoop) {
      EvalArgs(e, 1, args);
      if (callee.name == "cycle") {
        if (args.pos.empty()) Fail("no items for cycling given", e.line, e.col);
        return args.pos[obj.loop()->index0 % args.pos.size()];
      }
      Unsupported("loop." + callee.name + "()", e.line, e.col);
    }
    if (obj.is_json() && obj.json().is_object() && !IsDictMethod(callee.name)) {
      Value member = GetAttr(obj, callee.name, callee);
      if (member.kind() == ValueKind::kMacro) {
        EvalArgs(e, 1, args);
        return CallMacro(member, args, e);
      }
    }
    EvalArgs(e, 1, args);
    return CallMethod(*this, obj, callee.name, args, e);
  }
  Value fn;
  if (callee.kind == ExprKind::kName) {
    const Value* v = Lookup(callee.name);
    if (!v && !(context_.is_object() && context_.contains(callee.name))) {
      EvalArgs(e, 1, args);
      return CallGlobal(callee.name, args, e);
    }
    fn = v ? *v : Value::Ref(context_[callee.name]);
  } else {
    fn = Eval(callee);
  }
  if (fn.is_undefined()) Fail(fn.undefined_hint(), callee.line, callee.col);
  if (fn.kind() != ValueKind::kMacro)
    Fail("'" + TypeName(fn) + "' object is not callable", e.line, e.col);
  EvalArgs(e, 1, args);
  return CallMacro(fn, args, e);
}

Value Renderer::CallGlobal(const std::string& name, CallArgs& args, const Expr& at) {
  if (name == "range") {
    if (!args.kw.empty() || args.pos.empty() || args.pos.size() > 3)
      Fail("range expects 1 to 3 integer arguments", at.line, at.col);
    int64_t v[3] = {0, 0, 1};
    for (size_t i = 0; i < args.pos.size(); ++i) {
      const Json& j = RequireJson(args.pos[i], at);
      if (!IsInt(j))
        Fail("'" + TypeName(j) + "' object cannot be interpreted as an integer", at.line, at.col);
      v[args.pos.size() == 1 ? 1 : i] = Int(j);
    }
    if (v[2] == 0) Fail("range() arg 3 must not be zero", at.line, at.col);
    Json out = Json::array();
    // Count first so that range(10**12) fails instead of allocating.
    long double span =
        v[2] > 0 ? static_cast<long double>(v[1]) - v[0] : static_cast<long double>(v[0]) - v[1];
    long double count = span <= 0 ? 0 : std::ceil(span / std::fabs(static_cast<long double>(v[2])));
    if (count > static_cast<long double>(options().max_items))
      CheckItems(options().max_items + 1, at);
    for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) out.push_back(i);
    return Value::Of(std::move(out));
  }
  if (name == "dict") {
    if (!args.pos.empty()) Unsupported("dict() with positional arguments", at.line, at.col);
    Json out = Json::object();
    for (auto& [k, v] : args.kw) out[k] = ToJson(v, at);
    return Value::Of(std::move(out));
  }
  if (name == "namespace") {
    if (!args.pos.empty()) Unsupported("namespace() with positional arguments", at.line, at.col);
    auto ns = std::make_shared<Json>(Json::object());
    for (auto& [k, v] : args.kw) (*ns)[k] = ToJson(v, at);
    return Value::Namespace(ns);
  }
  if (name == "lipsum" || name == "cycler" || name == "joiner")
    Unsupported("the global function " + name + "()", at.line, at.col);
  Fail("'" + name + "' is undefined", at.line, at.col);
}

Value Renderer::EvalFilter(const Expr& e) {
  const Expr& in = *e.args[0];
  Value input = Eval(in);
  CallArgs args;
  EvalArgs(e, 1, args);
  return Filter(e.name, input, args, e);
}

Value Renderer::Filter(const std::string& name, const Value& input, CallArgs& args,
                       const Expr& at) {
  return ApplyFilter(*this, name, input, args, at);
}

bool Renderer::Test(const std::string& name, const Value& input, CallArgs& args, const Expr& at) {
  return ApplyTest(*this, name, input, args, at);
}

Value Renderer::EvalTest(const Expr& e) {
  Value input = Eval(*e.args[0]);
  CallArgs args;
  EvalArgs(e, 1, args);
  bool r = Test(e.name, input, args, e);
  return Value::Of(Json(e.negate ? !r : r));
}

}  // namespace racksmith::tmpl
