// racksmith/hooks (internal): running one hook executable.
//
// - posix_spawn (safe from several threads at once), no shell: the hook's path is argv[0].
// - The child gets exactly `env` (nothing of the caller's environment), `cwd`, its own
//   process group, default signal handling and an empty signal mask.
// - `input` is written to its stdin while stdout and stderr are read (no deadlock on large
//   documents); a hook that exits without reading its stdin is fine (no SIGPIPE reaches
//   racksmith).
// Not a public header of the module: only hooks/*.cc include it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace racksmith::hooks::internal {

struct ProcessResult {
  int exit_code = -1;  // -N when killed by signal N; -1 when it did not start
  bool timed_out = false;
  std::string start_error;  // set when it could not be started
  std::string out, err;     // at most max_capture bytes each
  int64_t duration_ms = 0;
};

/// Runs `path` with `input` on stdin. Past `timeout_ms` its process group gets SIGTERM and,
/// `grace_ms` later, SIGKILL. When it exits, what it left running in its group is killed.
ProcessResult RunProcess(const std::string& path, const std::string& input,
                         const std::map<std::string, std::string>& env, const std::string& cwd,
                         int64_t timeout_ms, size_t max_capture, int64_t grace_ms = 1000);

}  // namespace racksmith::hooks::internal
