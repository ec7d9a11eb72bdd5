// racksmith/base: what every child process racksmith starts gets (slurm tools, hooks).
#pragma once

#include <spawn.h>

namespace racksmith {

/// Initializes `attr` so the child runs in its own process group (a timeout can kill all it
/// started) with no signal blocked and every signal at its default action. The caller
/// destroys it with posix_spawnattr_destroy.
void InitChildSpawnAttributes(posix_spawnattr_t* attr);

}  // namespace racksmith
