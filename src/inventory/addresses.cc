// Address lists of a node entry (ip, bmc, mac): expanded in step with the entry's names.
//
// Addresses without ':' are Slurm hostlists (IPv4 ranges per octet: "10.1.0.[11-26]").
// Slurm's syntax has no room for ':', so MACs, IPv6 addresses, "host:port" and URLs use the
// same bracket groups on their own: "[a-b,c]" ranges, several groups as a cartesian product
// with the last group fastest, comma-separated lists at the top level. In a MAC the numbers in
// brackets are hexadecimal ("02:00:00:00:01:[0a-1f]"), padded to the lower bound's width.
#include <cctype>
#include <cstdio>

#include "hostlist/hostlist.h"
#include "inventory/internal.h"

namespace racksmith::inventory::internal {
namespace {

struct Group {
  std::vector<std::string> values;
};

// Parses "lo" or "lo-hi" items of one bracket group into values.
bool ExpandGroup(std::string_view body, bool hex, size_t limit, Group* group, std::string* error) {
  size_t start = 0;
  while (start <= body.size()) {
    size_t comma = body.find(',', start);
    std::string_view item =
        body.substr(start, comma == std::string_view::npos ? body.npos : comma - start);
    size_t dash = item.find('-');
    std::string_view lo = item.substr(0, dash);
    std::string_view hi = dash == std::string_view::npos ? lo : item.substr(dash + 1);
    auto digits = [&](std::string_view s) {
      if (s.empty() || s.size() > 12) return false;
      for (char c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        if (hex ? !std::isxdigit(u) : !std::isdigit(u)) return false;
      }
      return true;
    };
    if (!digits(lo) || !digits(hi)) {
      *error = "expected " + std::string(hex ? "hexadecimal " : "") +
               "numbers or ranges like [1-4] in brackets, found [" + std::string(body) + "]";
      return false;
    }
    int base = hex ? 16 : 10;
    unsigned long long a = std::stoull(std::string(lo), nullptr, base);
    unsigned long long b = std::stoull(std::string(hi), nullptr, base);
    if (b < a) {
      *error = "expected a range from low to high, found [" + std::string(item) + "]";
      return false;
    }
    if (b - a >= limit || group->values.size() + (b - a) >= limit) {
      *error = "expected at most " + std::to_string(limit) + " addresses, found more";
      return false;
    }
    for (unsigned long long v = a; v <= b; ++v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, hex ? "%0*llx" : "%0*llu", static_cast<int>(lo.size()), v);
      group->values.emplace_back(buf);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

// One comma-free pattern: literal text and bracket groups.
bool ExpandPattern(std::string_view text, bool hex, size_t limit, std::vector<std::string>* out,
                   std::string* error) {
  std::vector<std::string> literals(1);
  std::vector<Group> groups;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ']') {
      *error = "expected '[' before ']', found a lone ']'";
      return false;
    }
    if (text[i] != '[') {
      literals.back() += text[i];
      continue;
    }
    size_t close = text.find(']', i);
    if (close == std::string_view::npos) {
      *error = "expected ']' to close '[', found none";
      return false;
    }
    groups.emplace_back();
    if (!ExpandGroup(text.substr(i + 1, close - i - 1), hex, limit, &groups.back(), error)) {
      return false;
    }
    literals.emplace_back();
    i = close;
  }
  size_t total = 1;
  for (const Group& g : groups) {
    if (g.values.empty() || total > limit / g.values.size()) {
      *error = "expected at most " + std::to_string(limit) + " addresses, found more";
      return false;
    }
    total *= g.values.size();
  }
  if (out->size() + total > limit) {
    *error = "expected at most " + std::to_string(limit) + " addresses, found more";
    return false;
  }
  std::vector<size_t> index(groups.size(), 0);
  for (size_t n = 0; n < total; ++n) {
    std::string s = literals[0];
    for (size_t g = 0; g < groups.size(); ++g) {
      s += groups[g].values[index[g]];
      s += literals[g + 1];
    }
    out->push_back(std::move(s));
    for (size_t g = groups.size(); g-- > 0;) {  // last group fastest
      if (++index[g] < groups[g].values.size()) break;
      index[g] = 0;
    }
  }
  return true;
}

}  // namespace

bool ExpandAddresses(std::string_view text, bool mac, std::vector<std::string>* out,
                     std::string* error) {
  out->clear();
  if (text.empty()) {
    *error = "expected an address, found an empty string";
    return false;
  }
  if (!mac && text.find(':') == std::string_view::npos) {
    Result<std::vector<std::string>> expanded = hostlist::Expand(text);
    if (!expanded.ok()) {
      *error = expanded.error().message();
      return false;
    }
    *out = std::move(*expanded);
    return true;
  }
  size_t depth = 0, start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '[') ++depth;
    if (i < text.size() && text[i] == ']' && depth > 0) --depth;
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      std::string_view part = text.substr(start, i - start);
      if (part.empty()) {
        *error = "expected an address between commas, found nothing";
        return false;
      }
      if (!ExpandPattern(part, mac, kMaxNodes, out, error)) return false;
      start = i + 1;
    }
  }
  return true;
}

bool NormalizeMac(std::string* mac) {
  std::string out;
  int digits = 0, run = 0;
  for (char c : *mac) {
    if (c == ':' || c == '-') {
      if (run != 2) return false;
      run = 0;
      out += ':';
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ++digits;
    ++run;
  }
  if (digits != 12 || run != 2 || out.size() != 17) return false;
  *mac = out;
  return true;
}

}  // namespace racksmith::inventory::internal
