// racksmith's to_yaml: PyYAML safe_dump block style, byte-exact for the values it accepts.
#include <algorithm>
#include <cmath>
#include <regex>

#include "template/text.h"

namespace racksmith::tmpl {

namespace {

uint32_t Decode(const std::string& s, size_t& i) {
  unsigned char c = s[i];
  int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 0;
  if (n > 0 && i + n >= s.size()) n = 0;
  uint32_t cp = n == 0 ? c : (c & (0x3f >> n));
  for (int k = 1; k <= n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += n + 1;
  return cp;
}

}  // namespace

// ---- to_yaml --------------------------------------------------------------------------

namespace {

bool ResolvesToNonString(const std::string& s) {
  static const std::regex kImplicit(
      "(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)"
      "|(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))"
      "|(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
      "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)"
      "|<<|~|null|Null|NULL|=|"
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:"
      "[0-9][0-9](?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?");
  return std::regex_match(s, kImplicit);
}

std::string YamlString(const std::string& s) {
  bool flow_ind = false, block_ind = false, leading_space = false, trailing_space = false;
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) flow_ind = block_ind = true;
  size_t n = s.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    bool followed_ws = i + 1 >= n || s[i + 1] == ' ' || s[i + 1] == '\t';
    bool preceded_ws = i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t';
    if (c < 0x20 || c == 0x7f)
      Unsupported("to_yaml of a string with control characters or line breaks");
    if (i == 0) {
      if (std::string("#,[]{}&*!|>'\"%@`").find(static_cast<char>(c)) != std::string::npos)
        flow_ind = block_ind = true;
      if (c == '?' || c == ':') {
        flow_ind = true;
        if (followed_ws) block_ind = true;
      }
      if (c == '-' && followed_ws) flow_ind = block_ind = true;
    } else {
      if (std::string(",?[]{}").find(static_cast<char>(c)) != std::string::npos) flow_ind = true;
      if (c == ':') {
        flow_ind = true;
        if (followed_ws) block_ind = true;
      }
      if (c == '#' && preceded_ws) flow_ind = block_ind = true;
    }
    if (c == ' ') {
      if (i == 0) leading_space = true;
      if (i == n - 1) trailing_space = true;
    }
  }
  for (size_t i = 0; i < n;) {
    uint32_t cp = Decode(s, i);
    if (cp >= 0x80 && (cp < 0xa0 || (cp >= 0xd800 && cp < 0xe000) || cp == 0xfeff || cp == 0xfffe ||
                       cp == 0xffff || cp == 0x2028 || cp == 0x2029))
      Unsupported("to_yaml of a string with special Unicode characters");
  }
  (void)flow_ind;  // block context: only block indicators forbid plain style
  bool plain = !s.empty() && !leading_space && !trailing_space && !block_ind;
  if (plain && !ResolvesToNonString(s)) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string YamlScalar(const Json& j, bool* plain) {
  *plain = true;
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return j.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
      return std::to_string(j.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(j.get<uint64_t>());
    case Json::value_t::number_float: {
      double d = j.get<double>();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      std::string r = AsciiLower(FloatRepr(d));
      if (r.find('.') == std::string::npos && r.find('e') != std::string::npos)
        r.insert(r.find('e'), ".0");
      return r;
    }
    case Json::value_t::string: {
      std::string s = YamlString(j.get_ref<const std::string&>());
      *plain = s.empty() || s[0] != '\'';
      return s;
    }
    default:
      return "";
  }
}

bool IsCollection(const Json& j) { return (j.is_array() || j.is_object()) && !j.empty(); }

std::string YamlInline(const Json& j) {
  if (j.is_array() && j.empty()) return "[]";
  if (j.is_object() && j.empty()) return "{}";
  bool plain;
  return YamlScalar(j, &plain);
}

void YamlBlock(std::string& out, const Json& j, int indent);

// Writes `j` after "- " or "key:" on the current line.
void YamlValue(std::string& out, const Json& j, int indent, bool in_seq) {
  if (!IsCollection(j)) {
    out += " " + YamlInline(j) + "\n";
    return;
  }
  if (in_seq) {
    // The first line of the nested block continues after "- ".
    std::string nested;
    YamlBlock(nested, j, indent + 2);
    out += " " + nested.substr(static_cast<size_t>(indent + 2));
    return;
  }
  out += "\n";
  YamlBlock(out, j, j.is_array() ? indent : indent + 2);  // sequences in mappings are indentless
}

void YamlBlock(std::string& out, const Json& j, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (j.is_array()) {
    for (const auto& e : j) {
      out += pad + "-";
      YamlValue(out, e, indent, true);
    }
    return;
  }
  std::vector<const std::string*> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(&k);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
  for (const std::string* k : keys) {
    if (CodePoints(*k) >= 128) Unsupported("to_yaml of a mapping key of 128 or more characters");
    out += pad + YamlString(*k) + ":";
    YamlValue(out, j.at(*k), indent, false);
  }
}

}  // namespace

std::string ToYamlText(const Json& j) {
  if (IsCollection(j)) {
    std::string out;
    YamlBlock(out, j, 0);
    return out;
  }
  bool plain = true;
  std::string s = (j.is_array() || j.is_object()) ? YamlInline(j) : YamlScalar(j, &plain);
  if (j.is_array() || j.is_object()) return s + "\n";
  return s + "\n" + (plain ? "...\n" : "");
}

}  // namespace racksmith::tmpl
