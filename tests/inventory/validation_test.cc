// Validation: every error of a file, each with file:line:col, expected and found, sorted.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "inventory/inventory.h"

namespace racksmith::inventory {
namespace {

// A small valid inventory that the cases below break in one place each.
const char* kHead = R"(site: v
defaults:
  bmc: {username: admin, password: {env: BMC_PW}}
profiles:
  base:
    hardware: {gpus: {model: "Tesla V100-SXM2-32GB", count: 8}}
mounts:
  data: {type: nfs, source: "nas:/data", target: /data}
racks:
  - name: r01
    nodes:
)";

std::vector<std::string> Errors(const std::string& text) {
  LoadOutcome out = LoadInventoryFromStringAll(text, "v.yaml");
  std::vector<std::string> lines;
  for (const Error& e : out.errors) lines.push_back(e.ToString());
  return lines;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  return all;
}

// True if exactly one error is reported and it is at `where` and contains `part`.
bool OneError(const std::string& text, const std::string& where, const std::string& part) {
  std::vector<std::string> errors = Errors(text);
  UNSCOPED_INFO(Joined(errors));
  return errors.size() == 1 && errors[0].rfind("v.yaml:" + where + ": ", 0) == 0 &&
         errors[0].find(part) != std::string::npos;
}

TEST_CASE("The head used by the validation cases is itself valid", "[inventory]") {
  std::string text = std::string(kHead) + "      - {name: n1, profile: base, ip: 10.0.0.1}\n";
  CHECK(Errors(text).empty());
}

TEST_CASE("An unknown key is reported with the closest known key", "[inventory]") {
  std::string text = std::string(kHead) + "      - {name: n1, profle: base, ip: 10.0.0.1}\n";
  CHECK(OneError(text, "12:20", "unknown key 'profle' in a node entry; did you mean 'profile'?"));
  CHECK(OneError("site: v\nprofils: {}\n", "2:1", "did you mean 'profiles'?"));
  CHECK(OneError(std::string(kHead) + "      - {name: n1, ip: 10.0.0.1, hardware: {gpu: {}}}\n",
                 "12:45", "unknown key 'gpu' in hardware; did you mean 'gpus'?"));
}

TEST_CASE("A partition listed twice for a node is an error", "[inventory]") {
  std::string text = std::string(kHead) +
                     "      - {name: n1, ip: 10.0.0.1, slurm: {partitions: [gpu, debug, gpu]}}\n";
  std::vector<std::string> errors = Errors(text);
  INFO(Joined(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("v.yaml:12:54:") == 0);  // the list
  CHECK(errors[0].find("slurm.partitions lists 'gpu' twice") != std::string::npos);
}

TEST_CASE("Every error of a file is reported, sorted by line and column", "[inventory]") {
  std::string text =
      std::string(kHead) +
      "      - {name: n1, profile: nope, ip: 10.0.0.1}\n"
      "      - {name: n2, ip: 10.0.0.2, state: broken}\n"
      "      - {name: n3, ip: 10.0.0.2, software: {cuda: \"twelve\"}}\n"
      "      - {name: n1, ip: 10.0.0.4, hardware: {gpus: {model: GTX 9999, count: 1}}}\n";
  std::vector<std::string> errors = Errors(text);
  INFO(Joined(errors));
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].find("v.yaml:12:") == 0);
  CHECK(errors[0].find("unknown profile 'nope'") != std::string::npos);
  CHECK(errors[1].find("v.yaml:13:") == 0);
  CHECK(errors[1].find("expected state active, maintenance or retired") != std::string::npos);
  CHECK(errors[2].find("v.yaml:14:") == 0);
  CHECK(errors[2].find("duplicate ip '10.0.0.2'") != std::string::npos);
  CHECK(errors[3].find("v.yaml:14:") == 0);
  CHECK(errors[3].find("expected a version for 'software.cuda'") != std::string::npos);
  CHECK(errors[4].find("v.yaml:15:") == 0);
  for (size_t i = 1; i < errors.size(); ++i) CHECK(errors[i - 1] <= errors[i]);
}

