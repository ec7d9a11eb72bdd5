#include <catch2/catch.hpp>

#include "playbook/test_util.h"

namespace racksmith::playbook {
namespace {

using testing::FakeTransport;
using testing::MustLoad;
using testing::Quiet;
using testing::RunOn;
using testing::Statuses;
using testing::Targets;
using Strings = std::vector<std::string>;

transport::ExecResult Ok(std::string out = "") {
  transport::ExecResult r;
  r.exit_status = 0;
  r.stdout_text = std::move(out);
  return r;
}

TEST_CASE("handlers run once at the end and only when a changed task notified them",
          "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - copy: {content: "a\n", dest: /etc/a}
    notify: restart svc
  - copy: {content: "b\n", dest: /etc/b}
    notify: [restart svc, reload other]
  - command: {cmd: "after", creates: /etc/a}
handlers:
  - name: reload other
    service: {name: other, state: reloaded}
  - name: restart svc
    service: {name: svc, state: restarted}
)");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.services["svc"] = {true, true};
  n.services["other"] = {true, true};
  n.AddFile("/etc/b", "b\n");
  auto r = RunOn(fake, pb);
  // Only /etc/a changed: "reload other" was notified by an unchanged task and stays quiet.
  CHECK(Statuses(r) == Strings{"changed", "ok", "ok", "changed"});
  CHECK(r.results[3].handler);
  CHECK(r.results[3].task == "restart svc");
  CHECK(std::count(n.changes.begin(), n.changes.end(), "systemctl restart 'svc'") == 1);
  auto again = RunOn(fake, pb);
  CHECK(Statuses(again) == Strings{"ok", "ok", "ok"});
}

TEST_CASE("a no_log task that fails before its module runs shows nothing of its values",
          "[playbook]") {
  Playbook pb = MustLoad(R"(vars:
  creds: {admin: "S3cret-Value"}
tasks:
  - name: users
    command: {cmd: "useradd {{ item }}"}
    loop: "{{ creds }}"
    no_log: true
)");
  FakeTransport fake;
  fake.Node("n1");
  auto r = RunOn(fake, pb);
  REQUIRE(r.results.size() == 1);
  CHECK(r.results[0].status == TaskStatus::kFailed);
  CHECK(r.results[0].msg == "(output hidden: no_log)");
  // Without no_log the error still names the type, never the value.
  Playbook shown = MustLoad(R"(vars:
  creds: {admin: "S3cret-Value"}
tasks:
  - command: {cmd: "useradd {{ item }}"}
    loop: "{{ creds }}"
)");
  auto r2 = RunOn(fake, shown);
  REQUIRE(r2.results.size() == 1);
  CHECK(r2.results[0].msg == "loop: expected a list, found object");
}

TEST_CASE("a failed task stops its node, the other nodes go on, and the recap counts",
          "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - command: check-me
  - copy: {content: "x\n", dest: /etc/x}
)");
  FakeTransport fake;
  fake.On("'check-me'", [](testing::FakeNode& n) {
    transport::ExecResult r = Ok();
    r.exit_status = n.Exists("/etc/bad") ? 1 : 0;
    return r;
  });
  fake.Node("n2").AddFile("/etc/bad", "");
  RunReport report = RunPlaybook(pb, Targets({"n1", "n2", "n3"}), fake, Quiet());
  CHECK_FALSE(report.AllSucceeded());
  CHECK(report.nodes[0].changed == 2);
  CHECK(report.nodes[1].failed == 1);
  CHECK(report.nodes[1].results.size() == 1);
  CHECK_FALSE(fake.Node("n2").Exists("/etc/x"));
  CHECK(fake.Node("n3").Exists("/etc/x"));
  std::string text = FormatReport(pb, report, false);
  CHECK_THAT(text, Catch::Contains("TASK [command: check-me] ***"));
  CHECK_THAT(text, Catch::Contains("changed: n[1,3]\n"));
  CHECK_THAT(text, Catch::Contains("failed: n2\n  non-zero exit 1\n"));
  CHECK_THAT(text, Catch::Contains("n2 : ok=0 changed=0 unreachable=0 failed=1 skipped=0 "
                                   "ignored=0\n"));
  auto json = ReportJson(pb, report);
  CHECK(json["nodes"][1]["tasks"][0]["status"] == "failed");
  CHECK(json["nodes"][0]["recap"]["changed"] == 2);
}

TEST_CASE("ignore_errors lets the node go on and counts the failure as ignored", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - command: nope\n    ignore_errors: true\n"
                         "  - file: {path: /opt/d, state: directory}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(Statuses(r) == Strings{"failed", "changed"});
  CHECK(r.ignored == 1);
  CHECK(r.failed == 0);
  CHECK(r.Succeeded());
}

TEST_CASE("an unreachable node is reported as such and stops", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - file: {path: /opt/d, state: directory}\n"
                         "  - file: {path: /opt/e, state: directory}\n");
  FakeTransport fake;
  fake.Node("n1").unreachable = true;
  auto r = RunOn(fake, pb);
  CHECK(r.unreachable == 1);
  CHECK(r.results.size() == 1);
  CHECK_THAT(r.results[0].msg, Catch::Contains("cannot connect"));
}

