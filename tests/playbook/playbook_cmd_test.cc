// End-to-end: the real binary runs playbooks over real SSH on sandboxed sshd nodes.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "playbook/sandbox_nodes.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::playbook {
namespace {

using racksmith::testing::RunCli;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

const char* kPlaybook = R"(name: integration
vars:
  threads: 8
tasks:
  - name: render node info
    template: {src: info.j2, dest: /etc/racksmith-info, mode: "0640"}
    notify: record change
  - name: copy a payload
    copy: {src: payload.txt, dest: /opt/payload.txt}
  - name: a config folder
    file: {path: /opt/app/conf.d, state: directory, mode: "0750"}
  - name: a setting
    line_in_file: {path: /etc/app.conf, regexp: "^threads=", line: "threads={{ threads }}",
                   create: true}
  - name: initialise once
    command: {cmd: "touch /opt/app/initialized", creates: /opt/app/initialized}
  - name: read the hostname
    shell: cat /etc/hostname
    register: hn
    changed_when: false
    check_mode: false
  - name: the node is who the inventory says
    assert: {that: ["hn.stdout | trim == node.name"]}
handlers:
  - name: record change
    shell: echo changed >> /root/handler.log
)";

TEST_CASE("playbook run applies files on real SSH nodes, is idempotent, and --check shows "
          "diffs without changing anything",
          "[playbook][ssh]") {
  testing::SandboxNodes nodes(2);
  REQUIRE(nodes.running());
  racksmith::testing::TempDir tmp;
  tmp.Write("play/site.yaml", kPlaybook);
  tmp.Write("play/templates/info.j2",
            "name={{ node.name }} ip={{ node.ip }} site={{ site }}\n"
            "peers={{ nodes | map(attribute='name') | list | hostlist }}\n");
  tmp.Write("play/files/payload.txt", "payload\n");
  std::string port = std::to_string(nodes.port());
  tmp.Write("inv/site.yaml", "site: pbtest\n"
                             "defaults:\n  ssh: {user: root, port: " + port + ", key: " +
                                 nodes.key() + "}\n"
                             "racks:\n  - name: r1\n    nodes:\n"
                             "      - {name: \"pb-n[01-02]\", ip: \"127.0.9.[1-2]\"}\n");
  std::vector<std::string> base = {"-i", tmp.Join("inv"), "--state", tmp.Join("state.db"),
                                   "playbook", "run", tmp.Join("play/site.yaml"), "pb-n[01-02]"};

  auto first = RunCli(base);
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.out, Catch::Contains("TASK [render node info] ***"));
  CHECK_THAT(first.out, Catch::Contains("changed: pb-n[01-02]\n"));
  CHECK_THAT(first.out, Catch::Contains("RUNNING HANDLER [record change]"));
  CHECK_THAT(first.out, Catch::Contains("pb-n01 : ok=8 changed=6 unreachable=0 failed=0 "
                                        "skipped=0 ignored=0\n"));
  CHECK(Slurp(nodes.Path(1, "/etc/racksmith-info")) ==
        "name=pb-n01 ip=127.0.9.1 site=pbtest\npeers=pb-n[01-02]\n");
  CHECK(Slurp(nodes.Path(2, "/etc/racksmith-info")) ==
        "name=pb-n02 ip=127.0.9.2 site=pbtest\npeers=pb-n[01-02]\n");
  CHECK(ModeOf(nodes.Path(1, "/etc/racksmith-info")) == 0640);
  CHECK(Slurp(nodes.Path(2, "/opt/payload.txt")) == "payload\n");
  CHECK(ModeOf(nodes.Path(1, "/opt/app/conf.d")) == 0750);
  CHECK(Slurp(nodes.Path(1, "/etc/app.conf")) == "threads=8\n");
  CHECK(ModeOf(nodes.Path(1, "/opt/app/initialized")) >= 0);
  CHECK(Slurp(nodes.Path(1, "/root/handler.log")) == "changed\n");

  auto second = RunCli(base);
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.out, Catch::Contains("pb-n01 : ok=7 changed=0 "));
  CHECK_THAT(second.out, Catch::Contains("pb-n02 : ok=7 changed=0 "));
  CHECK(Slurp(nodes.Path(1, "/root/handler.log")) == "changed\n");

  // Someone edits a file by hand: --check shows the diff and leaves the file alone.
  std::ofstream(nodes.Path(1, "/etc/app.conf")) << "threads=4\n";
  std::vector<std::string> check = base;
  check.push_back("--check");
  auto dry = RunCli(check);
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("(check mode)"));
  CHECK_THAT(dry.out, Catch::Contains("--- before: /etc/app.conf\n+++ after: /etc/app.conf\n"
                                      "@@ -1 +1 @@\n-threads=4\n+threads=8\n"));
  CHECK_THAT(dry.out, Catch::Contains("pb-n01 : ok=7 changed=1 "));
  CHECK_THAT(dry.out, Catch::Contains("pb-n02 : ok=7 changed=0 "));
  CHECK(Slurp(nodes.Path(1, "/etc/app.conf")) == "threads=4\n");

  // -e beats the playbook's vars; --json gives per-task results.
  std::vector<std::string> json = base;
  for (const char* a : {"-e", "threads=16", "--json", "--tags", "none"}) json.push_back(a);
  auto tagged = RunCli(json);
  CHECK(tagged.exit_code == 0);
  auto doc = nlohmann::json::parse(tagged.out);
  CHECK(doc["nodes"][0]["tasks"].empty());
  json.pop_back();
  json.pop_back();
  auto applied = RunCli(json);
  doc = nlohmann::json::parse(applied.out);
  CHECK(doc["nodes"][0]["recap"]["changed"] == 1);
  CHECK(doc["nodes"][1]["recap"]["changed"] == 1);
  CHECK(doc["nodes"][0]["tasks"][3]["status"] == "changed");
  CHECK(Slurp(nodes.Path(2, "/etc/app.conf")) == "threads=16\n");
}

