#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "base/encoding.h"
#include "playbook/test_util.h"

namespace racksmith::playbook {
namespace {

using testing::FakeTransport;
using testing::MustLoad;
using testing::Quiet;
using testing::RunOn;
using testing::Statuses;
using Strings = std::vector<std::string>;

TEST_CASE("template renders with the node's context, then reports ok on the second run",
          "[playbook]") {
  racksmith::testing::TempDir dir;
  dir.Write("templates/hosts.j2", "{{ node.name }} {{ extra }}\n");
  Playbook pb = MustLoad(R"(vars: {extra: "x{{ 1 + 1 }}"}
tasks:
  - template: {src: hosts.j2, dest: /etc/hostinfo, mode: "0600"}
)",
                         dir.path());
  FakeTransport fake;
  auto first = RunOn(fake, pb);
  CHECK(Statuses(first) == Strings{"changed"});
  auto& n = fake.Node("n1");
  CHECK(n.Content("/etc/hostinfo") == "n1 x2\n");
  CHECK(n.files["/etc/hostinfo"].mode == 0600);
  size_t changes = n.changes.size();
  auto second = RunOn(fake, pb);
  CHECK(Statuses(second) == Strings{"ok"});
  CHECK(second.changed == 0);
  CHECK(n.changes.size() == changes);
}

TEST_CASE("check mode shows a unified diff and writes nothing", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - copy: {content: \"a\\nB\\nc\\n\", dest: /etc/f}\n");
  FakeTransport fake;
  fake.Node("n1").AddFile("/etc/f", "a\nb\nc\n");
  auto r = RunOn(fake, pb, Quiet(/*check=*/true));
  REQUIRE(r.results.size() == 1);
  CHECK(r.results[0].status == TaskStatus::kChanged);
  CHECK(r.results[0].diff ==
        "--- before: /etc/f\n+++ after: /etc/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  CHECK(fake.Node("n1").Content("/etc/f") == "a\nb\nc\n");
  CHECK(fake.Node("n1").changes.empty());
}

TEST_CASE("copy and template report the files they own with the hash of what they left",
          "[playbook]") {
  racksmith::testing::TempDir dir;
  dir.Write("templates/t.j2", "{{ node.name }}\n");
  Playbook pb = MustLoad(R"(tasks:
  - template: {src: t.j2, dest: /etc/t}
  - copy: {content: "k\n", dest: /etc/k}
  - lineinfile: {path: /etc/l, line: "x", create: true}
)",
                         dir.path());
  FakeTransport fake;
  auto first = RunOn(fake, pb);
  REQUIRE(first.results.size() == 3);
  using Files = std::vector<std::pair<std::string, std::string>>;
  CHECK(first.results[0].files == Files{{"/etc/t", Sha256Hex("n1\n")}});
  CHECK(first.results[1].files == Files{{"/etc/k", Sha256Hex("k\n")}});
  CHECK(first.results[2].files.empty());  // owns a line, not the file
  // Unchanged on the second run: still owned, same hash.
  auto second = RunOn(fake, pb);
  CHECK(second.results[0].files == Files{{"/etc/t", Sha256Hex("n1\n")}});
  // Check mode leaves nothing it could vouch for.
  fake.Node("n1").AddFile("/etc/k", "changed\n");
  auto check = RunOn(fake, pb, Quiet(/*check=*/true));
  CHECK(check.results[1].files.empty());
}

TEST_CASE("copy fixes only the mode when the content is already right", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - copy: {content: \"k\\n\", dest: /etc/k, mode: '0400', "
                         "owner: munge}\n");
  FakeTransport fake;
  fake.Node("n1").AddFile("/etc/k", "k\n", 0644);
  auto r = RunOn(fake, pb);
  CHECK(r.results[0].status == TaskStatus::kChanged);
  CHECK(r.results[0].msg == "mode 0644 -> 0400, owner root -> munge");
  CHECK(fake.Node("n1").changes ==
        Strings{"chmod 0400 -- '/etc/k'", "chown 'munge' -- '/etc/k'"});
  CHECK(RunOn(fake, pb).changed == 0);
}

TEST_CASE("copy reads src from the playbook's files folder", "[playbook]") {
  racksmith::testing::TempDir dir;
  dir.Write("files/motd", "welcome\n");
  Playbook pb = MustLoad("tasks:\n  - copy: {src: motd, dest: /etc/}\n", dir.path());
  FakeTransport fake;
  CHECK(RunOn(fake, pb).changed == 1);
  CHECK(fake.Node("n1").Content("/etc/motd") == "welcome\n");
}

TEST_CASE("file creates directories, links and files, and removes them idempotently",
          "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - file: {path: /opt/a/b, state: directory, mode: "0750"}
  - file: {path: /opt/a/b/t, state: touch}
  - file: {path: /opt/link, state: link, src: /opt/a/b}
  - file: {path: /tmp/gone, state: absent}
)");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.AddDir("/tmp/gone");
  n.AddFile("/tmp/gone/x", "x");
  CHECK(Statuses(RunOn(fake, pb)) == Strings{"changed", "changed", "changed", "changed"});
  CHECK(n.files["/opt/a/b"].mode == 0750);
  CHECK(n.Exists("/opt/a/b/t"));
  CHECK(n.files["/opt/link"].content == "/opt/a/b");
  CHECK_FALSE(n.Exists("/tmp/gone/x"));
  CHECK(Statuses(RunOn(fake, pb)) == Strings{"ok", "ok", "ok", "ok"});
}

