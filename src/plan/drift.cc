// Drift: where what a node has now (read by `plan --refresh`) has moved away from what the
// store records was applied. docs/lifecycle.md, "Drift", specifies the rules.
#include <fmt/format.h>

#include "plan/plan.h"

namespace racksmith::plan {
namespace {

// "12.4" and "12.4.1" agree (nvcc reports major.minor of a toolkit recorded as 12.4.1);
// "550.127.05" and "550.144.03" do not.
bool SameVersion(const std::string& live, const std::string& recorded) {
  if (live == recorded) return true;
  auto prefix = [](const std::string& shorter, const std::string& longer) {
    return longer.size() > shorter.size() && longer.compare(0, shorter.size(), shorter) == 0 &&
           longer[shorter.size()] == '.';
  };
  return prefix(live, recorded) || prefix(recorded, live);
}

std::string Short(const std::string& hash) { return hash.substr(0, 12); }

}  // namespace

std::optional<std::string> DriftOf(const state::ComponentRecord& record,
                                   const LiveComponent& live) {
  const std::string recorded = record.version.empty()
                                   ? "hash " + Short(record.content_hash)
                                   : record.version;
  if (live.missing) {
    return fmt::format("{} is missing on the node ({}), the record says {}", record.component,
                       live.evidence, recorded);
  }
  if (!live.version.empty() && !record.version.empty() &&
      !SameVersion(live.version, record.version)) {
    return fmt::format("{} is {} on the node ({}), the record says {}", record.component,
                       live.version, live.evidence, record.version);
  }
  if (!live.changed_files.empty()) {
    std::string files;
    for (const std::string& f : live.changed_files) files += (files.empty() ? "" : ", ") + f;
    return fmt::format("{}: files it wrote were changed on the node: {}", record.component,
                       files);
  }
  if (!live.hash.empty() && live.hash != record.content_hash) {
    return fmt::format("{} on the node was applied from {} ({}), the record says {}",
                       record.component, Short(live.hash), live.evidence,
                       Short(record.content_hash));
  }
  return std::nullopt;
}

}  // namespace racksmith::plan
