#include "hostlist/pattern.h"

#include <charconv>
#include <cstdio>

#include "hostlist/hostlist.h"

namespace racksmith::hostlist::internal {
namespace {

constexpr uint64_t kSaturated = kMaxHosts + 1;

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return (a >= kSaturated || b >= kSaturated || a + b >= kSaturated) ? kSaturated : a + b;
}

uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  if (a == 0 || b == 0) return 0;
  if (a >= kSaturated || b >= kSaturated || a > kSaturated / b) return kSaturated;
  return a * b >= kSaturated ? kSaturated : a * b;
}

bool IsSeparator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '.' ||
         c == '_';
}

// How a character is named in a message: 'x', or its byte value when not printable.
std::string Describe(std::string_view s, size_t i) {
  if (i >= s.size()) return "end of expression";
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ') return "a space";
  if (c == '\t') return "a tab";
  if (c == '\n' || c == '\r') return "a line break";
  if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  return buf;
}

}  // namespace

void AppendPadded(std::string& out, uint64_t value, int width) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;  // 24 bytes hold any uint64_t
  for (int pad = width - static_cast<int>(end - digits); pad > 0; --pad) out += '0';
  out.append(digits, end);
}

std::string QuoteExpression(std::string_view expression) {
  constexpr size_t kShown = 60;
  std::string out = "\"";
  for (size_t i = 0; i < expression.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(expression[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {  // never put a control character in a message
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (expression.size() > kShown) out += "...";
  return out + "\"";
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view expression) : s_(expression) {}

  Result<std::vector<Pattern>> Run() {
    std::vector<Pattern> patterns;
    size_t last_comma = std::string_view::npos;  // a comma seen since the last name
    while (true) {
      while (pos_ < s_.size() && IsSeparator(s_[pos_])) {
        if (s_[pos_] == ',') {
          if (patterns.empty()) return Fail(pos_, "expected a name before ','");
          if (last_comma != std::string_view::npos) {
            return Fail(pos_, "expected a name between the commas at columns " +
                                  std::to_string(last_comma + 1) + " and " +
                                  std::to_string(pos_ + 1) + ", found none");
          }
          last_comma = pos_;
        }
        ++pos_;
      }
      if (pos_ >= s_.size()) break;
      auto pattern = ParseName();
      if (!pattern.ok()) return pattern.error();
      patterns.push_back(std::move(pattern).value());
      last_comma = std::string_view::npos;
    }
    if (patterns.empty()) return Fail(0, "expected at least one name, found an empty hostlist");
    if (last_comma != std::string_view::npos) {
      return Fail(last_comma, "expected a name after ',', found end of expression");
    }
    return patterns;
  }

 private:
  Error Fail(size_t at, const std::string& what) const {
    int col = static_cast<int>(at) + 1;
    return InvalidInput(
        "hostlist " + QuoteExpression(s_) + " column " + std::to_string(col) + ": " + what,
        SourceLoc{"", 0, col});
  }

  Result<Pattern> ParseName() {
    Pattern p;
    p.column = static_cast<int>(pos_) + 1;
    p.texts.emplace_back();
    size_t text_start = pos_;
    while (pos_ < s_.size() && !IsSeparator(s_[pos_])) {
      char c = s_[pos_];
      if (c == '[') {
        auto group = ParseGroup();
        if (!group.ok()) return group.error();
        p.groups.push_back(std::move(group).value());
        p.texts.emplace_back();
        text_start = pos_;
      } else if (c == ']') {
        return Fail(pos_, "expected a '[' before this ']', found none");
      } else if (IsNameChar(c)) {
        p.texts.back() += c;
        ++pos_;
      } else {
        return Fail(pos_, "expected a letter, digit, '-', '.', '_', '[' or ',', found " +
                              Describe(s_, pos_));
      }
    }
    if (!p.groups.empty()) {
      if (!p.texts.back().empty()) {
        return Fail(text_start, "expected ',' or the end after ']', found \"" + p.texts.back() +
                                    "\" (as in Slurm, text may not follow the last bracket)");
      }
      p.texts.pop_back();
    }
    p.count = 1;
    for (const Group& g : p.groups) p.count = SaturatingMul(p.count, g.count);
    return p;
  }

  // At '['; leaves pos_ after the matching ']'.
  Result<Group> ParseGroup() {
    size_t open = pos_++;
    Group g;
    while (true) {
      if (pos_ >= s_.size()) return Fail(open, "expected ']' to close this '[', found none");
      size_t range_start = pos_;
      auto lo = ParseNumber(open);
      if (!lo.ok()) return lo.error();
      NumberRange r;
      r.lo = r.hi = lo->first;
      r.width = lo->second;
      if (pos_ < s_.size() && s_[pos_] == '-') {
        ++pos_;
        auto hi = ParseNumber(open);
        if (!hi.ok()) return hi.error();
        r.hi = hi->first;
        if (r.hi < r.lo) {
          return Fail(range_start, "expected a range from low to high, found " +
                                       std::string(s_.substr(range_start, pos_ - range_start)) +
                                       " (reversed)");
        }
      }
      g.ranges.push_back(r);
      g.count = SaturatingAdd(g.count, r.hi - r.lo + 1);
      if (pos_ >= s_.size()) return Fail(open, "expected ']' to close this '[', found none");
      if (s_[pos_] == ']') {
        ++pos_;
        return g;
      }
      if (s_[pos_] != ',') {
        return Fail(pos_, "expected ',', '-' or ']' after a number, found " + Describe(s_, pos_));
      }
      ++pos_;
    }
  }

  // A run of digits: its value and its width as written.
  Result<std::pair<uint64_t, int>> ParseNumber(size_t open) {
    size_t start = pos_;
    uint64_t value = 0;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      if (pos_ - start >= static_cast<size_t>(kMaxDigits)) {
        return Fail(start, "expected a number of at most " + std::to_string(kMaxDigits) +
                               " digits, found a longer one");
      }
      value = value * 10 + static_cast<uint64_t>(s_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) {
      if (pos_ >= s_.size()) return Fail(open, "expected ']' to close this '[', found none");
      return Fail(pos_, "expected a digit, found " + Describe(s_, pos_));
    }
    return std::make_pair(value, static_cast<int>(pos_ - start));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Pattern>> ParsePatterns(std::string_view expression) {
  return Parser(expression).Run();
}

Result<uint64_t> TotalCount(std::string_view expression, const std::vector<Pattern>& patterns) {
  uint64_t total = 0;
  for (const Pattern& p : patterns) {
    total += p.count;  // each count is at most kMaxHosts + 1: no overflow
    if (total > kMaxHosts) {
      return InvalidInput("hostlist " + QuoteExpression(expression) + " column " +
                              std::to_string(p.column) + ": expected at most " +
                              std::to_string(kMaxHosts) +
                              " names in all, found more once this name is expanded",
                          SourceLoc{"", 0, p.column});
    }
  }
  return total;
}

std::vector<std::string> FormatGroup(const Group& group) {
  std::vector<std::string> values;
  values.reserve(group.count);
  for (const NumberRange& r : group.ranges) {
    for (uint64_t v = r.lo;; ++v) {
      std::string s;
      AppendPadded(s, v, r.width);
      values.push_back(std::move(s));
      if (v == r.hi) break;
    }
  }
  return values;
}

void ForEachPrefix(const Pattern& p, const std::function<void(const std::string&)>& emit) {
  size_t n = p.groups.size() - 1;  // groups before the last
  std::vector<std::vector<std::string>> values(n);
  size_t length = p.texts[n].size();
  for (size_t i = 0; i < n; ++i) {
    values[i] = FormatGroup(p.groups[i]);
    length += p.texts[i].size() + values[i].back().size();
  }
  // An odometer whose first digit turns fastest.
  std::vector<size_t> index(n, 0);
  while (true) {
    std::string prefix;
    prefix.reserve(length);
    for (size_t i = 0; i < n; ++i) {
      prefix += p.texts[i];
      prefix += values[i][index[i]];
    }
    prefix += p.texts[n];
    emit(prefix);
    size_t k = 0;
    for (; k < n; ++k) {
      if (++index[k] < values[k].size()) break;
      index[k] = 0;
    }
    if (k == n) return;
  }
}

}  // namespace racksmith::hostlist::internal
