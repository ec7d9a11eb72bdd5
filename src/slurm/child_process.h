// racksmith/slurm (internal): running programs without a shell.
//
// - Every child gets its own process group, so a timeout or Stop reaches whatever it
//   started too. Arguments go as argv (posix_spawnp), never through /bin/sh.
// - posix_spawn rather than fork: it is safe to call from several threads at once.
// Not a public header of the module: only slurm/*.cc include it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace racksmith::slurm::internal {

struct CommandResult {
  int exit_code = -1;  // the exit status; -N when killed by signal N
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Runs argv[0] (looked up in PATH) with the environment plus `env`, stdin from /dev/null,
/// collecting stdout and stderr. Past `timeout_ms` the child's process group is killed and
/// timed_out is set. kIo only when the program could not be started.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& env, int timeout_ms);

/// Starts a long-running program in its own process group with stdout and stderr appended
/// to `log_path`, from directory `cwd` (empty: the caller's). Returns its pid.
Result<pid_t> SpawnDaemon(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env, const std::string& cwd,
                          const std::string& log_path);

/// True while `pid` (a child of this process) has not exited; reaps it once it has.
bool ChildRunning(pid_t pid);

/// SIGTERM to the process group of `pid`, up to `grace_ms` for it to exit, then SIGKILL;
/// reaps the child. Safe to call for a pid that has already exited.
void StopChild(pid_t pid, int grace_ms);

}  // namespace racksmith::slurm::internal
