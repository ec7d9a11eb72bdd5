// Logging for the CLI: human lines on stderr via spdlog. Never log a secret.
#pragma once

namespace racksmith::cli {

/// verbosity 0: warnings and errors; 1: info; 2+: debug.
void SetUpLogging(int verbosity);

}  // namespace racksmith::cli
