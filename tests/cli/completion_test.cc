// `racksmith completion bash` and `racksmith manpage` are generated from the parser's own
// definitions: every subcommand `racksmith --help` lists must appear in both.
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::testing {
namespace {

// The subcommand names under "Subcommands:" in a --help text.
std::set<std::string> SubcommandsIn(const std::string& help) {
  std::set<std::string> names;
  size_t at = help.find("Subcommands:");
  REQUIRE(at != std::string::npos);
  std::regex line(R"(\n  ([a-z][a-z0-9-]*)\s)");
  for (auto it = std::sregex_iterator(help.begin() + at, help.end(), line);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

TEST_CASE("the bash completion script is valid bash and offers every command", "[cli]") {
  CliResult r = RunCli({"completion", "bash"});
  REQUIRE(r.exit_code == 0);
  TempDir dir;
  std::string script = dir.Write("racksmith.bash", r.out);
  CHECK(RunProgram({"bash", "-n", script}).exit_code == 0);

  std::set<std::string> commands = SubcommandsIn(RunCli({"--help"}).out);
  REQUIRE(commands.size() >= 10);
  // What bash offers after "racksmith " with an empty word, computed by the script itself.
  CliResult offered = RunProgram(
      {"bash", "-c",
       "source " + script +
           "; COMP_WORDS=(racksmith ''); COMP_CWORD=1; _racksmith; printf '%s\\n' \"${COMPREPLY[@]}\""});
  REQUIRE(offered.exit_code == 0);
  for (const std::string& c : commands) {
    INFO("command " << c);
    bool offers = ("\n" + offered.out).find("\n" + c + "\n") != std::string::npos;
    CHECK(offers);
  }

  // Nested: after "racksmith bmc power" it offers the power verbs, not the top level.
  CliResult nested = RunProgram(
      {"bash", "-c",
       "source " + script +
           "; COMP_WORDS=(racksmith bmc ''); COMP_CWORD=2; _racksmith; printf '%s\\n' \"${COMPREPLY[@]}\""});
  CHECK(nested.out.find("power\n") != std::string::npos);
  CHECK(nested.out.find("validate\n") == std::string::npos);
}

TEST_CASE("the man page documents every command and the exit codes", "[cli]") {
  CliResult r = RunCli({"manpage"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind(".\\\"", 0) == 0);
  CHECK(r.out.find(".TH RACKSMITH 1") != std::string::npos);
  for (const std::string& c : SubcommandsIn(RunCli({"--help"}).out)) {
    CHECK(r.out.find(".SS \"racksmith " + c) != std::string::npos);
  }
  CHECK(r.out.find(".SH EXIT STATUS") != std::string::npos);
  // man itself renders it without warnings when it is installed.
  TempDir dir;
  std::string page = dir.Write("racksmith.1", r.out);
  CliResult rendered = RunProgram({"sh", "-c", "command -v groff >/dev/null || exit 0; "
                                               "groff -man -Tutf8 -ww -z " + page + " 2>&1"});
  CHECK(rendered.out.empty());
}

}  // namespace
}  // namespace racksmith::testing