TEST_CASE("file refuses to turn a directory into a file", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - file: {path: /etc, state: touch}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(r.failed == 1);
  CHECK(r.results[0].msg == "/etc is a directory, expected a file");
}

TEST_CASE("line_in_file replaces the last match, inserts after a pattern, and removes",
          "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - line_in_file: {path: /etc/conf, regexp: "^Port ", line: "Port 2222"}
  - line_in_file: {path: /etc/conf, line: "Added yes", insertafter: "^# section"}
  - lineinfile: {path: /etc/conf, regexp: "^Bad", state: absent}
  - line_in_file: {path: /etc/new, line: "x=1", create: true, mode: "0600"}
)");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.AddFile("/etc/conf", "Port 22\n# section\nother\nBad 1\nPort 23\nBad 2\n");
  CHECK(Statuses(RunOn(fake, pb)) == Strings{"changed", "changed", "changed", "changed"});
  CHECK(n.Content("/etc/conf") == "Port 22\n# section\nAdded yes\nother\nPort 2222\n");
  CHECK(n.Content("/etc/new") == "x=1\n");
  CHECK(n.files["/etc/new"].mode == 0600);
  CHECK(Statuses(RunOn(fake, pb)) == Strings{"ok", "ok", "ok", "ok"});
}

TEST_CASE("line_in_file fails on a missing file unless create is set", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - line_in_file: {path: /etc/none, line: a}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(r.failed == 1);
  CHECK_THAT(r.results[0].msg, Catch::Contains("set create: true"));
}

TEST_CASE("command with creates runs once, and a failing command reports its output",
          "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - command: {cmd: "make-thing /opt/thing", creates: /opt/thing}
  - shell: "echo out; echo err >&2; exit 3"
)");
  FakeTransport fake;
  fake.On("'make-thing' '/opt/thing'", [](testing::FakeNode& n) {
    n.AddFile("/opt/thing", "");
    transport::ExecResult r;
    r.exit_status = 0;
    return r;
  });
  fake.On("echo out; echo err >&2; exit 3", [](testing::FakeNode&) {
    transport::ExecResult r;
    r.exit_status = 3;
    r.stdout_text = "out\n";
    r.stderr_text = "err\n";
    return r;
  });
  auto first = RunOn(fake, pb);
  CHECK(Statuses(first) == Strings{"changed", "failed"});
  CHECK(first.results[1].rc == 3);
  CHECK(first.results[1].stdout_text == "out\n");
  CHECK(first.results[1].stderr_text == "err\n");
  auto second = RunOn(fake, pb);
  CHECK(second.results[0].status == TaskStatus::kOk);
  CHECK(second.results[0].msg == "skipped: /opt/thing exists");
}

TEST_CASE("command quotes every word so shell operators are plain arguments", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - command: echo 'a b' | wc\n    ignore_errors: true\n"
                         "  - command: {argv: [ls, \"it's\"]}\n");
  FakeTransport fake;
  RunOn(fake, pb);
  const auto& cmds = fake.Node("n1").commands;
  CHECK(cmds == Strings{"'echo' 'a b' '|' 'wc'", "'ls' 'it'\\''s'"});
}