TEST_CASE("loop with when per item, register and a loop_var", "[playbook]") {
  Playbook pb = MustLoad(R"(vars:
  dirs: [a, b, c]
tasks:
  - file: {path: "/opt/{{ d }}", state: directory}
    loop: "{{ dirs }}"
    loop_control: {loop_var: d}
    when: d != 'b'
    register: made
  - copy: {content: "{{ made.results | map(attribute='changed') | list }}\n", dest: /etc/r}
)");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(Statuses(r) == Strings{"changed", "changed"});
  auto& n = fake.Node("n1");
  CHECK(n.Exists("/opt/a"));
  CHECK_FALSE(n.Exists("/opt/b"));
  CHECK(n.Content("/etc/r") == "[True, False, True]\n");
}

TEST_CASE("changed_when and failed_when decide from the registered result", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - command: probe
    register: p
    changed_when: "'new' in p.stdout"
    failed_when: p.rc > 1
  - copy: {content: "{{ p.stdout_lines | join(',') }}\n", dest: /etc/p}
)");
  FakeTransport fake;
  int calls = 0;
  fake.On("'probe'", [&](testing::FakeNode&) {
    transport::ExecResult r = Ok(++calls == 1 ? "old\nline\n" : "new\n");
    r.exit_status = 1;
    return r;
  });
  auto first = RunOn(fake, pb);
  CHECK(Statuses(first) == Strings{"ok", "changed"});
  CHECK(fake.Node("n1").Content("/etc/p") == "old,line\n");
  auto second = RunOn(fake, pb);
  CHECK(Statuses(second) == Strings{"changed", "changed"});
}

TEST_CASE("tags select tasks, and always-tagged tasks run anyway", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - file: {path: /opt/a, state: directory}
    tags: [a]
  - file: {path: /opt/b, state: directory}
    tags: b
  - file: {path: /opt/c, state: directory}
    tags: [always]
)");
  FakeTransport fake;
  RunOptions opt = Quiet();
  opt.tags = {"b"};
  auto r = RunOn(fake, pb, opt);
  CHECK(r.results.size() == 2);
  CHECK_FALSE(fake.Node("n1").Exists("/opt/a"));
  CHECK(fake.Node("n1").Exists("/opt/b"));
  CHECK(fake.Node("n1").Exists("/opt/c"));
}

TEST_CASE("extra vars beat playbook vars and a when that is false skips", "[playbook]") {
  Playbook pb = MustLoad(R"(vars: {flavour: plain}
tasks:
  - copy: {content: "{{ flavour }}\n", dest: /etc/f}
  - copy: {content: "x\n", dest: /etc/never}
    when: flavour == 'plain'
)");
  FakeTransport fake;
  RunOptions opt = Quiet();
  opt.extra_vars = {{"flavour", "spicy"}};
  auto r = RunOn(fake, pb, opt);
  CHECK(Statuses(r) == Strings{"changed", "skipping"});
  CHECK(fake.Node("n1").Content("/etc/f") == "spicy\n");
  CHECK(r.skipped == 1);
}

TEST_CASE("an undefined variable at run time fails the task with the template error",
          "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - copy: {content: \"{{ nope }}\", dest: /etc/x}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(r.failed == 1);
  CHECK_THAT(r.results[0].msg, Catch::Contains("'nope' is undefined"));
}

TEST_CASE("in check mode commands do not run and changed_when commands are skipped",
          "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - command: mutate
  - command: query
    changed_when: false
  - command: readonly
    check_mode: false
    changed_when: false
)");
  FakeTransport fake;
  fake.On("'readonly'", [](testing::FakeNode&) { return Ok("x"); });
  auto r = RunOn(fake, pb, Quiet(true));
  CHECK(Statuses(r) == Strings{"changed", "skipping", "ok"});
  CHECK(fake.Node("n1").commands == Strings{"'readonly'"});
}

TEST_CASE("many nodes run in parallel within the fan-out", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - copy: {content: \"{{ node.name }}\\n\", dest: /etc/n}\n");
  FakeTransport fake;
  std::vector<std::string> names;
  for (int i = 1; i <= 40; ++i) names.push_back("n" + std::to_string(i));
  RunOptions opt = Quiet();
  opt.fanout = 8;
  RunReport report = RunPlaybook(pb, Targets(names), fake, opt);
  CHECK(report.TotalChanged() == 40);
  CHECK(fake.Node("n37").Content("/etc/n") == "n37\n");
  CHECK(fake.disconnects() == 40);
  CHECK_THAT(FormatReport(pb, report, false), Catch::Contains("changed: n[1-40]\n"));
}

TEST_CASE("unified diffs have context, hunks and the missing newline marker", "[playbook]") {
  CHECK(UnifiedDiff("a\n", "a\n", "x", "y").empty());
  CHECK(UnifiedDiff("", "new\n", "/dev/null", "after: f") ==
        "--- /dev/null\n+++ after: f\n@@ -0,0 +1 @@\n+new\n");
  std::string before, after;
  for (int i = 1; i <= 20; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 2 ? "two" : i == 18 ? "eighteen" : std::to_string(i)) + "\n";
  }
  CHECK(UnifiedDiff(before, after, "a", "b") ==
        "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
        "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n");
  CHECK(UnifiedDiff("a", "b", "x", "y") ==
        "--- x\n+++ y\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
        "\\ No newline at end of file\n");
}

}  // namespace
}  // namespace racksmith::playbook
