// Unified diffs (as `diff -u` prints them) for check mode and --diff.
#include <algorithm>

#include "playbook/playbook.h"

namespace racksmith::playbook {
namespace {

struct Lines {
  std::vector<std::string_view> lines;
  bool missing_newline = false;  // the last line has no '\n'
};

Lines Split(std::string_view text) {
  Lines out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.lines.push_back(text.substr(pos));
      out.missing_newline = true;
      break;
    }
    out.lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

enum class Op { kKeep, kDel, kAdd };

// Longest common subsequence on lines; past a size limit, the middle (after the common
// prefix and suffix) is shown as one replacement, which is still a correct diff.
std::vector<Op> Edits(const std::vector<std::string_view>& a,
                      const std::vector<std::string_view>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) {
    ++suf;
  }
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<Op> ops(pre, Op::kKeep);
  if (n * m <= 4'000'000) {
    std::vector<uint32_t> dp((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return dp[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1
                                            : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        ops.push_back(Op::kKeep);
        ++i;
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back(Op::kDel);  // deletions first, as diff -u prints them
        ++i;
      } else {
        ops.push_back(Op::kAdd);
        ++j;
      }
    }
  } else {
    ops.insert(ops.end(), n, Op::kDel);
    ops.insert(ops.end(), m, Op::kAdd);
  }
  ops.insert(ops.end(), suf, Op::kKeep);
  return ops;
}

}  // namespace

std::string UnifiedDiff(std::string_view before, std::string_view after,
                        const std::string& before_name, const std::string& after_name) {
  if (before == after) return "";
  Lines a = Split(before), b = Split(after);
  std::vector<Op> ops = Edits(a.lines, b.lines);
  // Positions (in a and b) of each op.
  std::vector<std::pair<size_t, size_t>> pos;
  size_t i = 0, j = 0;
  for (Op op : ops) {
    pos.push_back({i, j});
    if (op != Op::kAdd) ++i;
    if (op != Op::kDel) ++j;
  }
  std::string out = "--- " + before_name + "\n+++ " + after_name + "\n";
  const size_t kContext = 3;
  size_t k = 0;
  bool any = false;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k] == Op::kKeep) ++k;
    if (k == ops.size()) break;
    size_t start = k >= kContext ? k - kContext : 0;
    // Extend the hunk while changes are within 2*context of each other.
    size_t end = k;
    while (true) {
      while (end < ops.size() && ops[end] != Op::kKeep) ++end;
      size_t next = end;
      while (next < ops.size() && ops[next] == Op::kKeep) ++next;
      if (next < ops.size() && next - end <= 2 * kContext) {
        end = next;
        continue;
      }
      end = std::min(ops.size(), end + kContext);
      break;
    }
    size_t a_start = pos[start].first, b_start = pos[start].second;
    size_t a_len = 0, b_len = 0;
    for (size_t x = start; x < end; ++x) {
      if (ops[x] != Op::kAdd) ++a_len;
      if (ops[x] != Op::kDel) ++b_len;
    }
    auto range = [](size_t s, size_t len) {
      std::string r = std::to_string(len == 0 ? s : s + 1);
      if (len != 1) r += "," + std::to_string(len);
      return r;
    };
    out += "@@ -" + range(a_start, a_len) + " +" + range(b_start, b_len) + " @@\n";
    for (size_t x = start; x < end; ++x) {
      auto [ai, bj] = pos[x];
      std::string_view line = ops[x] == Op::kAdd ? b.lines[bj] : a.lines[ai];
      out += ops[x] == Op::kKeep ? ' ' : ops[x] == Op::kDel ? '-' : '+';
      out.append(line);
      out += '\n';
      bool last_a = ops[x] != Op::kAdd && ai + 1 == a.lines.size() && a.missing_newline;
      bool last_b = ops[x] != Op::kDel && bj + 1 == b.lines.size() && b.missing_newline;
      if (last_a || last_b) out += "\\ No newline at end of file\n";
    }
    any = true;
    k = end;
  }
  return any ? out : "";
}

}  // namespace racksmith::playbook
