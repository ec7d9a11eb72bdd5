// Python's printf-style formatting ("%-10s %05.2f" % args), as `%` and the format filter use.
#include <cmath>
#include <cstdio>

#include "template/renderer.h"

namespace racksmith::tmpl {

std::string PercentFormat(const std::string& fmt, const std::vector<Value>& args, const Expr& at) {
  std::string out;
  size_t next = 0;
  auto take = [&]() -> const Value& {
    if (next >= args.size()) Fail("not enough arguments for format string", at.line, at.col);
    return args[next++];
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (++i >= fmt.size()) Fail("incomplete format", at.line, at.col);
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    if (fmt[i] == '(') Unsupported("'%(name)s' formatting", at.line, at.col);
    std::string flags;
    while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos)
      flags += fmt[i++];
    std::string width, prec;
    bool has_prec = false;
    auto number = [&](std::string& into) {
      if (i < fmt.size() && fmt[i] == '*') {
        const Json& w = RequireJson(take(), at);
        if (!w.is_number_integer()) Fail("* wants int", at.line, at.col);
        into = std::to_string(w.get<int64_t>());
        ++i;
        return;
      }
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) into += fmt[i++];
    };
    number(width);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      has_prec = true;
      number(prec);
      if (prec.empty()) prec = "0";
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) Fail("incomplete format", at.line, at.col);
    char conv = fmt[i];
    if (width.size() > 4 || prec.size() > 4)
      Unsupported("format widths over 9999", at.line, at.col);
    const Value& arg = take();
    std::string spec = "%" + flags + width + (has_prec ? "." + prec : "");
    char buf[16384];
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conv == 's' ? PyStr(arg) : PyRepr(RequireJson(arg, at));
        if (has_prec) {
          auto cps = SplitCodePoints(s);
          size_t p = std::stoul(prec);
          if (cps.size() > p) {
            s.clear();
            for (size_t k = 0; k < p; ++k) s += cps[k];
          }
        }
        size_t w = width.empty() ? 0 : std::stoul(width);
        size_t len = CodePoints(s);
        if (len < w) {
          if (flags.find('-') != std::string::npos) {
            s += std::string(w - len, ' ');
          } else {
            s = std::string(w - len, ' ') + s;
          }
        }
        out += s;
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        const Json& j = RequireJson(arg, at);
        bool integer_only = conv == 'x' || conv == 'X' || conv == 'o';
        if (!IsNumber(j) || (integer_only && j.is_number_float()))
          Fail(std::string("%") + conv + " format: " +
                   (integer_only ? "an integer is required, not "
                                 : "a real number is required, not ") +
                   TypeName(j),
               at.line, at.col);
        long long v;
        if (j.is_number_float()) {
          double d = j.get<double>();
          if (!std::isfinite(d) || std::fabs(d) > 9.2e18)
            Unsupported("formatting this float as an integer", at.line, at.col);
          v = static_cast<long long>(std::trunc(d));
        } else {
          v = j.is_boolean() ? j.get<bool>() : j.get<long long>();
        }
        if ((integer_only && v < 0) || (conv == 'o' && flags.find('#') != std::string::npos))
          Unsupported("%x/%o of negative numbers and %#o", at.line, at.col);
        std::snprintf(buf, sizeof(buf),
                      (spec + "ll" + (conv == 'i' || conv == 'u' ? 'd' : conv)).c_str(), v);
        out += buf;
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        const Json& j = RequireJson(arg, at);
        if (!IsNumber(j))
          Fail(std::string("must be real number, not ") + TypeName(j), at.line, at.col);
        double d = AsDouble(j);
        if (!std::isfinite(d)) Unsupported("formatting inf or nan with %f/%e/%g", at.line, at.col);
        std::snprintf(buf, sizeof(buf), (spec + conv).c_str(), d);
        out += buf;
        break;
      }
      case 'c': {
        const Json& j = RequireJson(arg, at);
        if (j.is_string() && CodePoints(j.get_ref<const std::string&>()) == 1) {
          out += j.get<std::string>();
        } else if (j.is_number_integer() && j.get<int64_t>() >= 0 && j.get<int64_t>() < 128) {
          out += static_cast<char>(j.get<int64_t>());
        } else {
          Unsupported("%c with this argument", at.line, at.col);
        }
        break;
      }
      default:
        Fail(std::string("unsupported format character '") + conv + "'", at.line, at.col);
    }
  }
  if (next < args.size())
    Fail("not all arguments converted during string formatting", at.line, at.col);
  return out;
}

}  // namespace racksmith::tmpl
