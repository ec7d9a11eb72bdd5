#include "template/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace racksmith::tmpl {

void Fail(std::string message, int line, int col) {
  throw RenderError{ErrorCode::kInvalidInput, std::move(message), line, col};
}

void Unsupported(const std::string& what, int line, int col) {
  throw RenderError{ErrorCode::kUnsupported, "not supported: " + what, line, col};
}

Value Value::Undefined(std::string hint) {
  Value v;
  v.kind_ = ValueKind::kUndefined;
  v.hint_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}

Value Value::Macro(std::shared_ptr<const MacroDef> m) {
  Value v;
  v.kind_ = ValueKind::kMacro;
  v.macro_ = std::move(m);
  return v;
}

Value Value::Loop(std::shared_ptr<LoopState> l) {
  Value v;
  v.kind_ = ValueKind::kLoop;
  v.loop_ = std::move(l);
  return v;
}

Value Value::Namespace(std::shared_ptr<Json> ns) {
  Value v;
  v.kind_ = ValueKind::kNamespace;
  v.ns_ = std::move(ns);
  return v;
}

std::string TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "NoneType";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::string:
      return "str";
    case Json::value_t::array:
      return "list";
    case Json::value_t::object:
      return "dict";
    default:
      return "object";
  }
}

std::string TypeName(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return "Undefined";
    case ValueKind::kMacro:
      return "Macro";
    case ValueKind::kLoop:
      return "LoopContext";
    case ValueKind::kNamespace:
      return "Namespace";
    case ValueKind::kJson:
      break;
  }
  if (v.seq == SeqKind::kGenerator) return "generator";
  if (v.seq == SeqKind::kTuple) return "tuple";
  return TypeName(v.json());
}

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's repr layout: fixed for 1e-4 <= |d| < 1e16.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  std::string out = neg ? "-" : "";
  if (exp >= -5 && exp < 16) {
    // Python switches to exponent form when exp < -4.
    if (exp < -4) goto sci;
    if (exp < 0) {
      out += "0." + std::string(-exp - 1, '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exp + 1) {
      out += digits + std::string(exp + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
    }
    return out;
  }
sci:
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char eb[16];
  std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  return out + eb;
}

namespace {

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes decode as themselves.
uint32_t DecodeAt(std::string_view s, size_t& i) {
  unsigned char c = s[i];
  int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 0;
  if (n > 0 && i + n >= s.size()) n = 0;
  uint32_t cp = n == 0 ? c : (c & (0x3f >> n));
  for (int k = 1; k <= n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += n + 1;
  return cp;
}

void AppendStrRepr(std::string& out, std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  out += q;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = DecodeAt(s, i);
    char buf[16];
    if (cp == static_cast<uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      out += buf;
    } else if (cp == 0x2028 || cp == 0x2029) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += q;
}

}  // namespace

void AppendRepr(std::string& out, const Json& j) {
  if (j.is_string()) {
    AppendStrRepr(out, j.get_ref<const std::string&>());
  } else {
    AppendStr(out, j);
  }
}

void AppendStr(std::string& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      out += "None";
      return;
    case Json::value_t::boolean:
      out += j.get<bool>() ? "True" : "False";
      return;
    case Json::value_t::number_integer:
      out += std::to_string(j.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      out += std::to_string(j.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      out += FloatRepr(j.get<double>());
      return;
    case Json::value_t::string:
      out += j.get_ref<const std::string&>();
      return;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : j) {
        if (!first) out += ", ";
        first = false;
        AppendRepr(out, e);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        if (!first) out += ", ";
        first = false;
        AppendStrRepr(out, k);
        out += ": ";
        AppendRepr(out, v);
      }
      out += '}';
      return;
    }
    default:
      out += "<binary>";
  }
}

std::string PyStr(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  std::string out;
  AppendStr(out, j);
  return out;
}

std::string PyRepr(const Json& j) {
  std::string out;
  AppendRepr(out, j);
  return out;
}

namespace {

void AppendTuple(std::string& out, const Json& j) {
  out += '(';
  for (size_t i = 0; i < j.size(); ++i) {
    if (i) out += ", ";
    AppendRepr(out, j[i]);
  }
  if (j.size() == 1) out += ',';
  out += ')';
}

void AppendTupleList(std::string& out, const Json& j) {
  out += '[';
  for (size_t i = 0; i < j.size(); ++i) {
    if (i) out += ", ";
    if (j[i].is_array()) {
      AppendTuple(out, j[i]);
    } else {
      AppendRepr(out, j[i]);
    }
  }
  out += ']';
}

}  // namespace

std::string PyStr(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      Fail(v.undefined_hint());
    case ValueKind::kMacro:
      Unsupported("printing a macro without calling it");
    case ValueKind::kLoop:
      Unsupported("printing the loop object");
    case ValueKind::kNamespace:
      return "<Namespace " + PyStr(*v.ns()) + ">";
    case ValueKind::kJson:
      break;
  }
  std::string out;
  switch (v.seq) {
    case SeqKind::kPlain:
      return PyStr(v.json());
    case SeqKind::kTuple:
      AppendTuple(out, v.json());
      return out;
    case SeqKind::kTupleList:
      AppendTupleList(out, v.json());
      return out;
    case SeqKind::kDictItems:
      out = "dict_items(";
      AppendTupleList(out, v.json());
      return out + ")";
    case SeqKind::kDictKeys:
      return "dict_keys(" + PyStr(v.json()) + ")";
    case SeqKind::kDictValues:
      return "dict_values(" + PyStr(v.json()) + ")";
    case SeqKind::kGenerator:
      Unsupported("printing a generator (Jinja2 prints '<generator object>'); add '|list'");
  }
  return out;
}

