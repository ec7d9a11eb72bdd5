#include "template/text.h"

#include <algorithm>
#include <cstdio>
#include <regex>

namespace racksmith::tmpl {

std::string AsciiUpper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return s;
}

std::string AsciiLower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

std::string Capitalize(const std::string& s) {
  std::string out = AsciiLower(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

std::string PyTitle(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
    if (lower && !prev_cased) c = static_cast<char>(c - 32);
    if (upper && prev_cased) c = static_cast<char>(c + 32);
    prev_cased = lower || upper;
  }
  return out;
}

std::string JinjaTitle(const std::string& s) {
  // Jinja2 splits on runs of [-\s({[<] and capitalizes the first character of every piece.
  auto is_delim = [](char c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || IsPySpace(c);
  };
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    bool delim = is_delim(s[i]);
    while (j < s.size() && is_delim(s[j]) == delim) ++j;
    std::string piece = AsciiLower(s.substr(i, j - i));
    if (piece[0] >= 'a' && piece[0] <= 'z') piece[0] = static_cast<char>(piece[0] - 32);
    out += piece;
    i = j;
  }
  return out;
}

std::string PyStrip(const std::string& s, const std::optional<std::string>& chars, bool left,
                    bool right) {
  auto strip = [&](unsigned char c) {
    return chars ? chars->find(static_cast<char>(c)) != std::string::npos : IsPySpace(c);
  };
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && strip(s[b])) ++b;
  if (right)
    while (e > b && strip(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> PySplit(const std::string& s, const std::optional<std::string>& sep,
                                 int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      size_t p = s.find(*sep, start);
      if (p == std::string::npos) break;
      out.push_back(s.substr(start, p - start));
      start = p + sep->size();
    }
    out.push_back(s.substr(start));
    return out;
  }
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsPySpace(s[i])) ++i;
    if (i >= s.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      size_t e = s.size();
      while (e > i && IsPySpace(s[e - 1])) --e;
      out.push_back(s.substr(i, e - i));
      break;
    }
    size_t j = i;
    while (j < s.size() && !IsPySpace(s[j])) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string PyReplace(const std::string& s, const std::string& old_s, const std::string& new_s,
                      int64_t count) {
  std::string out;
  int64_t n = 0;
  if (old_s.empty()) {
    auto cps = SplitCodePoints(s);
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || n < count) {
        out += new_s;
        ++n;
      }
      if (i < cps.size()) out += cps[i];
    }
    return out;
  }
  size_t start = 0;
  while (count < 0 || n < count) {
    size_t p = s.find(old_s, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += new_s;
    start = p + old_s.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

std::string PyCenter(const std::string& s, int64_t width) {
  int64_t len = static_cast<int64_t>(CodePoints(s));
  if (width <= len) return s;
  int64_t marg = width - len;
  int64_t left = marg / 2 + (marg & width & 1);
  return std::string(left, ' ') + s + std::string(marg - left, ' ');
}

std::string JinjaIndent(const std::string& s0, const std::string& ind, bool first, bool blank) {
  std::string s = s0 + "\n";  // Jinja2's quirk so that splitlines keeps a trailing blank line
  std::vector<std::string> lines = SplitLines(s);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + ind;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    if (lines.size() > 1) {
      rv += "\n";
      for (size_t i = 1; i < lines.size(); ++i) {
        if (i > 1) rv += "\n";
        if (!lines[i].empty()) rv += ind;
        rv += lines[i];
      }
    }
  }
  if (first) rv = ind + rv;
  return rv;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

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

void JsonString(std::string& out, const std::string& s) {
  out += '"';
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = Decode(s, i);
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      // Jinja2's htmlsafe_json_dumps escapes these after json.dumps.
      case '<':
        out += "\\u003c";
        continue;
      case '>':
        out += "\\u003e";
        continue;
      case '&':
        out += "\\u0026";
        continue;
      case '\'':
        out += "\\u0027";
        continue;
      default:
        break;
    }
    if (cp >= 0x20 && cp < 0x7f) {
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      out += buf;
    } else {
      uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
      out += buf;
    }
  }
  out += '"';
}

