// Jinja2 filters over sequences: length, first, sort, unique, map, select, dictsort, join...
#include <algorithm>
#include <unordered_set>

#include "template/filters.h"
#include "template/text.h"

namespace racksmith::tmpl {

Value Generator(Json items) {
  Value v = Value::Of(std::move(items));
  v.seq = SeqKind::kGenerator;
  return v;
}

std::vector<Value> Elements(Renderer& r, const Value& v, const Expr& at) {
  std::shared_ptr<const Json> items = r.Iterate(v, at);
  bool tuples = v.seq == SeqKind::kDictItems || v.seq == SeqKind::kTupleList;
  std::vector<Value> out;
  out.reserve(items->size());
  for (const auto& e : *items) {
    out.push_back(Value::ChildOf(items, e));
    if (tuples && e.is_array()) out.back().seq = SeqKind::kTuple;
  }
  return out;
}

Value GetAttrPath(Renderer& r, const Value& item, const std::string& path, const Expr& at) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    // Fast path for the common case, a plain mapping: no key Value to allocate.
    if (!digits && cur.is_json() && cur.seq == SeqKind::kPlain && cur.json().is_object()) {
      auto it = cur.json().find(part);
      if (it != cur.json().end()) {
        cur = cur.Child(*it);
        if (dot == std::string::npos) return cur;
        start = dot + 1;
        continue;
      }
    }
    Value key = digits ? Value::Of(Json(std::stoll(part))) : Value::Of(Json(part));
    if (cur.is_undefined()) Fail(cur.undefined_hint(), at.line, at.col);
    cur = r.GetItem(cur, key, at);
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

namespace {

Json ToElementsJson(const std::vector<Value>& items, const Expr& at) {
  Json out = Json::array();
  for (const Value& v : items) out.push_back(RequireJson(v, at));
  return out;
}

// Sort/unique key: attribute(s) and lower-cased strings unless case_sensitive.
Json KeyOf(Renderer& r, const Value& item, const std::vector<std::string>& attrs,
           bool case_sensitive, const Expr& at) {
  auto post = [&](const Value& v) {
    Json j = RequireJson(v, at);
    if (!case_sensitive && j.is_string()) j = AsciiLower(j.get<std::string>());
    return j;
  };
  if (attrs.empty()) return post(item);
  if (attrs.size() == 1) return post(GetAttrPath(r, item, attrs[0], at));
  Json keys = Json::array();
  for (const auto& a : attrs) keys.push_back(post(GetAttrPath(r, item, a, at)));
  return keys;
}

std::vector<std::string> SplitAttrs(const FilterArgs& a, size_t i) {
  std::vector<std::string> out;
  if (!a.Has(i) || a.JsonAt(i).is_null()) return out;
  for (auto& p : PySplit(a.Str(i, ""), std::string(","), -1))
    out.push_back(PyStrip(p, std::nullopt, true, true));
  return out;
}

std::string HashKey(const Json& j) {
  if (IsNumber(j)) {
    double d = AsDouble(j);
    if (d == std::floor(d) && std::fabs(d) < 9e15)
      return "n" + std::to_string(static_cast<int64_t>(d));
    return "n" + FloatRepr(d);
  }
  if (j.is_array() || j.is_object()) Fail("unhashable type: '" + TypeName(j) + "'");
  return j.dump();
}

Value SelectOrReject(Renderer& r, const std::string& name, const Value& v, CallArgs& args,
                     const Expr& at) {
  bool attr = name == "selectattr" || name == "rejectattr";
  bool select = name == "select" || name == "selectattr";
  if (!args.kw.empty()) Unsupported(name + " with keyword arguments", at.line, at.col);
  size_t next = 0;
  std::string attribute;
  if (attr) {
    if (args.pos.empty()) Fail(name + " needs an attribute name", at.line, at.col);
    attribute = PyStr(args.pos[next++]);
  }
  std::string test;
  if (next < args.pos.size()) test = PyStr(args.pos[next++]);
  if (!test.empty() && !IsKnownTest(test)) Unsupported("test '" + test + "'", at.line, at.col);
  CallArgs test_args;
  test_args.pos.assign(args.pos.begin() + static_cast<long>(next), args.pos.end());
  Json out = Json::array();
  for (const Value& item : Elements(r, v, at)) {
    Value subject = attr ? GetAttrPath(r, item, attribute, at) : item;
    bool ok;
    if (test.empty()) {
      ok = Truthy(subject);
    } else {
      CallArgs ta = test_args;
      ok = r.Test(test, subject, ta, at);
    }
    if (ok == select) out.push_back(RequireJson(item, at));
  }
  return Generator(std::move(out));
}

Value MapFilter(Renderer& r, const Value& v, CallArgs& args, const Expr& at) {
  bool by_attr = false;
  for (auto& [k, val] : args.kw) by_attr |= k == "attribute";
  Json out = Json::array();
  if (by_attr) {
    FilterArgs a("map", args, {"attribute", "default"}, at);
    std::string attribute = a.Str(0, "");
    for (const Value& item : Elements(r, v, at)) {
      Value x = GetAttrPath(r, item, attribute, at);
      if (x.is_undefined() && a.Has(1)) x = *a.Get(1);
      out.push_back(ToJson(x, at));
    }
    return Generator(std::move(out));
  }
  if (args.pos.empty()) Fail("map requires a filter argument", at.line, at.col);
  std::string filter = PyStr(args.pos[0]);
  if (!IsKnownFilter(filter)) Unsupported("filter '" + filter + "'", at.line, at.col);
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  rest.kw = args.kw;
  for (const Value& item : Elements(r, v, at)) {
    CallArgs ra = rest;
    Value x = r.Filter(filter, item, ra, at);
    out.push_back(ToJson(x, at));
  }
  return Generator(std::move(out));
}

Value MinMax(Renderer& r, const std::string& name, const Value& v, CallArgs& args, const Expr& at) {
  FilterArgs a(name, args, {"case_sensitive", "attribute"}, at);
  std::vector<Value> items = Elements(r, v, at);
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  std::vector<std::string> attrs;
  if (a.Has(1) && !a.JsonAt(1).is_null()) attrs.push_back(a.Str(1, ""));
  bool cs = a.Bool(0, false);
  size_t best = 0;
  Json best_key = KeyOf(r, items[0], attrs, cs, at);
  for (size_t i = 1; i < items.size(); ++i) {
    Json k = KeyOf(r, items[i], attrs, cs, at);
    int c = PyCompare(k, best_key);
    if (name == "min" ? c < 0 : c > 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

}  // namespace

Value SequenceFilter(Renderer& r, const std::string& name, const Value& v, CallArgs& args,
                     const Expr& at, bool* handled) {
  *handled = true;
  if (name == "length" || name == "count") {
    FilterArgs a(name, args, {}, at);
    const Json& j = RequireJson(v, at);
    if (v.seq == SeqKind::kGenerator)
      Fail("object of type 'generator' has no len()", at.line, at.col);
    if (j.is_string())
      return Value::Of(Json(static_cast<int64_t>(CodePoints(j.get_ref<const std::string&>()))));
    if (j.is_array() || j.is_object()) return Value::Of(Json(static_cast<int64_t>(j.size())));
    Fail("object of type '" + TypeName(j) + "' has no len()", at.line, at.col);
  }
  if (name == "first" || name == "last") {
    FilterArgs a(name, args, {}, at);
    if (name == "last" && v.seq == SeqKind::kGenerator)
      Fail("'generator' object is not reversible", at.line, at.col);
    std::vector<Value> items = Elements(r, v, at);
    if (items.empty()) return Value::Undefined("No " + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    FilterArgs a(name, args, {}, at);
    Value out = Value::Of(ToElementsJson(Elements(r, v, at), at));
    if (v.seq == SeqKind::kDictItems || v.seq == SeqKind::kTupleList) out.seq = SeqKind::kTupleList;
    return out;
  }
  if (name == "reverse") {
    FilterArgs a(name, args, {}, at);
    const Json& j = RequireJson(v, at);
    if (j.is_string()) {
      auto cps = SplitCodePoints(j.get_ref<const std::string&>());
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value::Of(Json(std::move(out)));
    }
    if (v.seq == SeqKind::kGenerator) Fail("'generator' object is not reversible", at.line, at.col);
    std::vector<Value> items = Elements(r, v, at);
    std::reverse(items.begin(), items.end());
    return Generator(ToElementsJson(items, at));
  }
  if (name == "join") {
    FilterArgs a(name, args, {"d", "attribute"}, at);
    std::string sep = a.Str(0, "");
    std::string out;
    bool first = true;
    for (const Value& item : Elements(r, v, at)) {
      if (!first) out += sep;
      first = false;
      out +=
          PyStr(a.Has(1) && !a.JsonAt(1).is_null() ? GetAttrPath(r, item, a.Str(1, ""), at) : item);
    }
    return Value::Of(Json(std::move(out)));
  }
  if (name == "sort") {
    FilterArgs a(name, args, {"reverse", "case_sensitive", "attribute"}, at);
    std::vector<Value> items = Elements(r, v, at);
    std::vector<std::string> attrs = SplitAttrs(a, 2);
    bool cs = a.Bool(1, false);
    std::vector<std::pair<Json, size_t>> keyed;
    for (size_t i = 0; i < items.size(); ++i)
      keyed.emplace_back(KeyOf(r, items[i], attrs, cs, at), i);
    bool rev = a.Bool(0, false);
    std::stable_sort(keyed.begin(), keyed.end(), [rev](const auto& x, const auto& y) {
      return rev ? PyCompare(y.first, x.first) < 0 : PyCompare(x.first, y.first) < 0;
    });
    Json out = Json::array();
    for (const auto& [k, i] : keyed) out.push_back(RequireJson(items[i], at));
    Value res = Value::Of(std::move(out));
    if (v.seq == SeqKind::kDictItems || v.seq == SeqKind::kTupleList) res.seq = SeqKind::kTupleList;
    return res;
  }
  if (name == "unique") {
    FilterArgs a(name, args, {"case_sensitive", "attribute"}, at);
    std::vector<std::string> attrs;
    if (a.Has(1) && !a.JsonAt(1).is_null()) attrs.push_back(a.Str(1, ""));
    bool cs = a.Bool(0, false);
    std::unordered_set<std::string> seen;
    Json out = Json::array();
    for (const Value& item : Elements(r, v, at)) {
      if (item.seq == SeqKind::kTuple) Unsupported("unique over tuples", at.line, at.col);
      if (seen.insert(HashKey(KeyOf(r, item, attrs, cs, at))).second)
        out.push_back(RequireJson(item, at));
    }
    return Generator(std::move(out));
  }
  if (name == "map") return MapFilter(r, v, args, at);
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
    return SelectOrReject(r, name, v, args, at);
  if (name == "dictsort") {
    FilterArgs a(name, args, {"case_sensitive", "by", "reverse"}, at);
    const Json& j = RequireJson(v, at);
    if (!j.is_object() || v.seq != SeqKind::kPlain)
      Fail("dictsort expects a mapping, got " + TypeName(v), at.line, at.col);
    std::string by = a.Str(1, "key");
    if (by != "key" && by != "value")
      Fail("You can only sort by either 'key' or 'value'", at.line, at.col);
    bool cs = a.Bool(0, false), rev = a.Bool(2, false);
    std::vector<std::pair<Json, Json>> items;
    for (const auto& [k, val] : j.items()) items.emplace_back(Json(k), val);
    auto key = [&](const std::pair<Json, Json>& p) {
      Json x = by == "key" ? p.first : p.second;
      if (!cs && x.is_string()) x = AsciiLower(x.get<std::string>());
      return x;
    };
    std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
      return rev ? PyCompare(key(y), key(x)) < 0 : PyCompare(key(x), key(y)) < 0;
    });
    Json out = Json::array();
    for (auto& [k, val] : items) out.push_back(Json::array({k, val}));
    Value res = Value::Of(std::move(out));
    res.seq = SeqKind::kTupleList;
    return res;
  }
  if (name == "min" || name == "max") return MinMax(r, name, v, args, at);
  if (name == "sum") {
    FilterArgs a(name, args, {"attribute", "start"}, at);
    Json acc = a.Has(1) ? a.JsonAt(1) : Json(0);
    for (const Value& item : Elements(r, v, at)) {
      Value x = a.Has(0) && !a.JsonAt(0).is_null() ? GetAttrPath(r, item, a.Str(0, ""), at) : item;
      const Json& j = RequireJson(x, at);
      if (!IsNumber(j) || !IsNumber(acc))
        Fail("unsupported operand type(s) for +: '" + TypeName(acc) + "' and '" + TypeName(j) + "'",
             at.line, at.col);
      if ((acc.is_number_integer() || acc.is_boolean()) &&
          (j.is_number_integer() || j.is_boolean())) {
        int64_t s;
        int64_t x1 = acc.is_boolean() ? acc.get<bool>() : acc.get<int64_t>();
        int64_t x2 = j.is_boolean() ? j.get<bool>() : j.get<int64_t>();
        if (__builtin_add_overflow(x1, x2, &s))
          Unsupported("integers beyond 64 bits", at.line, at.col);
        acc = s;
      } else {
        acc = AsDouble(acc) + AsDouble(j);
      }
    }
    return Value::Of(std::move(acc));
  }
  *handled = false;
  return Value();
}

}  // namespace racksmith::tmpl
