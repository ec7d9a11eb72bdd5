// ParseShowNodes and NodeInfo against real scontrol output.
//
// Sources of the formats:
// - tests/slurm/data/: `scontrol show node [-o]` captured from a real slurmctld 22.05.8
//   (see data/README.md).
// - ../shared/slurm-outputs/: sinfo and `scontrol show partition` from a production cluster
//   (facebookresearch/gcm tests): real state words (drain*, drained$, mixed), real reasons
//   ("replace", by root at 2022-06-02T05:54:34) and GRES strings (gpu:gen:8(S:0-1)).
// - Older Slurm (<= 20.11) printed not responding as a `*` on the base state
//   (`State=DOWN*+DRAIN`, `State=IDLE*`): scontrol(1) "NODE STATE", sinfo(1) "NODE STATE
//   CODES" ("The suffix '*' identifies nodes that are presently not responding").
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "slurm/slurm_control.h"
#include "support/cli_runner.h"

namespace racksmith::slurm {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Capture(const std::string& name) {
  return ReadFile(racksmith::testing::SourcePath("tests/slurm/data/" + name));
}

NodeInfo ParseOne(const std::string& text) {
  auto r = ParseShowNodes(text);
  INFO(text);
  if (!r.ok()) FAIL(r.error().ToString());
  REQUIRE(r->size() == 1);
  return r->front();
}

TEST_CASE("A real one-line record of an unregistered node parses every field", "[slurm]") {
  auto r = ParseShowNodes(Capture("show-node-o-two-unknown.txt"));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  const NodeInfo& n = (*r)[0];
  CHECK(n.name == "lab-n01");
  CHECK((*r)[1].name == "lab-n02");
  CHECK(n.base_state == "UNKNOWN");
  CHECK(n.flags.empty());
  CHECK(n.cpus_total == 64);
  CHECK(n.cpus_alloc == 0);
  CHECK(n.gres == "gpu:8");
  CHECK(n.partitions == std::vector<std::string>{"lab"});
  CHECK(n.reason.empty());
  CHECK(n.fields.at("NodeAddr") == "127.0.0.1");
  CHECK(n.fields.at("CfgTRES") == "cpu=64,mem=1M,billing=64");
  CHECK(n.fields.at("AllocTRES").empty());
  CHECK(n.fields.at("AvailableFeatures") == "(null)");
  CHECK_FALSE(n.IsDrained());
  CHECK_FALSE(n.IsInService());
}

TEST_CASE("A real drained record gives the reason without the user and time", "[slurm]") {
  NodeInfo n = ParseOne(Capture("show-node-o-unknown-drain.txt"));
  CHECK(n.StateText() == "UNKNOWN+DRAIN");
  CHECK(n.reason == "racksmith: burn-in failed");
  CHECK(n.fields.at("Reason") == "racksmith: burn-in failed [root@2026-11-30T09:35:21]");
  CHECK(n.IsDrained());
  CHECK_FALSE(n.IsInService());
}

TEST_CASE("The multi-line form parses to the same node as the one-line form", "[slurm]") {
  NodeInfo one = ParseOne(Capture("show-node-o-unknown-drain.txt"));
  NodeInfo multi = ParseOne(Capture("show-node-multiline-unknown-drain.txt"));
  CHECK(multi.name == one.name);
  CHECK(multi.StateText() == one.StateText());
  CHECK(multi.reason == one.reason);
  CHECK(multi.cpus_total == one.cpus_total);
  CHECK(multi.gres == one.gres);
  CHECK(multi.partitions == one.partitions);
  CHECK(multi.fields == one.fields);
}

TEST_CASE("A node drained while running a job is draining, not drained", "[slurm]") {
  NodeInfo n = ParseOne(Capture("show-node-o-mixed-drain.txt"));
  CHECK(n.base_state == "MIXED");
  CHECK(n.HasFlag("DRAIN"));
  CHECK(n.cpus_alloc == 1);
  CHECK_FALSE(n.IsDrained());
  CHECK(n.RunsJobs());
  CHECK_FALSE(n.IsInService());
  CHECK(n.reason == "drain while busy");
  // A value with spaces that is not Reason runs until the next Key= word.
  CHECK(n.fields.at("OS") == "Linux 6.18.44-fc-v782 #1 SMP PREEMPT_DYNAMIC @0");
  CHECK(n.fields.at("RealMemory") == "1");
  CHECK(n.fields.at("Version") == "22.05.8");
}

TEST_CASE("Not responding is read from a star and from the NOT_RESPONDING flag", "[slurm]") {
  NodeInfo old_style =
      ParseOne("NodeName=n1 CPUTot=8 State=DOWN*+DRAIN Reason=x [root@2024-01-01T00:00:00]");
  CHECK(old_style.base_state == "DOWN");
  CHECK(old_style.HasFlag("DRAIN"));
  CHECK(old_style.HasFlag("NOT_RESPONDING"));
  CHECK(old_style.IsDrained());
  NodeInfo new_style = ParseOne("NodeName=n1 CPUTot=8 State=IDLE+DRAIN+NOT_RESPONDING");
  CHECK(new_style.IsDrained());
  CHECK(new_style.StateText() == "IDLE+DRAIN+NOT_RESPONDING");
  NodeInfo idle_star = ParseOne("NodeName=n1 CPUTot=8 State=IDLE*");
  CHECK(idle_star.base_state == "IDLE");
  CHECK(idle_star.flags == std::vector<std::string>{"NOT_RESPONDING"});
  CHECK_FALSE(idle_star.IsInService());
  CHECK_FALSE(idle_star.IsDrained());
}

TEST_CASE("In service means IDLE, ALLOCATED or MIXED without DRAIN", "[slurm]") {
  CHECK(ParseOne("NodeName=n1 State=IDLE").IsInService());
  CHECK(ParseOne("NodeName=n1 State=MIXED CPUAlloc=4").IsInService());
  NodeInfo completing = ParseOne("NodeName=n1 CPUAlloc=8 State=ALLOCATED+COMPLETING");
  CHECK(completing.IsInService());
  CHECK_FALSE(completing.IsDrained());
  CHECK_FALSE(ParseOne("NodeName=n1 State=DOWN").IsInService());
  CHECK_FALSE(ParseOne("NodeName=n1 State=IDLE+DRAIN").IsInService());
  CHECK_FALSE(ParseOne("NodeName=n1 State=FUTURE").IsInService());
  // The epilog of the last job still runs: not yet drained.
  CHECK_FALSE(ParseOne("NodeName=n1 State=IDLE+COMPLETING+DRAIN").IsDrained());
  CHECK(ParseOne("NodeName=n1 State=DOWN+DRAIN").IsDrained());
}

TEST_CASE("Jobs run on a node while allocated, mixed, CPUs allocated or completing", "[slurm]") {
  CHECK(ParseOne("NodeName=n1 State=ALLOCATED").RunsJobs());
  CHECK(ParseOne("NodeName=n1 State=MIXED+DRAIN").RunsJobs());
  CHECK(ParseOne("NodeName=n1 State=IDLE CPUAlloc=2").RunsJobs());
  CHECK(ParseOne("NodeName=n1 State=IDLE+COMPLETING+DRAIN").RunsJobs());
  CHECK_FALSE(ParseOne("NodeName=n1 State=IDLE").RunsJobs());
  CHECK_FALSE(ParseOne("NodeName=n1 State=DOWN+DRAIN").RunsJobs());
  CHECK_FALSE(ParseOne(Capture("show-node-o-unknown-drain.txt")).RunsJobs());
}

TEST_CASE("A reason runs to its [user@time] stamp even with Key=value words in it", "[slurm]") {
  NodeInfo n = ParseOne(
      "NodeName=n1 State=IDLE+DRAIN Reason=gpu3 temp=95C (limit=90) [slurm@2024-05-01T10:00:00] "
      "Comment=rack 7");
  CHECK(n.reason == "gpu3 temp=95C (limit=90)");
  CHECK(n.fields.at("Comment") == "rack 7");
  CHECK(n.fields.count("temp") == 0);
}

TEST_CASE("A reason without a stamp runs until the next Key= word", "[slurm]") {
  NodeInfo n = ParseOne("NodeName=n1 State=DOWN Reason=Not responding Weight=1");
  CHECK(n.reason == "Not responding");
  CHECK(n.fields.at("Weight") == "1");
}

TEST_CASE("Gres (null) means no GRES", "[slurm]") {
  CHECK(ParseOne("NodeName=n1 State=IDLE Gres=(null)").gres.empty());
  CHECK(ParseOne("NodeName=n1 State=IDLE Gres=gpu:a100:8(S:0-1)").gres == "gpu:a100:8(S:0-1)");
}

TEST_CASE("Empty output is no nodes", "[slurm]") {
  auto r = ParseShowNodes("");
  REQUIRE(r.ok());
  CHECK(r->empty());
  CHECK(ParseShowNodes("\n\n")->empty());
}

Error ParseError(const std::string& text) {
  auto r = ParseShowNodes(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kInvalidInput);
  return r.error();
}

TEST_CASE("Malformed output is an error naming the line", "[slurm]") {
  CHECK(ParseError("NodeName=n1 State=IDLE\ngarbage here\n").message() ==
        "scontrol show node output line 2: expected a line starting NodeName=, found \"garbage\"");
  CHECK(ParseError("NodeName=n1 CPUTot=many State=IDLE").message() ==
        "scontrol show node output line 1: node n1: expected a number for CPUTot=, found "
        "\"many\"");
  CHECK(ParseError("NodeName=n1 CPUTot=4").message() ==
        "scontrol show node output line 1: node n1: no State= field");
  CHECK(ParseError("NodeName=n1 State=idle").message() ==
        "scontrol show node output line 1: node n1: expected an upper-case state word, found "
        "State=\"idle\"");
  CHECK(ParseError("   State=IDLE").message() ==
        "scontrol show node output line 1: indented line before any NodeName= line");
  CHECK(ParseError("NodeName= State=IDLE").message() ==
        "scontrol show node output line 1: expected NodeName=NAME, found an empty name");
}

TEST_CASE("Real scontrol show partition output is refused as node output", "[slurm]") {
  std::string text =
      ReadFile(racksmith::testing::SharedPath("slurm-outputs/sample-scontrol-output.txt"));
  Error e = ParseError(text);
  CHECK(e.message() ==
        "scontrol show node output line 1: expected a line starting NodeName=, found "
        "\"PartitionName=partition1\"");
  CHECK(e.where().line == 1);
}

// sinfo's long state words as scontrol's State= (sinfo(1) NODE STATE CODES).
std::string StateFromSinfo(std::string word) {
  std::string flags;
  if (!word.empty() && word.back() == '*') {
    word.pop_back();
    flags = "+NOT_RESPONDING";
  } else if (!word.empty() && word.back() == '$') {
    word.pop_back();
    flags = "+MAINTENANCE";
  }
  if (word == "drained") return "IDLE+DRAIN" + flags;
  std::string upper;
  for (char c : word) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper + flags;
}

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

TEST_CASE("Real sinfo rows written as scontrol records parse back to their values", "[slurm]") {
  // Every row of the production sinfo sample, with its real host, state, CPUs, GRES and
  // reason, written in scontrol's one-line format (as in data/), must read back unchanged.
  std::istringstream in(
      ReadFile(racksmith::testing::SharedPath("slurm-outputs/sample-sinfo-output.txt")));
  std::string header_line, row;
  REQUIRE(std::getline(in, header_line));
  auto split = [](const std::string& line) {
    std::vector<std::string> cols;
    std::istringstream s(line);
    for (std::string c; std::getline(s, c, '|');) cols.push_back(Trim(c));
    return cols;
  };
  std::vector<std::string> header = split(header_line);
  auto col = [&](const char* name, int nth = 0) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name && nth-- == 0) return i;
    }
    FAIL("no column " << name);
    return size_t{0};
  };
  int rows = 0, drained = 0;
  while (std::getline(in, row)) {
    std::vector<std::string> c = split(row);
    REQUIRE(c.size() >= header.size() - 1);
    std::string host = c[col("HOSTNAMES")], cpus = c[col("CPUS")], gres = c[col("GRES")];
    std::string reason = c[col("REASON")], user = c[col("USER", 1)];
    std::string state = StateFromSinfo(c[col("STATE", 1)]);
    std::string when = c[col("TIMESTAMP")];
    std::string line = "NodeName=" + host + " CoresPerSocket=20  CPUAlloc=0 CPUTot=" + cpus +
                       " Gres=" + gres + " State=" + state + " Partitions=" + c[col("PARTITION")] +
                       " ";
    if (reason != "none") {
      user = user.substr(0, user.find('('));
      line += " Reason=" + reason + " [" + user + "@" + when + "]";
    }
    NodeInfo n = ParseOne(line);
    CHECK(n.name == host);
    CHECK(n.StateText() == state);
    CHECK(n.gres == gres);
    CHECK(std::to_string(n.cpus_total) == cpus);
    CHECK(n.reason == (reason == "none" ? "" : reason));
    if (n.IsDrained()) ++drained;
    ++rows;
  }
  CHECK(rows == 4);
  CHECK(drained == 2);  // node0201, drain* (IDLE+DRAIN+NOT_RESPONDING), twice
}

}  // namespace
}  // namespace racksmith::slurm