TEST_CASE("package installs with apt or dnf at a version, once", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - package: {name: [munge, slurmd], version: "23.11"}
  - package: {name: nano, state: absent}
)");
  for (std::string manager : {"apt", "dnf"}) {
    FakeTransport fake;
    auto& n = fake.Node("n1");
    n.package_manager = manager;
    n.available = {{"munge", "23.11.4-1"}, {"slurmd", "23.11.4-1"}};
    n.installed = {{"munge", "22.05.8-1"}, {"nano", "7.2-1"}};
    auto first = RunOn(fake, pb);
    CHECK(Statuses(first) == Strings{"changed", "changed"});
    CHECK(first.results[0].msg ==
          "install munge 22.05.8-1 -> 23.11, slurmd (" + manager + ")");
    CHECK(n.installed == std::map<std::string, std::string>{{"munge", "23.11.4-1"},
                                                            {"slurmd", "23.11.4-1"}});
    CHECK(RunOn(fake, pb).changed == 0);
  }
}

TEST_CASE("package fails with the package manager's error", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - package: {name: nosuch}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(r.failed == 1);
  CHECK_THAT(r.results[0].stderr_text, Catch::Contains("Unable to locate package nosuch"));
}

TEST_CASE("service enables and starts once and restarted always acts", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - service: {name: slurmd, state: started, enabled: true}
  - systemd: {name: munge, state: restarted}
)");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.services["slurmd"] = {};
  n.services["munge"] = {true, true};
  auto first = RunOn(fake, pb);
  CHECK(Statuses(first) == Strings{"changed", "changed"});
  CHECK(first.results[0].msg == "enable, start");
  CHECK(n.services["slurmd"].enabled);
  CHECK(n.services["slurmd"].active);
  CHECK(Statuses(RunOn(fake, pb)) == Strings{"ok", "changed"});
}

TEST_CASE("service fails for a unit systemd does not know", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - service: {name: ghost, enabled: true}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(r.results[0].msg == "service ghost is not known to systemd");
}

TEST_CASE("mount writes the fstab line and mounts, then does nothing", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - mount: {path: /home, src: "nfs1:/export/home", fstype: nfs, opts: [rw, hard]}
)");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.AddFile("/etc/fstab", "# fstab\nUUID=1 / ext4 defaults 0 1\n");
  auto first = RunOn(fake, pb);
  CHECK(first.results[0].status == TaskStatus::kChanged);
  CHECK(n.Content("/etc/fstab") ==
        "# fstab\nUUID=1 / ext4 defaults 0 1\nnfs1:/export/home /home nfs rw,hard 0 0\n");
  CHECK(n.mounted.count("/home"));
  CHECK(RunOn(fake, pb).changed == 0);

  // Changed options rewrite the line in place and remount.
  Playbook ro = MustLoad(R"(tasks:
  - mount: {path: /home, src: "nfs1:/export/home", fstype: nfs, opts: ro}
)");
  auto r = RunOn(fake, ro, Quiet(/*check=*/true));
  CHECK(r.results[0].status == TaskStatus::kChanged);
  CHECK_THAT(r.results[0].diff, Catch::Contains("-nfs1:/export/home /home nfs rw,hard 0 0\n"
                                                "+nfs1:/export/home /home nfs ro 0 0\n"));
  CHECK_THAT(n.Content("/etc/fstab"), Catch::Contains("rw,hard"));
  r = RunOn(fake, ro);
  CHECK(r.results[0].msg == "fstab updated, remounted");

  // A new source cannot be remounted: the old one is unmounted and the new one mounted.
  Playbook moved = MustLoad(R"(tasks:
  - mount: {path: /home, src: "nfs2:/export/home", fstype: nfs, opts: ro}
)");
  r = RunOn(fake, moved);
  CHECK(r.results[0].msg == "fstab updated, unmounted, mounted from nfs2:/export/home");
  CHECK_THAT(n.Content("/etc/fstab"), Catch::Contains("\nnfs2:/export/home /home nfs ro 0 0\n"));
  CHECK(n.mounted.count("/home"));
  CHECK(RunOn(fake, moved).changed == 0);
}

TEST_CASE("mount refuses an empty source and leaves fstab alone", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - mount: {path: /scratch, src: "{{ '' }}", fstype: xfs}
)");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.AddFile("/etc/fstab", "UUID=1 / ext4 defaults 0 1\n");
  auto r = RunOn(fake, pb);
  CHECK(r.results[0].status == TaskStatus::kFailed);
  CHECK(r.results[0].msg == "state: mounted needs a non-empty src and fstype for /scratch");
  CHECK(n.Content("/etc/fstab") == "UUID=1 / ext4 defaults 0 1\n");
}

