// Runs the real `racksmith` binary as a user would, for end-to-end CLI tests.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace racksmith::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

struct CliOptions {
  std::map<std::string, std::string> env;  // added to (and overriding) the test's environment
  std::string cwd;                         // empty: the test's cwd
  std::string stdin_text;                  // fed to the child's stdin, then closed
  int timeout_s = 120;                     // the child is killed past this; exit_code is -9
};

/// Runs RACKSMITH_BINARY with `args` and collects its output and exit code.
CliResult RunCli(const std::vector<std::string>& args, const CliOptions& options = {});

/// Runs any program (argv[0] looked up in PATH) the same way.
CliResult RunProgram(const std::vector<std::string>& argv, const CliOptions& options = {});

/// Path of a file in the source tree, e.g. SourcePath("inventory/lab.yaml").
std::string SourcePath(const std::string& relative);
/// Path under the shared test data folder (../shared next to the repo).
std::string SharedPath(const std::string& relative);

}  // namespace racksmith::testing
