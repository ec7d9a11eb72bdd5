// MakeScontrol with a stand-in scontrol (a script) that records its argv and answers what
// the test puts in its folder: how scontrol is called, its errors, the timeout. The real
// scontrol against a real slurmctld is in lab_slurm_test.cc.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "slurm/slurm_control.h"
#include "support/temp_dir.h"

namespace racksmith::slurm {
namespace {

// The stand-in reads its answers from $SLURM_CONF, which the tests point at a folder:
// show.out/.err/.rc/.sleep for `show node`, update.* for `update`; argv goes to `args`.
constexpr const char* kScript = R"SH(#!/bin/bash
d="$SLURM_CONF"
printf '%s\n' "$@" >> "$d/args"
echo "--" >> "$d/args"
case "$1" in show) f=show ;; update) f=update ;; *) f=other ;; esac
if [ -f "$d/$f.sleep" ]; then sleep "$(cat "$d/$f.sleep")" & echo $! > "$d/$f.pid"; wait; fi
[ -f "$d/$f.out" ] && cat "$d/$f.out"
[ -f "$d/$f.err" ] && cat "$d/$f.err" >&2
exit "$(cat "$d/$f.rc" 2>/dev/null || echo 0)"
)SH";

struct StandIn {
  racksmith::testing::TempDir dir;
  std::unique_ptr<SlurmControl> slurm;