TEST_CASE("mount absent removes the line and unmounts", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - mount: {path: /scratch, state: absent}\n");
  FakeTransport fake;
  auto& n = fake.Node("n1");
  n.AddFile("/etc/fstab", "/dev/md0 /scratch xfs defaults 0 0\n");
  n.mounted.insert("/scratch");
  CHECK(RunOn(fake, pb).changed == 1);
  CHECK(n.Content("/etc/fstab").empty());
  CHECK(n.mounted.empty());
}

TEST_CASE("reboot waits until the node answers with a new boot id", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - reboot: {reboot_timeout: 60}\n  - command: 'true'\n");
  FakeTransport fake;
  fake.On("'true'", [](testing::FakeNode&) {
    transport::ExecResult r;
    r.exit_status = 0;
    return r;
  });
  auto& n = fake.Node("n1");
  n.down_after_reboot = 3;
  std::string before = n.boot_id;
  auto r = RunOn(fake, pb);
  CHECK(Statuses(r) == Strings{"changed", "changed"});
  CHECK(n.reboots == 1);
  CHECK(n.boot_id != before);
  CHECK_THAT(r.results[0].msg, Catch::StartsWith("rebooted (boot id 11111111 -> 22222222)"));
}

TEST_CASE("reboot fails when the boot id never changes", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - reboot: {reboot_timeout: 10, reboot_command: 'true'}\n");
  FakeTransport fake;
  fake.On("nohup sh -c 'sleep 1; true' >/dev/null 2>&1 &", [](testing::FakeNode&) {
    transport::ExecResult r;
    r.exit_status = 0;
    return r;
  });
  auto r = RunOn(fake, pb);
  CHECK(r.failed == 1);
  CHECK_THAT(r.results[0].msg, Catch::Contains("did not come back with a new boot id"));
}

TEST_CASE("wait_for polls for a path until its timeout", "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - wait_for: {path: /run/ready, timeout: 5}\n");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(r.failed == 1);
  CHECK(fake.Node("n1").commands.size() == 5);
  fake.Node("n1").AddDir("/run");
  fake.Node("n1").AddFile("/run/ready", "");
  CHECK(RunOn(fake, pb).failed == 0);
}

TEST_CASE("assert checks expressions with the node's variables", "[playbook]") {
  Playbook pb = MustLoad(R"(vars: {gpus: 4}
tasks:
  - assert: {that: ["gpus > 2", "node.name == 'n1'"]}
  - assert: {that: "gpus > 8", fail_msg: "need more GPUs"}
)");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(Statuses(r) == Strings{"ok", "failed"});
  CHECK(r.results[1].msg == "need more GPUs");
}

TEST_CASE("assert reads a string `that` as one expression, commas and all", "[playbook]") {
  // Split on commas, "node.name in ['n1', 'n2']" would be two broken expressions.
  Playbook pb = MustLoad(R"(vars: {role: gpu}
tasks:
  - assert: {that: "node.name in ['n1', 'n2']"}
  - assert: {that: "role in ['cpu', 'gpu'] and {'a': 1, 'b': 2}['b'] == 2"}
  - assert: {that: "node.name in ['x', 'y']", fail_msg: "not x or y"}
)");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(Statuses(r) == Strings{"ok", "ok", "failed"});
  CHECK(r.results[2].msg == "not x or y");
}

TEST_CASE("assert with a list `that` checks every expression in turn", "[playbook]") {
  Playbook pb = MustLoad(R"(tasks:
  - assert: {that: ["node.name in ['n1', 'n2']", "node.name != 'n1'"]}
)");
  FakeTransport fake;
  auto r = RunOn(fake, pb);
  CHECK(Statuses(r) == Strings{"failed"});
  CHECK(r.results[0].msg == "assertion failed: node.name != 'n1'");
}

TEST_CASE("fetch copies a node's file under dest/NODE/path", "[playbook]") {
  racksmith::testing::TempDir dir;
  Playbook pb = MustLoad("tasks:\n  - fetch: {src: /etc/conf, dest: " + dir.path() + "}\n");
  FakeTransport fake;
  fake.Node("n1").AddFile("/etc/conf", "data\n");
  CHECK(RunOn(fake, pb).changed == 1);
  std::ifstream in(dir.Join("n1/etc/conf"));
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(got == "data\n");
  CHECK(RunOn(fake, pb).changed == 0);
}

}  // namespace
}  // namespace racksmith::playbook