TEST_CASE("Every error names file, line and column", "[inventory]") {
  std::string text = std::string(kHead) +
                     "      - {name: n1, profile: nope, ip: 10.0.0.1}\n"
                     "      - {name: \"n[1-3]\", ip: \"10.0.1.[1-2]\"}\n"
                     "      - {name: n9, ip: 10.0.2.1, bmc: {password: hunter2}}\n"
                     "bogus: 1\n";
  LoadOutcome out = LoadInventoryFromStringAll(text, "v.yaml");
  REQUIRE(out.errors.size() >= 4);
  for (const Error& e : out.errors) {
    INFO(e.ToString());
    CHECK(e.where().file == "v.yaml");
    CHECK(e.where().line > 0);
    CHECK(e.where().col > 0);
    CHECK((e.message().find("expected") != std::string::npos ||
           e.message().find("unknown key") == 0));
  }
}

TEST_CASE("Duplicate node names are errors naming both places", "[inventory]") {
  std::string text = std::string(kHead) +
                     "      - {name: \"n[1-2]\", ip: \"10.0.0.[1-2]\"}\n"
                     "      - {name: n2, ip: 10.0.0.3}\n";
  CHECK(OneError(text, "13:16", "duplicate node name 'n2' (also at v.yaml:12:16)"));
}

TEST_CASE("Duplicate IPs, BMC addresses and MACs are errors", "[inventory]") {
  std::string ip =
      std::string(kHead) + "      - {name: n1, ip: 10.0.0.1}\n      - {name: n2, ip: 10.0.0.1}\n";
  CHECK(OneError(ip, "13:24", "duplicate ip '10.0.0.1' of node n2 (also node n1 at v.yaml:12:24)"));
  std::string bmc = std::string(kHead) +
                    "      - {name: n1, ip: 10.0.0.1, bmc: 10.9.0.1}\n"
                    "      - {name: n2, ip: 10.0.0.2, bmc: 10.9.0.1}\n";
  CHECK(OneError(bmc, "13:39", "duplicate bmc address '10.9.0.1' of node n2"));
  std::string mac = std::string(kHead) +
                    "      - {name: n1, ip: 10.0.0.1, mac: \"AA:BB:CC:00:00:01\"}\n"
                    "      - {name: n2, ip: 10.0.0.2, mac: \"aa-bb-cc-00-00-01\"}\n";
  CHECK(OneError(mac, "13:39", "duplicate mac 'aa:bb:cc:00:00:01' of node n2"));
}

TEST_CASE("Address lists must expand to as many values as there are names", "[inventory]") {
  std::string ip = std::string(kHead) + "      - {name: \"n[01-16]\", ip: \"10.1.0.[11-25]\"}\n";
  CHECK(
      OneError(ip, "12:32", "expected 'ip' to expand to 16 values (one per node name), found 15"));
  std::string bmc = std::string(kHead) +
                    "      - {name: \"n[1-3]\", ip: \"10.1.0.[1-3]\", bmc: \"10.9.0.[1-4]\"}\n";
  CHECK(
      OneError(bmc, "12:51", "expected 'bmc' to expand to 3 values (one per node name), found 4"));
  std::string mac =
      std::string(kHead) +
      "      - {name: \"n[1-3]\", ip: \"10.1.0.[1-3]\", mac: \"02:00:00:00:00:[0a-0b]\"}\n";
  CHECK(
      OneError(mac, "12:51", "expected 'mac' to expand to 3 values (one per node name), found 2"));
}

TEST_CASE("A literal password is an error that says how to fix it and never shows it",
          "[inventory]") {
  std::string text =
      std::string(kHead) + "      - {name: n1, ip: 10.0.0.1, bmc: {password: hunter2}}\n";
  std::vector<std::string> errors = Errors(text);
  REQUIRE(errors.size() == 1);
  INFO(errors[0]);
  CHECK(errors[0].find("v.yaml:12:50: ") == 0);
  CHECK(errors[0].find("{env: VARIABLE}") != std::string::npos);
  CHECK(errors[0].find("{file: /path/to/secret}") != std::string::npos);
  CHECK(errors[0].find("hunter2") == std::string::npos);
  std::string ssh = "site: v\ndefaults: {ssh: {key: {value: hunter2}}}\n";
  std::vector<std::string> ssh_errors = Errors(ssh);
  REQUIRE(ssh_errors.size() == 1);
  CHECK(ssh_errors[0].find("{env: VARIABLE} or {file: PATH}") != std::string::npos);
}