bool Truthy(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return j.get<bool>();
    case Json::value_t::number_integer:
      return j.get<int64_t>() != 0;
    case Json::value_t::number_unsigned:
      return j.get<uint64_t>() != 0;
    case Json::value_t::number_float:
      return j.get<double>() != 0.0;
    case Json::value_t::string:
      return !j.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object:
      return !j.empty();
    default:
      return true;
  }
}

bool Truthy(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      Fail(v.undefined_hint());
    case ValueKind::kJson:
      // A generator object is always true in Python, even when it would yield nothing.
      if (v.seq == SeqKind::kGenerator) return true;
      return Truthy(v.json());
    default:
      return true;
  }
}

bool IsNumber(const Json& j) { return j.is_number() || j.is_boolean(); }

double AsDouble(const Json& j) {
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  return j.get<double>();
}

namespace {

bool IsIntLike(const Json& j) { return j.is_number_integer() || j.is_boolean(); }

int64_t AsInt(const Json& j) {
  if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
  return j.get<int64_t>();
}

}  // namespace

bool PyEquals(const Json& a, const Json& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (IsIntLike(a) && IsIntLike(b)) return AsInt(a) == AsInt(b);
    return AsDouble(a) == AsDouble(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!PyEquals(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a.items()) {
      auto it = b.find(k);
      if (it == b.end() || !PyEquals(v, *it)) return false;
    }
    return true;
  }
  return a == b;
}

int PyCompare(const Json& a, const Json& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (IsIntLike(a) && IsIntLike(b)) {
      int64_t x = AsInt(a), y = AsInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = AsDouble(a), y = AsDouble(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    // Byte order of UTF-8 equals code point order.
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_array() && b.is_array()) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (PyEquals(a[i], b[i])) continue;
      return PyCompare(a[i], b[i]);
    }
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
  }
  Fail("'<' not supported between instances of '" + TypeName(a) + "' and '" + TypeName(b) + "'");
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

std::vector<std::string> SplitCodePoints(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    DecodeAt(s, i);
    if (i > s.size()) i = s.size();
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

bool IsPySpace(unsigned char c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t brk = 0;  // bytes of the line break at i
    if (c == '\r') {
      brk = (i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
    } else if (c == '\n' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e)) {
      brk = 1;
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      brk = 2;
    } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
      brk = 3;
    }
    if (brk) {
      lines.push_back(std::move(cur));
      cur.clear();
      i += brk;
    } else {
      cur += static_cast<char>(c);
      ++i;
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}

}  // namespace racksmith::tmpl
