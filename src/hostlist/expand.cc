// Expansion in Slurm's order. Slurm expands the last bracket group innermost and the
// groups before it from right to left (outermost first), so for groups G1..Gn the loops
// run, outer to inner, G(n-1), ..., G1, Gn: "a[1-2]b[3-4]" gives a1b3 a1b4 a2b3 a2b4, but
// "a[1-2]b[3-4]c[5-6]" gives a1b3c5 a1b3c6 a2b3c5 a2b3c6 a1b4c5 ...
#include "hostlist/hostlist.h"
#include "hostlist/pattern.h"

namespace racksmith::hostlist {
namespace {

using internal::Pattern;

void ExpandPattern(const Pattern& p, std::vector<std::string>& out) {
  if (p.groups.empty()) {
    out.push_back(p.texts[0]);
    return;
  }
  std::vector<std::string> last = internal::FormatGroup(p.groups.back());
  internal::ForEachPrefix(p, [&](const std::string& prefix) {
    for (const std::string& value : last) out.push_back(prefix + value);
  });
}

}  // namespace

Result<std::vector<std::string>> Expand(std::string_view expression) {
  auto patterns = internal::ParsePatterns(expression);
  if (!patterns.ok()) return patterns.error();
  auto total = internal::TotalCount(expression, *patterns);
  if (!total.ok()) return total.error();
  std::vector<std::string> names;
  names.reserve(*total);
  for (const Pattern& p : *patterns) ExpandPattern(p, names);
  return names;
}

Result<size_t> Count(std::string_view expression) {
  auto patterns = internal::ParsePatterns(expression);
  if (!patterns.ok()) return patterns.error();
  auto total = internal::TotalCount(expression, *patterns);
  if (!total.ok()) return total.error();
  return static_cast<size_t>(*total);
}

}  // namespace racksmith::hostlist