TEST_CASE("a node failing in the middle is reported with its task and output, exit 1",
          "[playbook][ssh]") {
  testing::SandboxNodes nodes(2);
  REQUIRE(nodes.running());
  racksmith::testing::TempDir tmp;
  tmp.Write("p.yaml", R"(tasks:
  - name: only n01 has it
    shell: "test {{ inventory_hostname }} = 127.0.9.1 || { echo missing on $(cat /etc/hostname) >&2; exit 4; }"
  - file: {path: /opt/after, state: directory}
)");
  auto r = RunCli({"--state", tmp.Join("state.db"), "playbook", "run", tmp.Join("p.yaml"),
                   "--hosts", "127.0.9.[1-2]", "--port", std::to_string(nodes.port()), "--key",
                   nodes.key()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("failed: 127.0.9.2\n  non-zero exit 4\n  stderr:\n"
                                    "    missing on pb-n02\n"));
  CHECK_THAT(r.out, Catch::Contains("127.0.9.2 : ok=0 changed=0 unreachable=0 failed=1"));
  CHECK(ModeOf(nodes.Path(1, "/opt/after")) >= 0);
  CHECK(ModeOf(nodes.Path(2, "/opt/after")) == -1);
}

TEST_CASE("playbook check validates without any node and exits 2 on errors", "[playbook]") {
  racksmith::testing::TempDir tmp;
  tmp.Write("good.yaml", "tasks:\n  - command: 'true'\n");
  tmp.Write("bad.yaml", "tasks:\n  - comand: 'true'\n");
  auto good = RunCli({"playbook", "check", tmp.Join("good.yaml")});
  CHECK(good.exit_code == 0);
  CHECK(good.out == tmp.Join("good.yaml") + ": ok (1 tasks, 0 handlers)\n");
  auto bad = RunCli({"playbook", "check", tmp.Join("bad.yaml")});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains(tmp.Join("bad.yaml") +
                                      ":2:5: unknown key \"comand\" in task (did you mean "
                                      "\"command\"?)"));
  auto run = RunCli({"playbook", "run", tmp.Join("bad.yaml"), "--hosts", "127.0.9.250"});
  CHECK(run.exit_code == 2);
}

}  // namespace
}  // namespace racksmith::playbook
