// HookRunner: which files are hooks, their order, stdin, environment, veto, timeout.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "hook_test_util.h"
#include "hooks/hooks.h"
#include "support/temp_dir.h"

namespace racksmith::hooks {
namespace {

using racksmith::testing::TempDir;
using testing::Exists;
using testing::Lines;
using testing::Slurp;
using testing::WriteHook;

HookRunner MustOpen(const std::string& dir, int64_t timeout_ms = 10'000) {
  HookOptions options;
  options.dir = dir;
  options.timeout_ms = timeout_ms;
  Result<HookRunner> runner = HookRunner::Open(options);
  if (!runner.ok()) FAIL("open hooks: " << runner.error().ToString());
  return std::move(*runner);
}

int64_t MillisSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

// Saves its stdin as stdin-<name> and appends its name to `order`, in the hooks folder (its
// working directory).
constexpr const char* kRecorder =
    "#!/bin/sh\n"
    "name=$(basename \"$0\")\n"
    "cat > \"stdin-$name\"\n"
    "echo \"$name\" >> order\n";

TEST_CASE("hooks run in byte order of their names with the JSON document on stdin", "[hooks]") {
  TempDir tmp;
  for (const char* name : {"20-b", "10-a", "3-c", "10-B"}) {
    WriteHook(tmp.path(), std::string("post-apply.d/") + name, kRecorder);
  }
  HookRunner runner = MustOpen(tmp.path());
  REQUIRE(runner.HooksOf(HookEvent::kPostApply).size() == 4);
  CHECK_FALSE(runner.Has(HookEvent::kPreApply));

  nlohmann::json doc = {{"schema", 1}, {"event", "post-apply"}, {"nodes", {{{"name", "n01"}}}}};
  HookOutcome outcome = runner.Run(HookEvent::kPostApply, doc, {});
  CHECK_FALSE(outcome.vetoed);
  REQUIRE(outcome.results.size() == 4);
  for (const HookResult& r : outcome.results) CHECK(r.ok());
  CHECK(outcome.results[0].name == "post-apply.d/10-B");
  CHECK(Lines(Slurp(tmp.Join("order"))) == std::vector<std::string>{"10-B", "10-a", "20-b", "3-c"});
  CHECK(nlohmann::json::parse(Slurp(tmp.Join("stdin-3-c"))) == doc);
}

TEST_CASE("a pre hook that exits non-zero vetoes with its stderr and later hooks do not run",
          "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "pre-node-step.d/10-ok", "#!/bin/sh\ncat >/dev/null\nexit 0\n");
  WriteHook(tmp.path(), "pre-node-step.d/20-window",
            "#!/bin/sh\necho 'looked at the calendar'\n"
            "printf '  maintenance window closed\\n\\tuntil 18:00  \\n\\n' >&2\nexit 3\n");
  WriteHook(tmp.path(), "pre-node-step.d/30-never", "#!/bin/sh\ntouch ran-30\n");
  HookRunner runner = MustOpen(tmp.path());
  HookOutcome outcome =
      runner.Run(HookEvent::kPreNodeStep, {{"event", "pre-node-step"}}, {7, "n01", "n01/discover"});
  CHECK(outcome.vetoed);
  CHECK(outcome.veto ==
        "vetoed by hook pre-node-step.d/20-window: maintenance window closed; until 18:00");
  REQUIRE(outcome.results.size() == 2);
  CHECK(outcome.results[1].exit_code == 3);
  CHECK(outcome.results[1].out == "looked at the calendar\n");
  CHECK_FALSE(Exists(tmp.Join("ran-30")));

  SECTION("a veto without a word on stderr says how the hook ended") {
    WriteHook(tmp.path(), "pre-apply.d/10-quiet", "#!/bin/sh\nexit 4\n");
    HookOutcome quiet = MustOpen(tmp.path()).Run(HookEvent::kPreApply, {}, {});
    CHECK(quiet.veto ==
          "vetoed by hook pre-apply.d/10-quiet: exited with status 4 and wrote nothing on stderr");
  }
  SECTION("a hook that cannot be started vetoes") {
    WriteHook(tmp.path(), "pre-retire.d/10-garbage", "this is not a program\n");
    HookOutcome garbage = MustOpen(tmp.path()).Run(HookEvent::kPreRetire, {}, {});
    CHECK(garbage.vetoed);
    CHECK(garbage.veto.find("vetoed by hook pre-retire.d/10-garbage: cannot start: ") == 0);
  }
}

TEST_CASE("a failing post hook is a warning and the hooks after it still run", "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "post-node-step.d/10-fail", "#!/bin/sh\necho broken >&2\nexit 1\n");
  WriteHook(tmp.path(), "post-node-step.d/20-ok", "#!/bin/sh\ntouch ran-20\n");
  HookOutcome outcome =
      MustOpen(tmp.path()).Run(HookEvent::kPostNodeStep, {{"event", "post-node-step"}}, {});
  CHECK_FALSE(outcome.vetoed);
  CHECK(outcome.veto.empty());
  REQUIRE(outcome.results.size() == 2);
  CHECK_FALSE(outcome.results[0].ok());
  CHECK(outcome.results[0].err == "broken\n");
  CHECK(outcome.results[1].ok());
  CHECK(Exists(tmp.Join("ran-20")));
}

TEST_CASE("a hook past its timeout is killed with everything in its process group", "[hooks]") {
  TempDir tmp;
  // The background job would leave a mark after 1 s if the process group survived.
  WriteHook(tmp.path(), "pre-apply.d/10-slow",
            "#!/bin/sh\necho 'about to hang' >&2\n"
            "( sleep 1; touch survived ) &\nsleep 30\n");
  HookRunner runner = MustOpen(tmp.path(), 300);
  auto start = std::chrono::steady_clock::now();
  HookOutcome outcome = runner.Run(HookEvent::kPreApply, {{"event", "pre-apply"}}, {});
  CHECK(MillisSince(start) < 5'000);
  CHECK(outcome.vetoed);
  CHECK(outcome.veto ==
        "vetoed by hook pre-apply.d/10-slow: timed out after 0.3 s (about to hang)");
  REQUIRE(outcome.results.size() == 1);
  CHECK(outcome.results[0].timed_out);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK_FALSE(Exists(tmp.Join("survived")));

  SECTION("a hook that ignores SIGTERM is killed a second later") {
    WriteHook(tmp.path(), "post-apply.d/10-stubborn", "#!/bin/sh\ntrap '' TERM\nsleep 30\n");
    auto t = std::chrono::steady_clock::now();
    HookOutcome stubborn = MustOpen(tmp.path(), 200).Run(HookEvent::kPostApply, {}, {});
    CHECK(MillisSince(t) < 5'000);
    REQUIRE(stubborn.results.size() == 1);
    CHECK(stubborn.results[0].timed_out);
    CHECK(stubborn.results[0].exit_code == -SIGKILL);
    CHECK_FALSE(stubborn.vetoed);  // post-*: a warning only
  }
}

TEST_CASE("a hook's exit does not wait for what it left running", "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "post-apply.d/10-leaves-a-child", "#!/bin/sh\nsleep 30 &\nexit 0\n");
  auto start = std::chrono::steady_clock::now();
  HookOutcome outcome = MustOpen(tmp.path()).Run(HookEvent::kPostApply, {}, {});
  CHECK(MillisSince(start) < 5'000);
  REQUIRE(outcome.results.size() == 1);
  CHECK(outcome.results[0].ok());
}

TEST_CASE("files that are not executable, backups, dotfiles and folders are not hooks", "[hooks]") {
  TempDir tmp;
  const char* body = "#!/bin/sh\ntouch \"ran-$(basename \"$0\")\"\n";
  WriteHook(tmp.path(), "post-apply.d/10-run", body);
  WriteHook(tmp.path(), "post-apply.d/20-not-executable", body, 0644);
  WriteHook(tmp.path(), "post-apply.d/10-run~", body);
  WriteHook(tmp.path(), "post-apply.d/.hidden", body);
  WriteHook(tmp.path(), "post-apply.d/30-x.dpkg-old", body);
  WriteHook(tmp.path(), "post-apply.d/#40-x#", body);
  WriteHook(tmp.path(), "post-apply.d/50-x.bak", body);
  WriteHook(tmp.path(), "post-apply.d/60-folder/inside", body);
  HookRunner runner = MustOpen(tmp.path());
  REQUIRE(runner.HooksOf(HookEvent::kPostApply).size() == 1);
  CHECK(runner.HooksOf(HookEvent::kPostApply)[0] == tmp.Join("post-apply.d/10-run"));
  HookOutcome outcome = runner.Run(HookEvent::kPostApply, {}, {});
  CHECK(outcome.results.size() == 1);
  CHECK(Exists(tmp.Join("ran-10-run")));
  CHECK_FALSE(Exists(tmp.Join("ran-20-not-executable")));
}

TEST_CASE("hooks get a clean environment without the caller's secrets", "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "post-node-step.d/10-env", "#!/bin/sh\nenv > env.txt\n");
  setenv("RACKSMITH_LAB_BMC_PASSWORD", "hunter2-bmc", 1);
  setenv("RS_HOOK_TEST_TOKEN", "hunter2-token", 1);
  HookOptions options;
  options.dir = tmp.path();
  options.env = {{"RACKSMITH_INVENTORY", "inventory/site.yaml"}};
  Result<HookRunner> runner = HookRunner::Open(options);
  REQUIRE(runner.ok());
  HookOutcome outcome = runner->Run(HookEvent::kPostNodeStep, {}, {12, "n07", "n07/burnin"});
  unsetenv("RACKSMITH_LAB_BMC_PASSWORD");
  unsetenv("RS_HOOK_TEST_TOKEN");
  REQUIRE(outcome.results.size() == 1);
  std::string env = Slurp(tmp.Join("env.txt"));
  INFO(env);
  CHECK(env.find("hunter2") == std::string::npos);
  CHECK(env.find("PASSWORD") == std::string::npos);
  for (const char* expected :
       {"RACKSMITH_HOOK_EVENT=post-node-step\n", "RACKSMITH_HOOK_NAME=post-node-step.d/10-env\n",
        "RACKSMITH_RUN_ID=12\n", "RACKSMITH_NODE=n07\n", "RACKSMITH_STEP=n07/burnin\n",
        "RACKSMITH_INVENTORY=inventory/site.yaml\n", "RACKSMITH_HOOK_TIMEOUT=30\n"}) {
    CHECK(env.find(expected) != std::string::npos);
  }
  CHECK(env.find("RACKSMITH_HOOKS_DIR=" + tmp.path() + "\n") != std::string::npos);
  CHECK(env.find("\nPATH=") != std::string::npos);
}

TEST_CASE("a hook that does not read a large document neither blocks nor breaks racksmith",
          "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "post-apply.d/10-ignores-stdin", "#!/bin/sh\nexit 0\n");
  WriteHook(tmp.path(), "post-apply.d/20-counts", "#!/bin/sh\nwc -c\n");
  nlohmann::json doc = {{"blob", std::string(4 * 1024 * 1024, 'x')}};
  HookOptions options;
  options.dir = tmp.path();
  options.max_capture_bytes = 1024;
  Result<HookRunner> runner = HookRunner::Open(options);
  REQUIRE(runner.ok());
  HookOutcome outcome = runner->Run(HookEvent::kPostApply, doc, {});
  REQUIRE(outcome.results.size() == 2);
  CHECK(outcome.results[0].ok());
  CHECK(outcome.results[1].ok());
  CHECK(std::stoul(outcome.results[1].out) == doc.dump().size() + 1);
}

TEST_CASE("hook output is kept only up to its bound", "[hooks]") {
  TempDir tmp;
  WriteHook(tmp.path(), "post-apply.d/10-chatty",
            "#!/bin/sh\nhead -c 300000 /dev/zero | tr '\\0' o\nhead -c 300000 /dev/zero | tr "
            "'\\0' e >&2\n");
  HookOptions options;
  options.dir = tmp.path();
  options.max_capture_bytes = 1000;
  Result<HookRunner> runner = HookRunner::Open(options);
  REQUIRE(runner.ok());
  HookOutcome outcome = runner->Run(HookEvent::kPostApply, {}, {});
  REQUIRE(outcome.results.size() == 1);
  CHECK(outcome.results[0].ok());
  CHECK(outcome.results[0].out == std::string(1000, 'o'));
  CHECK(outcome.results[0].err == std::string(1000, 'e'));
}

TEST_CASE("hooks that others may change are refused when the folder is opened", "[hooks]") {
  TempDir tmp;
  // A folder its group may write holds no hook yet: nothing to refuse.
  WriteHook(tmp.path(), "post-apply.d/README", "not a hook\n", 0644);
  chmod(tmp.path().c_str(), 0775);
  HookOptions empty;
  empty.dir = tmp.path();
  CHECK(HookRunner::Open(empty).ok());
  chmod(tmp.path().c_str(), 0700);
  std::string path = WriteHook(tmp.path(), "pre-apply.d/10-open", "#!/bin/sh\nexit 0\n", 0757);
  HookOptions options;
  options.dir = tmp.path();
  Result<HookRunner> runner = HookRunner::Open(options);
  REQUIRE_FALSE(runner.ok());
  CHECK(runner.error().code() == ErrorCode::kInvalidInput);
  CHECK(runner.error().message().find(path + ": mode 0757 lets everyone write it") !=
        std::string::npos);
}

TEST_CASE("a missing hooks folder has no hooks and a file is not a hooks folder", "[hooks]") {
  TempDir tmp;
  HookOptions options;
  options.dir = tmp.Join("nothing-here");
  Result<HookRunner> runner = HookRunner::Open(options);
  REQUIRE(runner.ok());
  CHECK(runner->Empty());
  CHECK(runner->Run(HookEvent::kPreApply, {}, {}).results.empty());
  options.dir = tmp.Write("a-file", "x");
  CHECK_FALSE(HookRunner::Open(options).ok());
}

TEST_CASE("the default hooks folder sits beside the inventory", "[hooks]") {
  CHECK(DefaultHooksDir("inventory/lab.yaml") == "inventory/hooks");
  CHECK(DefaultHooksDir("/etc/racksmith/inventory") == "/etc/racksmith/hooks");
  CHECK(DefaultHooksDir("/etc/racksmith/inventory/") == "/etc/racksmith/hooks");
  CHECK(DefaultHooksDir("site.yaml") == "hooks");
  CHECK(DefaultHooksDir("inventory") == "hooks");
}

TEST_CASE("a veto reason is one trimmed bounded line", "[hooks]") {
  CHECK(OneLine("  a \n\n b\t c \r\n", 100) == "a; b  c");
  CHECK(OneLine("\x1b[31mred\x1b[0m", 100) == "?[31mred?[0m");
  CHECK(OneLine(std::string(50, 'x'), 10) == "xxxxxxx...");
  CHECK(OneLine("ab\xc3\xa9\xc3\xa9\xc3\xa9", 6) == "ab...");  // never half a UTF-8 character
  CHECK(ParseHookEvent("node-state-change") == HookEvent::kNodeStateChange);
  CHECK_FALSE(ParseHookEvent("pre-aply").has_value());
  CHECK(CanVeto(HookEvent::kPreRetire));
  CHECK_FALSE(CanVeto(HookEvent::kPostBurnin));
}

}  // namespace
}  // namespace racksmith::hooks
