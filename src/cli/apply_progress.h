// racksmith/cli (internal to `apply`): how an apply shows itself while it runs.
//
// Three EventSinks for the executor's events (exec/executor.h):
// - JSON lines on stdout (--json): one object per event, the schema in docs/cli.md.
// - Plain lines on stderr (not a TTY): one timestamped line per step start/end, retry,
//   guard check and node result, for logs and CI.
// - Live progress on stderr (a TTY): per phase (step kind) done/total with a bar, running
//   steps, failures as they happen above the bars, and an ETA from the steps' pace.
#pragma once

#include <memory>
#include <ostream>

#include "exec/executor.h"

namespace racksmith::cli {

enum class ProgressStyle { kJsonLines, kPlain, kLive };

/// `plan` must outlive the sink (events point into it).
std::unique_ptr<exec::EventSink> MakeProgressSink(ProgressStyle style, const plan::Plan& plan,
                                                  std::ostream& out, bool color);

/// The final summary: counts, then failed and stopped nodes grouped by reason under
/// hostlists, and where to look next.
std::string RenderApplySummary(const exec::RunSummary& summary);

}  // namespace racksmith::cli