  explicit StandIn(int timeout_ms = 10'000) {
    std::string script = dir.Write("scontrol", kScript);
    chmod(script.c_str(), 0755);
    ScontrolOptions o;
    o.scontrol = script;
    o.slurm_conf = dir.path();
    o.timeout_ms = timeout_ms;
    slurm = MakeScontrol(o);
  }
  void Answer(const std::string& what, const std::string& out, const std::string& err, int rc) {
    dir.Write(what + ".out", out);
    dir.Write(what + ".err", err);
    dir.Write(what + ".rc", std::to_string(rc));
  }
  std::string Args() const {
    std::ifstream in(dir.Join("args"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

// Running and not a zombie (an orphan's zombie may wait for a reaper that never comes).
bool Alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

const char* kIdleLine =
    "NodeName=lab-n01 CoresPerSocket=1  CPUAlloc=0 CPUTot=64 Gres=gpu:8 State=IDLE "
    "Partitions=lab  CfgTRES=cpu=64,mem=1M,billing=64\n";

TEST_CASE("GetNode runs scontrol show node -o NAME and parses its line", "[slurm]") {
  StandIn s;
  s.Answer("show", kIdleLine, "", 0);
  auto n = s.slurm->GetNode("lab-n01");
  REQUIRE(n.ok());
  CHECK(n->base_state == "IDLE");
  CHECK(n->IsInService());
  CHECK(s.Args() == "show\nnode\n-o\nlab-n01\n--\n");
}

TEST_CASE("Drain passes the reason as one argument, never through a shell", "[slurm]") {
  StandIn s;
  s.Answer("update", "", "", 0);
  std::string reason = "burn-in: gpu3 $(reboot); `id` > /tmp/x 'q' \"dq\"";
  REQUIRE(s.slurm->Drain("lab-n01", reason).ok());
  CHECK(s.Args() == "update\nNodeName=lab-n01\nState=DRAIN\nReason=" + reason + "\n--\n");
}

TEST_CASE("Drain without a reason or with a hostlist is refused before scontrol runs", "[slurm]") {
  StandIn s;
  Status no_reason = s.slurm->Drain("lab-n01", "");
  REQUIRE_FALSE(no_reason.ok());
  CHECK(no_reason.error().code() == ErrorCode::kInvalidInput);
  Status hostlist = s.slurm->Drain("lab-n[01-02]", "x");
  REQUIRE_FALSE(hostlist.ok());
  CHECK(hostlist.error().message() == "slurm: expected a single node name, found \"lab-n[01-02]\"");
  CHECK(s.Args().empty());
}

TEST_CASE("A node scontrol does not know is kNotFound quoting scontrol", "[slurm]") {
  StandIn s;
  s.Answer("show", "Node nosuch not found\n", "", 1);
  auto n = s.slurm->GetNode("nosuch");
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code() == ErrorCode::kNotFound);
  CHECK(n.error().message() ==
        "slurm: show node nosuch: Slurm does not know this node (scontrol: \"Node nosuch not "
        "found\")");
  s.Answer("update", "", "slurm_update error: Invalid node name specified\n", 1);
  Status d = s.slurm->Drain("nosuch", "r");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("An unreachable controller is kIo with scontrol's message", "[slurm]") {
  StandIn s;
  s.Answer("show", "",
           "slurm_load_node error: Unable to contact slurm controller (connect failure)\n", 1);
  auto n = s.slurm->GetNode("lab-n01");
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code() == ErrorCode::kIo);
  CHECK(n.error().message() ==
        "slurm: show node lab-n01: scontrol exited 1: \"slurm_load_node error: Unable to "
        "contact slurm controller (connect failure)\"");
}

TEST_CASE("Resuming a node already in service succeeds after checking it", "[slurm]") {
  StandIn s;
  s.Answer("update", "", "slurm_update error: Invalid node state specified\n", 1);
  s.Answer("show", kIdleLine, "", 0);
  REQUIRE(s.slurm->Resume("lab-n01").ok());
  CHECK(s.Args() == "update\nNodeName=lab-n01\nState=RESUME\n--\nshow\nnode\n-o\nlab-n01\n--\n");
}

TEST_CASE("Resume refused for a node still drained is kConflict naming its state", "[slurm]") {
  StandIn s;
  s.Answer("update", "", "slurm_update error: Invalid node state specified\n", 1);
  s.Answer("show", "NodeName=lab-n01 State=DOWN+DRAIN Reason=x [root@2024-01-01T00:00:00]\n", "",
           0);
  Status r = s.slurm->Resume("lab-n01");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kConflict);
  CHECK(r.error().message() ==
        "slurm: resume lab-n01: scontrol said \"slurm_update error: Invalid node state "
        "specified\" and the node is DOWN+DRAIN");
}

TEST_CASE("A hung scontrol is killed at the timeout, with what it started", "[slurm]") {
  StandIn s(300);
  s.dir.Write("show.sleep", "30");
  auto start = std::chrono::steady_clock::now();
  auto n = s.slurm->GetNode("lab-n01");
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code() == ErrorCode::kIo);
  CHECK(n.error().message() ==
        "slurm: show node lab-n01: scontrol did not finish in 300 ms (killed)");
  CHECK(took < std::chrono::seconds(5));
  // The script's own `sleep` child was in its process group: gone too.
  std::ifstream pid_file(s.dir.Join("show.pid"));
  int pid = 0;
  pid_file >> pid;
  REQUIRE(pid > 0);
  for (int i = 0; i < 100 && Alive(pid); ++i) usleep(10'000);
  CHECK_FALSE(Alive(pid));
}

TEST_CASE("A missing scontrol binary is kIo naming it", "[slurm]") {
  ScontrolOptions o;
  o.scontrol = "/nonexistent/scontrol";
  auto slurm = MakeScontrol(o);
  auto n = slurm->GetNode("lab-n01");
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code() == ErrorCode::kIo);
  CHECK(n.error().message() ==
        "slurm: show node lab-n01: cannot run /nonexistent/scontrol: No such file or directory");
}

TEST_CASE("Output that is not a node record is an error naming the node", "[slurm]") {
  StandIn s;
  s.Answer("show", "PartitionName=lab Nodes=ALL\n", "", 0);
  auto n = s.slurm->GetNode("lab-n01");
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code() == ErrorCode::kInvalidInput);
  CHECK(n.error().message().rfind("slurm: show node lab-n01: scontrol show node output line 1",
                                  0) == 0);
}

}  // namespace
}  // namespace racksmith::slurm
