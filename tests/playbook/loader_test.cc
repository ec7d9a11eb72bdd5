#include <catch2/catch.hpp>

#include "playbook/test_util.h"

namespace racksmith::playbook {
namespace {

using testing::LoadErrors;
using testing::MustLoad;

TEST_CASE("a playbook with tasks, handlers and vars loads into the model", "[playbook]") {
  Playbook pb = MustLoad(R"(
name: demo
vars: {greeting: hello}
tasks:
  - name: write motd
    copy: {content: "{{ greeting }}\n", dest: /etc/motd, mode: "0644"}
    notify: reload things
    tags: [motd]
  - command: echo hi
    register: out
    changed_when: false
    when: greeting == 'hello'
  - lineinfile: {path: /etc/hosts, line: "127.0.0.1 localhost"}
    loop: [a, b]
    loop_control: {loop_var: x}
handlers:
  - name: reload things
    service: {name: foo, state: reloaded}
)");
  CHECK(pb.name == "demo");
  REQUIRE(pb.tasks.size() == 3);
  CHECK(pb.tasks[0].module == "copy");
  CHECK(pb.tasks[0].args["dest"] == "/etc/motd");
  CHECK(pb.tasks[0].notify == std::vector<std::string>{"reload things"});
  CHECK(pb.tasks[0].tags == std::vector<std::string>{"motd"});
  CHECK(pb.tasks[1].args["cmd"] == "echo hi");
  CHECK(pb.tasks[1].changed_when == "false");
  CHECK(pb.tasks[1].DisplayName() == "command: echo hi");
  CHECK(pb.tasks[2].module == "line_in_file");
  CHECK(pb.tasks[2].loop_var == "x");
  CHECK(pb.tasks[0].where.line == 5);
  REQUIRE(pb.handlers.size() == 1);
}

TEST_CASE("Ansible's list-of-one-play shape and a bare task list both load", "[playbook]") {
  Playbook play = MustLoad("- name: p\n  become: true\n  tasks:\n    - command: 'true'\n");
  CHECK(play.tasks.size() == 1);
  Playbook bare = MustLoad("- command: 'true'\n- shell: echo $HOME\n");
  CHECK(bare.tasks.size() == 2);
}

TEST_CASE("unknown keys and arguments are reported with their position and a suggestion",
          "[playbook]") {
  std::string errors = LoadErrors(R"(tasks:
  - name: x
    copy: {content: a, dset: /etc/a}
  - name: y
    comand: ls
  - name: z
    file: {path: /etc/x, state: directroy}
    whne: true
)");
  CHECK_THAT(errors, Catch::Contains(
                         "3:30: unknown argument \"dset\" for `copy` (did you mean \"dest\"?)"));
  CHECK_THAT(errors, Catch::Contains("3:11: `copy` needs the argument dest"));
  CHECK_THAT(errors,
             Catch::Contains("5:5: unknown key \"comand\" in task (did you mean \"command\"?)"));
  CHECK_THAT(errors, Catch::Contains("expected one of file, directory, link, absent, touch, "
                                     "found \"directroy\""));
  CHECK_THAT(errors, Catch::Contains("8:5: unknown key \"whne\" in task (did you mean \"when\"?)"));
}

TEST_CASE("every template and expression is compiled before anything runs", "[playbook]") {
  std::string errors = LoadErrors(R"(tasks:
  - copy: {content: "{{ a + }}", dest: /etc/a}
  - command: ls
    when: "x ==="
  - command: ls
    changed_when: "{% if %}"
)");
  CHECK_THAT(errors, Catch::Contains("2:21: in `copy` argument content:"));
  CHECK_THAT(errors, Catch::Contains("4:11: in `when`:"));
  CHECK_THAT(errors, Catch::Contains("6:19: in `changed_when`:"));
}

TEST_CASE("a notified handler that does not exist is an error", "[playbook]") {
  std::string errors = LoadErrors(R"(tasks:
  - command: ls
    notify: restart slurmd
handlers:
  - name: restart slurmctld
    service: {name: slurmctld, state: restarted}
)");
  CHECK(errors ==
        "3:13: notify names the handler \"restart slurmd\", which does not exist (did you mean "
        "\"restart slurmctld\"?)\n");
}

TEST_CASE("a task needs exactly one module", "[playbook]") {
  CHECK_THAT(LoadErrors("tasks:\n  - name: nothing\n"),
             Catch::Contains("2:5: expected one module in the task, found none"));
  CHECK_THAT(LoadErrors("tasks:\n  - command: ls\n    shell: ls\n"),
             Catch::Contains("expected exactly one module in a task, found \"command\" and "
                             "\"shell\""));
}

TEST_CASE("module argument checks catch missing sources and bad values", "[playbook]") {
  racksmith::testing::TempDir dir;
  dir.Write("templates/good.j2", "x={{ node.name }}\n");
  dir.Write("templates/bad.j2", "line1\n{{ oops( }}\n");
  std::string errors = LoadErrors(R"(tasks:
  - template: {src: good.j2, dest: /etc/good}
  - template: {src: bad.j2, dest: /etc/bad}
  - template: {src: missing.j2, dest: /etc/m}
  - copy: {src: nofile, dest: /etc/n}
  - copy: {content: x, dest: relative/path}
  - file: {path: /etc/l, state: link}
  - file: {path: /etc/l, mode: "0986"}
  - line_in_file: {path: /etc/x, regexp: "(unclosed", line: a}
  - command: {cmd: ls, argv: [ls]}
  - wait_for: {timeout: 3}
  - mount: {path: /data, state: mounted}
  - reboot:
  - assert: {that: ["1 +"]}
)",
                                  dir.path());
  CHECK_THAT(errors, Catch::Contains("templates/bad.j2:2:"));
  CHECK_THAT(errors, Catch::Contains("4:15: `template`: src \"missing.j2\" is not a file"));
  CHECK_THAT(errors, Catch::Contains("5:11: `copy`: src \"nofile\" is not a file"));
  CHECK_THAT(errors, Catch::Contains("6:11: `copy`: dest must be an absolute path"));
  CHECK_THAT(errors, Catch::Contains("7:11: `file`: state: link needs src"));
  CHECK_THAT(errors, Catch::Contains("8:32: `file` argument mode: expected a mode"));
  CHECK_THAT(errors, Catch::Contains("9:19: `line_in_file`: invalid regular expression"));
  CHECK_THAT(errors, Catch::Contains("10:14: `command`: needs exactly one of cmd"));
  CHECK_THAT(errors, Catch::Contains("11:15: `wait_for`: needs exactly one of path, port"));
  CHECK_THAT(errors, Catch::Contains("12:12: `mount`: state: mounted needs src and fstype"));
  CHECK_THAT(errors, Catch::Contains("14:13: `assert`: in `that`:"));
  CHECK_THAT(errors, !Catch::Contains("good.j2"));
  CHECK_THAT(errors, !Catch::Contains("\n13:"));  // reboot without arguments is fine
}

TEST_CASE("hosts in a playbook is refused because nodes come from the command line",
          "[playbook]") {
  CHECK_THAT(LoadErrors("hosts: all\ntasks: []\n"),
             Catch::Contains("1:1: `hosts` is not used: nodes come from the command line"));
}

TEST_CASE("broken YAML, deep nesting and several documents are errors, not crashes",
          "[playbook]") {
  CHECK_THAT(LoadErrors("tasks: [\n"), Catch::Contains("expected valid YAML"));
  CHECK_THAT(LoadErrors("tasks: " + std::string(100, '[')),
             Catch::Contains("expected nesting at most 64 deep"));
  CHECK_THAT(LoadErrors("tasks: []\n---\ntasks: []\n"),
             Catch::Contains("3:1: expected one YAML document, found 2"));
  CHECK_THAT(LoadErrors(""), Catch::Contains("found nothing"));
  CHECK_THAT(LoadErrors("tasks:\n  - 42\n"), Catch::Contains("2:5: expected a task"));
}

TEST_CASE("unquoted modes stay octal digits and yes/no are booleans as in Ansible",
          "[playbook]") {
  Playbook pb = MustLoad("tasks:\n  - file: {path: /x, state: directory, mode: 0750}\n"
                         "  - command: ls\n    ignore_errors: yes\n");
  CHECK(pb.tasks[0].args["mode"] == "0750");
  CHECK(pb.tasks[1].ignore_errors);
}

}  // namespace
}  // namespace racksmith::playbook

namespace racksmith::playbook {
namespace {

TEST_CASE("an alias bomb is refused instead of expanding without bound", "[playbook]") {
  std::string yaml = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 9; ++i) {
    yaml += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  std::string text = "tasks:\n  - command: 'true'\n    vars:\n" ;
  size_t pos = 0;
  while (pos < yaml.size()) {
    size_t nl = yaml.find('\n', pos);
    text += "      " + yaml.substr(pos, nl - pos + 1);
    pos = nl + 1;
  }
  CHECK_THAT(testing::LoadErrors(text), Catch::Contains("expected at most 1000000 YAML values"));
}

}  // namespace
}  // namespace racksmith::playbook