TEST_CASE("An SSH private key written inline is an error that does not show it", "[inventory]") {
  std::string text =
      "site: v\ndefaults:\n  ssh:\n    key: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n"
      "      b3BlbnNzaC1rZXktdjEAAAAA\n      -----END OPENSSH PRIVATE KEY-----\n";
  std::vector<std::string> errors = Errors(text);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("v.yaml:4:10: expected a path to a private key file") == 0);
  CHECK(errors[0].find("b3BlbnNzaC1rZXktdjEAAAAA") == std::string::npos);
}

TEST_CASE("bmc.system is a ComputerSystem Id, never something that could leave its segment",
          "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll(
      "site: v\ndefaults: {bmc: {password: {env: PW}, system: System.Embedded.1}}\n"
      "racks: [{name: r, nodes: "
      "[{name: n1, ip: 10.0.0.1, bmc: 10.9.0.1}, "
      "{name: n2, ip: 10.0.0.2, bmc: {address: 10.9.0.2, system: Blade_2}}]}]\n",
      "v.yaml");
  REQUIRE(out.ok());
  CHECK(out.inventory.nodes[0].bmc.system == "System.Embedded.1");
  CHECK(out.inventory.nodes[1].bmc.system == "Blade_2");
  CHECK(OneError("site: v\ndefaults: {bmc: {system: ../Managers/1}}\n", "2:26",
                 "expected bmc.system to be a ComputerSystem Id (letters, digits, '.', '_', "
                 "'-'), found"));
}

TEST_CASE("Secrets are accepted only as {env: NAME} or {file: PATH}", "[inventory]") {
  std::string text =
      "site: v\ndefaults: {bmc: {password: {file: /etc/rs/pw}}, "
      "ssh: {key: {env: SSH_KEY}}}\nracks: [{name: r, nodes: "
      "[{name: n1, ip: 10.0.0.1, bmc: 10.9.0.1}]}]\n";
  LoadOutcome out = LoadInventoryFromStringAll(text, "v.yaml");
  REQUIRE(out.ok());
  CHECK(out.inventory.nodes[0].bmc.password.ToString() == "{file: /etc/rs/pw}");
  CHECK(out.inventory.nodes[0].ssh.key.ToString() == "{env: SSH_KEY}");
  CHECK(OneError("site: v\ndefaults: {bmc: {password: {env: \"BAD NAME\"}}}\n", "2:34",
                 "expected an environment variable name ([A-Za-z0-9_]) for 'bmc.password', found a "
                 "value that is not one (not shown: it may be the secret itself)"));
  // The password written where its variable's name belongs is never echoed.
  std::vector<std::string> leaked =
      Errors("site: v\ndefaults: {bmc: {password: {env: \"hunter2!\"}}}\n");
  REQUIRE(leaked.size() == 1);
  CHECK(leaked[0].find("hunter2") == std::string::npos);
  CHECK(OneError("site: v\ndefaults: {bmc: {password: {vault: x}}}\n", "2:28",
                 "expected a secret reference {env: VARIABLE} or {file: PATH}"));
}