void JsonDump(std::string& out, const Json& j, int indent, int level) {
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(indent * lvl), ' ');
  };
  switch (j.type()) {
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_float: {
      double d = j.get<double>();
      if (std::isnan(d))
        out += "NaN";
      else if (std::isinf(d))
        out += d > 0 ? "Infinity" : "-Infinity";
      else
        out += FloatRepr(d);
      return;
    }
    case Json::value_t::string:
      JsonString(out, j.get_ref<const std::string&>());
      return;
    case Json::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(level + 1);
        JsonDump(out, j[i], indent, level + 1);
      }
      if (indent >= 0) newline(level);
      out += ']';
      return;
    }
    case Json::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::string*> keys;
      for (const auto& [k, v] : j.items()) keys.push_back(&k);
      std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
      out += '{';
      bool first = true;
      for (const std::string* k : keys) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(level + 1);
        JsonString(out, *k);
        out += ": ";
        JsonDump(out, j.at(*k), indent, level + 1);
      }
      if (indent >= 0) newline(level);
      out += '}';
      return;
    }
    default:
      out += PyStr(j);
      return;
  }
}

}  // namespace

std::string ToJsonText(const Json& j, int indent) {
  std::string out;
  JsonDump(out, j, indent, 0);
  return out;
}

// ---- regex_replace --------------------------------------------------------------------

namespace {

std::string TranslatePattern(const std::string& p, bool multiline) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      if (e == 'A' || e == 'Z' || e == 'z' || e == 'g')
        Unsupported(std::string("regex escape \\") + e + " in regex_replace");
      out += c;
      out += e;
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += "\\]", ++i;
      continue;
    }
    if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
      char k = i + 2 < p.size() ? p[i + 2] : '\0';
      if (k != ':' && k != '=' && k != '!')
        Unsupported("regex group syntax '(?" + std::string(1, k) + "' in regex_replace");
    }
    // Python's '$' also matches just before a final newline.
    if (c == '$' && !multiline) {
      out += "(?=\\n?$)";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string RegexReplace(const std::string& value, const std::string& pattern,
                         const std::string& replacement, bool ignorecase, bool multiline,
                         int64_t count) {
  auto flags = std::regex::ECMAScript;
  if (ignorecase) flags |= std::regex::icase;
  if (multiline) flags |= std::regex::multiline;
  std::regex re;
  try {
    re = std::regex(TranslatePattern(pattern, multiline), flags);
  } catch (const std::regex_error& e) {
    Fail("invalid regular expression '" + pattern + "': " + e.what());
  }
  std::string out;
  size_t last = 0;
  int64_t n = 0;
  try {
    for (auto it = std::sregex_iterator(value.begin(), value.end(), re);
         it != std::sregex_iterator() && (count <= 0 || n < count); ++it, ++n) {
      const std::smatch& m = *it;
      out.append(value, last, static_cast<size_t>(m.position(0)) - last);
      for (size_t i = 0; i < replacement.size(); ++i) {
        char c = replacement[i];
        if (c != '\\' || i + 1 >= replacement.size()) {
          out += c;
          continue;
        }
        char e = replacement[++i];
        size_t group = std::string::npos;
        if (std::isdigit(static_cast<unsigned char>(e))) {
          group = static_cast<size_t>(e - '0');
          if (i + 1 < replacement.size() &&
              std::isdigit(static_cast<unsigned char>(replacement[i + 1])))
            group = group * 10 + static_cast<size_t>(replacement[++i] - '0');
        } else if (e == 'g') {
          size_t close = replacement.find('>', i);
          if (i + 1 >= replacement.size() || replacement[i + 1] != '<' ||
              close == std::string::npos)
            Fail("bad group reference in regex_replace replacement");
          std::string g = replacement.substr(i + 2, close - i - 2);
          if (g.empty() || !std::all_of(g.begin(), g.end(), ::isdigit))
            Unsupported("named group references in regex_replace");
          group = std::stoul(g);
          i = close;
        } else if (e == 'n') {
          out += '\n';
          continue;
        } else if (e == 't') {
          out += '\t';
          continue;
        } else if (e == 'r') {
          out += '\r';
          continue;
        } else if (e == '\\') {
          out += '\\';
          continue;
        } else if (std::isalpha(static_cast<unsigned char>(e))) {
          Fail(std::string("bad escape \\") + e + " in regex_replace replacement");
        } else {
          out += '\\';
          out += e;
          continue;
        }
        if (group >= m.size()) Fail("invalid group reference " + std::to_string(group));
        if (m[group].matched) out += m[group].str();
      }
      last = static_cast<size_t>(m.position(0) + m.length(0));
    }
  } catch (const std::regex_error& e) {
    Fail(std::string("regular expression failed: ") + e.what());
  }
  out.append(value, last, std::string::npos);
  return out;
}

}  // namespace racksmith::tmpl
