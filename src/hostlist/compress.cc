// Compression the way `scontrol show hostlist` prints: names are taken in the order given,
// never sorted or de-duplicated. A name joins the previous run when it has the same prefix,
// its number is one more than the run's last and its zero padding is compatible; runs with
// the same prefix that follow each other share one bracket ("n[1-3,7]"). Slurm does not
// fold several dimensions: r1n1,r1n2,r2n1,r2n2 prints r1n[1-2],r2n[1-2].
#include "hostlist/hostlist.h"
#include "hostlist/pattern.h"

namespace racksmith::hostlist {
namespace {

struct Run {
  std::string prefix;  // the whole name when !numbered
  uint64_t lo = 0;
  uint64_t hi = 0;
  int width = 0;
  bool numbered = false;
};

// Splits a name at its trailing digits. A suffix too long for uint64_t is kept as text:
// Slurm would wrap it around and print another name.
Run ParseName(std::string_view name) {
  size_t i = name.size();
  while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') --i;
  size_t digits = name.size() - i;
  if (digits == 0 || digits > static_cast<size_t>(internal::kMaxDigits)) {
    return Run{std::string(name), 0, 0, 0, false};
  }
  Run r{std::string(name.substr(0, i)), 0, 0, static_cast<int>(digits), true};
  for (size_t k = i; k < name.size(); ++k) r.lo = r.lo * 10 + static_cast<uint64_t>(name[k] - '0');
  r.hi = r.lo;
  return r;
}

// Zeros that `num` printed at `width` carries in front.
int ZeroPadding(uint64_t num, int width) {
  int digits = 1;
  while (num /= 10) ++digits;
  return width > digits ? width - digits : 0;
}

// Slurm's rule for whether numbers n (written at *wn) and m (at *wm) can share one width;
// when they can, the width to use is written back to the side that changes.
bool SameWidth(uint64_t n, int* wn, uint64_t m, int* wm) {
  if (*wn == *wm) return true;
  int npad = ZeroPadding(n, *wn);
  int nmpad = ZeroPadding(n, *wm);
  int mpad = ZeroPadding(m, *wm);
  int mnpad = ZeroPadding(m, *wn);
  if (npad != nmpad && mpad != mnpad) return false;
  if (npad != nmpad) {
    *wm = *wn;
  } else {
    *wn = *wm;
  }
  return true;
}

bool SamePrefix(const Run& a, const Run& b) {
  return a.numbered && b.numbered && a.prefix == b.prefix;
}

void AppendNumbers(std::string& out, const Run& r) {
  internal::AppendPadded(out, r.lo, r.width);
  if (r.hi > r.lo) {
    out += '-';
    internal::AppendPadded(out, r.hi, r.width);
  }
}

// Slurm's hostlist: runs pushed one after the other, each joining the last when it can.
class RunList {
 public:
  void Push(Run r) {
    if (!runs_.empty()) {
      Run& tail = runs_.back();
      // Slurm compares widths at the run's first number, not its last.
      if (SamePrefix(tail, r) && tail.hi + 1 == r.lo &&
          SameWidth(tail.lo, &tail.width, r.lo, &r.width)) {
        tail.hi = r.hi;
        return;
      }
    }
    runs_.push_back(std::move(r));
  }

  std::string ToString() const {
    std::string out;
    for (size_t i = 0; i < runs_.size();) {
      if (i > 0) out += ',';
      const Run& first = runs_[i];
      out += first.prefix;
      if (!first.numbered) {
        ++i;
        continue;
      }
      bool bracket =
          first.hi > first.lo || (i + 1 < runs_.size() && SamePrefix(first, runs_[i + 1]));
      if (!bracket) {
        AppendNumbers(out, first);
        ++i;
        continue;
      }
      out += '[';
      AppendNumbers(out, first);
      for (++i; i < runs_.size() && SamePrefix(runs_[i], runs_[i - 1]); ++i) {
        out += ',';
        AppendNumbers(out, runs_[i]);
      }
      out += ']';
    }
    return out;
  }

 private:
  std::vector<Run> runs_;
};

}  // namespace

std::string Compress(const std::vector<std::string>& names) {
  RunList list;
  for (const std::string& name : names) list.Push(ParseName(name));
  return list.ToString();
}

Result<std::string> CompressExpression(std::string_view expression) {
  auto patterns = internal::ParsePatterns(expression);
  if (!patterns.ok()) return patterns.error();
  // Bounds the prefixes walked below ("a[0-999999999]b[1]" has a billion).
  auto total = internal::TotalCount(expression, *patterns);
  if (!total.ok()) return total.error();
  RunList list;
  for (const internal::Pattern& p : *patterns) {
    if (p.groups.empty()) {
      list.Push(ParseName(p.texts[0]));
      continue;
    }
    internal::ForEachPrefix(p, [&](const std::string& prefix) {
      for (const internal::NumberRange& r : p.groups.back().ranges) {
        list.Push(Run{prefix, r.lo, r.hi, r.width, true});
      }
    });
  }
  return list.ToString();
}

}  // namespace racksmith::hostlist