TEST_CASE("A BMC address with credentials in it is an error that does not show them",
          "[inventory]") {
  const std::string head =
      "site: v\ndefaults: {bmc: {username: admin, password: {env: PW}}}\n"
      "racks: [{name: r, nodes: [{name: n1, ip: 10.0.0.1, bmc: ";
  std::vector<std::string> errors = Errors(head + "\"https://admin:hunter2@10.9.0.1\"}]}]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("expected a BMC address without credentials") != std::string::npos);
  CHECK(errors[0].find("hunter2") == std::string::npos);
  CHECK(Errors(head + "\"admin@10.9.0.1\"}]}]\n").size() == 1);
  CHECK(Errors(head + "\"https://10.9.0.1:8443\"}]}]\n").empty());
  // A password with '#' in it (where a URL parser would see a fragment, and no user).
  errors = Errors(head + "\"https://admin:pa#hunter2@10.9.0.1\"}]}]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("hunter2") == std::string::npos);
  // Nor does an address that also fails to expand quote them.
  errors = Errors(
      "site: v\ndefaults: {bmc: {username: admin, password: {env: PW}}}\n"
      "racks: [{name: r, nodes: [{name: \"n[1-4]\", ip: \"10.0.0.[1-4]\", "
      "bmc: \"https://admin:hunter2@10.9.0.[1-3]\"}]}]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("expected a BMC address without credentials") != std::string::npos);
  CHECK(errors[0].find("hunter2") == std::string::npos);
  // A libvirt URI names its SSH user, never a password.
  const std::string kvm =
      "site: v\nracks: [{name: r, nodes: [{name: vm1, ip: 10.0.0.1, bmc: {driver: libvirt, "
      "address: ";
  CHECK(Errors(kvm + "\"qemu+ssh://root@kvm1/system\"}}]}]\n").empty());
  errors = Errors(kvm + "\"qemu+ssh://root:hunter2@kvm1/system\"}}]}]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("hunter2") == std::string::npos);
}

TEST_CASE("A redfish BMC address without a password reference is an error", "[inventory]") {
  std::string text =
      "site: v\nracks: [{name: r, nodes: [{name: \"n[1-2]\", ip: \"10.0.0.[1-2]\", "
      "bmc: \"10.9.0.[1-2]\"}]}]\n";
  CHECK(OneError(text, "2:69", "expected bmc.password ({env: VARIABLE} or {file: PATH})"));
}

TEST_CASE("Unknown profiles and mounts are errors with a suggestion", "[inventory]") {
  std::string profile = std::string(kHead) + "      - {name: n1, profile: bse, ip: 10.0.0.1}\n";
  CHECK(OneError(profile, "12:29", "unknown profile 'bse'; did you mean 'base'?"));
  std::string mount = std::string(kHead) + "      - {name: n1, ip: 10.0.0.1, mounts: [dta]}\n";
  CHECK(OneError(mount, "12:43", "unknown mount 'dta'; did you mean 'data'?"));
}

TEST_CASE("Unknown GPU models are errors with a suggestion", "[inventory]") {
  std::string text = std::string(kHead) +
                     "      - {name: n1, ip: 10.0.0.1, hardware: {gpus: {model: "
                     "\"NVIDIA GeForce RTX 3090X\", count: 2}}}\n";
  CHECK(OneError(text, "12:59", "did you mean 'NVIDIA GeForce RTX 3090'?"));
  std::string no_model =
      std::string(kHead) +
      "      - {name: n1, ip: 10.0.0.1, hardware: {gpus: {model: ~, count: 2}}}\n";
  CHECK(OneError(no_model, "12:69", "expected hardware.gpus.model beside hardware.gpus.count 2"));
}

TEST_CASE("Bad versions of firmware, image software are errors", "[inventory]") {
  CHECK(OneError("site: v\ndefaults: {software: {cuda: \"12 4\"}}\n", "2:29",
                 "expected a version for 'software.cuda'"));
  CHECK(OneError("site: v\ndefaults: {firmware: {bios: \"\"}}\n", "2:29",
                 "expected a version for 'firmware.bios'"));
  CHECK(OneError("site: v\ndefaults: {software: {nvidia_driver: [550]}}\n", "2:38",
                 "expected a version for 'software.nvidia_driver'"));
  CHECK(OneError("site: v\ndefaults: {software: {\"bad name\": \"1.0\"}}\n", "2:23",
                 "expected a component name"));
  CHECK(Errors("site: v\ndefaults: {software: {cuda: \"12.4\", slurm: 23.11.4-1, "
               "nvidia_driver: 550.127.05}, firmware: {bios: \"2.19.1\", bmc: 7.10.30.00}}\n")
            .empty());
}

TEST_CASE("A cycle of extends is reported with its path", "[inventory]") {
  std::string text =
      "site: v\nprofiles:\n  a: {extends: c}\n  b: {extends: a}\n  c: {extends: b}\n";
  std::vector<std::string> errors = Errors(text);
  INFO(Joined(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("expected profiles to extend without a cycle, found a -> c -> b -> a") !=
        std::string::npos);
  CHECK(OneError("site: v\nprofiles:\n  a: {extends: a}\n", "3:16", "found a -> a"));
  CHECK(OneError("site: v\nprofiles:\n  a: {extends: bb}\n  b: {}\n", "3:16",
                 "unknown profile 'bb'; did you mean 'b'?"));
}

TEST_CASE("Rack units must fit the rack and not overlap", "[inventory]") {
  std::string over =
      "site: v\nracks:\n  - name: r\n    height: 10\n    nodes:\n"
      "      - {name: \"n[1-3]\", ip: \"10.0.0.[1-3]\", unit: 5, height: 2}\n";
  CHECK(Errors(over).empty());
  std::string over2 =
      "site: v\nracks:\n  - name: r\n    height: 10\n    nodes:\n"
      "      - {name: \"n[1-3]\", ip: \"10.0.0.[1-3]\", unit: 6, height: 2}\n";
  CHECK(OneError(over2, "6:52", "expected node n3 (units 10-11) to fit in rack r of height 10"));
  std::string overlap =
      "site: v\nracks:\n  - name: r\n    nodes:\n"
      "      - {name: a, ip: 10.0.0.1, unit: 1, height: 2}\n"
      "      - {name: b, ip: 10.0.0.2, unit: 2}\n";
  CHECK(OneError(overlap, "6:39",
                 "expected rack unit 2 of rack r to be free for node b, found it "
                 "taken by node a"));
  CHECK(
      OneError("site: v\nracks:\n  - {name: r, height: 4, nodes: [{name: a, ip: 10.0.0.1, "
               "unit: 5}]}\n",
               "3:64", "expected an integer from 1 to 4 for 'unit'"));
}

TEST_CASE("Racks need a unique valid name", "[inventory]") {
  CHECK(OneError("site: v\nracks:\n  - {name: r}\n  - {name: r}\n", "4:12",
                 "duplicate rack 'r' (also at v.yaml:3:5)"));
  CHECK(OneError("site: v\nracks:\n  - {location: x}\n", "3:5", "expected 'name' in a rack"));
  CHECK(
      OneError("site: v\nracks:\n  - {name: r, postion: 2}\n", "3:15", "did you mean 'position'?"));
}

TEST_CASE("Malformed hostlists in names are errors at the name", "[inventory]") {
  CHECK(OneError(std::string(kHead) + "      - {name: \"n[3-1]\", ip: 10.0.0.1}\n", "12:16",
                 "expected a node name or hostlist"));
  CHECK(OneError(std::string(kHead) + "      - {name: \"n[1-2\", ip: 10.0.0.1}\n", "12:16",
                 "expected a node name or hostlist"));
  CHECK(OneError(std::string(kHead) + "      - {name: n1, ip: 10.0.0.300}\n", "12:24",
                 "expected an IPv4 or IPv6 address for 'ip'"));
  CHECK(OneError(std::string(kHead) + "      - {name: n1}\n", "12:9", "expected 'ip'"));
}

TEST_CASE("A file without a site is an error, and two files must agree on it", "[inventory]") {
  CHECK(OneError("racks: []\n", "1:1", "expected a top-level 'site'"));
  CHECK(OneError("- a\n- b\n", "1:1", "expected a mapping with site"));
}

TEST_CASE("Mounts need a known type, a source and an absolute target", "[inventory]") {
  CHECK(OneError("site: v\nmounts:\n  d: {type: nsf, source: a, target: /d}\n", "3:13",
                 "did you mean 'nfs'?"));
  CHECK(OneError("site: v\nmounts:\n  d: {type: lustre, target: /d}\n", "3:6",
                 "expected 'source' in mount 'd'"));
  CHECK(OneError("site: v\nmounts:\n  d: {type: gpfs, source: fs0, target: d}\n", "3:40",
                 "expected an absolute path"));
  CHECK(Errors("site: v\nmounts:\n  s: {type: local, target: /scratch}\n").empty());
}

TEST_CASE("Turning TLS verification off must be explicit", "[inventory]") {
  CHECK(OneError("site: v\ndefaults: {bmc: {tls: {verify: false}}}\n", "2:32",
                 "expected 'insecure: true' beside 'verify: false'"));
  CHECK(Errors("site: v\ndefaults: {bmc: {tls: {verify: false, insecure: true}}}\n").empty());
}

TEST_CASE("The number of errors is capped", "[inventory]") {
  std::string text = "site: v\ndefaults:\n";
  for (int i = 0; i < 300; ++i) text += "  k" + std::to_string(i) + ": 1\n";
  LoadOutcome out = LoadInventoryFromStringAll(text, "v.yaml");
  REQUIRE(out.errors.size() == kMaxErrors + 1);
  CHECK(out.errors.back().message().find("too many errors") != std::string::npos);
}

}  // namespace
}  // namespace racksmith::inventory
