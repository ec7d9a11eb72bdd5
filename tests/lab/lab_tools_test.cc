// The lab's simulated tools (lab/tools) against real captures in ../shared/gpu-tools: same
// XML element tree as the capture of the same GPU model and driver generation, the same
// dcgmi JSON structure, and faults visible in each tool. Run directly on a facts file (no
// SSH), as the node's sandbox would run them.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lab/lab_rack_internal.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Tools {
  TempDir tmp;
  json facts;

  Tools(const std::string& model, int count, const std::string& driver) {
    lab::LabNodeSpec n;
    n.name = "tools-n1";
    n.gpu_model = model;
    n.gpu_count = count;
    n.driver_version = driver;
    n.cpus = 64;
    n.memory_gib = 256;
    facts = lab::NodeFacts(n, lab::GpuModels());
    Save();
    fs::create_directories(tmp.Join("bin"));
    std::ifstream names(SourcePath("lab/tools/TOOLS"));
    std::string name;
    while (names >> name)
      fs::create_symlink(SourcePath("lab/tools/labtool.py"), tmp.Join("bin/" + name));
  }
  void Save() { std::ofstream(tmp.Join("facts.json")) << facts.dump(); }
  void Fault(const std::string& spec) {
    REQUIRE(lab::ApplyFault(facts, spec).ok());
    Save();
  }
  CliResult Run(std::vector<std::string> argv) {
    argv[0] = tmp.Join("bin/" + argv[0]);
    CliOptions o;
    o.env["RACKSMITH_LAB_FACTS"] = tmp.Join("facts.json");
    o.env["RACKSMITH_LAB_STATE"] = tmp.Join("state");
    o.env["RACKSMITH_LAB_NODE"] = "";
    return RunProgram(argv, o);
  }
  std::string Paths(const std::string& xml_file) {
    auto r = RunProgram({"python3", SourcePath("tests/lab/xml_paths.py"), xml_file});
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
};

void CheckSameTree(const std::string& model, int count, const std::string& driver,
                   const std::string& capture) {
  Tools t(model, count, driver);
  auto x = t.Run({"nvidia-smi", "-q", "-x"});
  REQUIRE(x.exit_code == 0);
  std::ofstream(t.tmp.Join("ours.xml")) << x.out;
  CHECK(t.Paths(t.tmp.Join("ours.xml")) ==
        t.Paths(SharedPath("gpu-tools/nvidia-smi-xml/" + capture)));
  CHECK_THAT(x.out,
             Catch::Contains("<attached_gpus>" + std::to_string(count) + "</attached_gpus>"));
  CHECK_THAT(x.out, Catch::Contains("<product_name>" + model + "</product_name>"));
}

TEST_CASE(
    "nvidia-smi -q -x of an A100 on a 550 driver has the element tree of the real A100 "
    "capture",
    "[lab]") {
  CheckSameTree("NVIDIA A100-SXM4-80GB", 8, "550.127.05", "a100-sxm4-v12.xml");
}

TEST_CASE(
    "nvidia-smi -q -x of an RTX 3090 on a 525 driver has the element tree of the real "
    "RTX 3090 capture",
    "[lab]") {
  CheckSameTree("NVIDIA GeForce RTX 3090", 4, "525.147.05", "rtx-3090-v12.xml");
}

TEST_CASE("nvidia-smi -q -x of a T4 and an A10G on a 515 driver match their v11 captures",
          "[lab]") {
  CheckSameTree("Tesla T4", 1, "515.105.01", "tesla-t4.xml");
  CheckSameTree("NVIDIA A10G", 1, "515.105.01", "a10g.xml");
}

TEST_CASE("nvidia-smi CSV queries, -L and topo -m answer from the node's GPUs", "[lab]") {
  Tools t("NVIDIA A100-SXM4-80GB", 8, "550.127.05");
  auto q = t.Run({"nvidia-smi", "--query-gpu=index,name,memory.total,power.limit", "--format=csv"});
  REQUIRE(q.exit_code == 0);
  std::istringstream lines(q.out);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  CHECK(header == "index, name, memory.total [MiB], power.limit [W]");
  // 81920 MiB and a 500 W limit are what the real A100 capture reports.
  CHECK(first == "0, NVIDIA A100-SXM4-80GB, 81920 MiB, 500.00 W");
  auto n = t.Run(
      {"nvidia-smi", "--query-gpu=memory.total,uuid", "--format=csv,noheader,nounits", "-i", "3"});
  CHECK(n.out.rfind("81920, GPU-", 0) == 0);
  CHECK(n.out == "81920, " + t.facts["gpus"][3]["uuid"].get<std::string>() + "\n");
  auto bad = t.Run({"nvidia-smi", "--query-gpu=bogus", "--format=csv"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.out, Catch::Contains("Field \"bogus\" is not a valid field to query."));
  auto list = t.Run({"nvidia-smi", "-L"});
  CHECK_THAT(list.out, Catch::StartsWith("GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-"));
  auto topo = t.Run({"nvidia-smi", "topo", "-m"});
  CHECK_THAT(topo.out, Catch::StartsWith("\tGPU0\tGPU1\tGPU2\tGPU3\tGPU4\tGPU5\tGPU6\tGPU7\tCPU "
                                         "Affinity\tNUMA Affinity"));
  CHECK_THAT(topo.out, Catch::Contains("GPU0\t X \tNV12\t"));
}

json DiagJson(const std::string& text) {
  // The real capture has a stray warning line before the JSON, and nulls between tests.
  return json::parse(text.substr(text.find('{')));
}

std::set<std::string> Statuses(const json& diag) {
  std::set<std::string> out;
  for (const auto& c : diag["DCGM GPU Diagnostic"]["test_categories"])
    for (const auto& t : c["tests"])
      if (t.is_object())
        for (const auto& r : t["results"]) out.insert(r["status"].get<std::string>());
  return out;
}

TEST_CASE("dcgmi diag -j has the structure of real DCGM 3.1 output and fails on faults", "[lab]") {
  std::ifstream in(SharedPath("gpu-tools/dcgm/dcgmi-diag-r3-8gpu-dcgm3.1.json"));
  std::string capture((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json real = DiagJson(capture);
  Tools t("NVIDIA A100-SXM4-80GB", 8, "550.127.05");
  auto r = t.Run({"dcgmi", "diag", "-r", "3", "-j"});
  REQUIRE(r.exit_code == 0);
  json ours = json::parse(r.out);
  REQUIRE(ours.contains("DCGM GPU Diagnostic"));
  CHECK(ours["DCGM GPU Diagnostic"]["version"] == real["DCGM GPU Diagnostic"]["version"]);
  std::vector<std::string> real_deploy, our_deploy;
  for (const auto& t : real["DCGM GPU Diagnostic"]["test_categories"][0]["tests"])
    if (t.is_object()) real_deploy.push_back(t["name"]);
  for (const auto& t : ours["DCGM GPU Diagnostic"]["test_categories"][0]["tests"])
    our_deploy.push_back(t["name"]);
  CHECK(ours["DCGM GPU Diagnostic"]["test_categories"][0]["category"] == "Deployment");
  CHECK(our_deploy == real_deploy);
  // The same results shape: all-GPU results as a "0,1,..." string, per-GPU ones as numbers.
  CHECK(ours["DCGM GPU Diagnostic"]["test_categories"][0]["tests"][0]["results"][0]["gpu_ids"] ==
        real["DCGM GPU Diagnostic"]["test_categories"][0]["tests"][0]["results"][0]["gpu_ids"]);
  CHECK(ours["DCGM GPU Diagnostic"]["test_categories"][1]["tests"][0]["results"][7]["gpu_ids"] ==
        7);
  CHECK(Statuses(ours) == Statuses(real));

  t.Fault("ecc=2");
  auto failed = t.Run({"dcgmi", "diag", "-r", "2", "-j"});
  CHECK(failed.exit_code == 1);
  json f = json::parse(failed.out);
  CHECK(Statuses(f).count("FAIL") == 1);
  bool memory_failed = false;
  for (const auto& c : f["DCGM GPU Diagnostic"]["test_categories"])
    for (const auto& test : c["tests"])
      for (const auto& res : test["results"])
        if (test["name"] == "GPU Memory" && res["gpu_ids"] == 2)
          memory_failed = res["status"] == "FAIL" && res["warnings"][0].contains("warning");
  CHECK(memory_failed);
}

TEST_CASE("Faults change what nvidia-smi, lspci and dmesg report", "[lab]") {
  Tools t("NVIDIA A100-SXM4-80GB", 8, "550.127.05");
  t.Fault("gpu-missing=5");
  t.Fault("thermal=1");
  t.Fault("pcie-width=8@2");
  t.Fault("ecc=3");
  t.Fault("xid=48@3");
  auto list = t.Run({"nvidia-smi", "-L"});
  CHECK(std::count(list.out.begin(), list.out.end(), '\n') == 7);
  CHECK_THAT(list.out, !Catch::Contains("GPU 5:"));
  auto lspci = t.Run({"lspci", "-d", "10de:"});
  CHECK(std::count(lspci.out.begin(), lspci.out.end(), '\n') == 7);
  CHECK_THAT(lspci.out, !Catch::Contains("90:00.0"));  // GPU 5's bus
  auto x = t.Run({"nvidia-smi", "-q", "-x", "-i", "1"});
  CHECK_THAT(x.out, Catch::Contains("<clocks_event_reason_hw_thermal_slowdown>Active"
                                    "</clocks_event_reason_hw_thermal_slowdown>"));
  auto width = t.Run(
      {"nvidia-smi", "--query-gpu=pcie.link.width.current", "--format=csv,noheader", "-i", "2"});
  CHECK(width.out == "8\n");
  auto vv = t.Run({"lspci", "-vv", "-s", "47:00.0"});
  CHECK_THAT(vv.out, Catch::Contains("LnkSta:\tSpeed 16GT/s (ok), Width x8 (downgraded)"));
  auto ecc = t.Run({"nvidia-smi", "--query-gpu=ecc.errors.uncorrected.volatile.total",
                    "--format=csv,noheader", "-i", "3"});
  CHECK(ecc.out != "0\n");
  auto dmesg = t.Run({"dmesg"});
  CHECK_THAT(dmesg.out, Catch::Contains("NVRM: Xid (PCI:0000:4E:00): 48, pid='<unknown>'"));
  t.Fault("clear");
  auto back = t.Run({"nvidia-smi", "-L"}).out;
  CHECK(std::count(back.begin(), back.end(), '\n') == 8);
  CHECK_THAT(t.Run({"dmesg"}).out, !Catch::Contains("Xid"));
}

TEST_CASE("The package manager, systemctl and mount shims record state under the node's var",
          "[lab]") {
  Tools t("NVIDIA GeForce RTX 3090", 4, "525.147.05");
  CHECK(t.Run({"dpkg-query", "-W", "slurmd"}).exit_code == 1);
  REQUIRE(t.Run({"apt-get", "install", "-y", "slurmd", "nvidia-driver-525"}).exit_code == 0);
  auto q = t.Run({"dpkg-query", "-W", "-f=${Version}", "nvidia-driver-525"});
  CHECK(q.out == "525.147.05-0ubuntu1");
  CHECK(t.Run({"systemctl", "is-active", "slurmd"}).out == "inactive\n");
  CHECK(t.Run({"systemctl", "is-active", "slurmd"}).exit_code == 3);
  REQUIRE(t.Run({"systemctl", "enable", "--now", "slurmd"}).exit_code == 0);
  CHECK(t.Run({"systemctl", "is-active", "slurmd"}).out == "active\n");
  CHECK(t.Run({"systemctl", "is-enabled", "slurmd.service"}).out == "enabled\n");
  auto missing = t.Run({"systemctl", "start", "no-such-unit"});
  CHECK(missing.exit_code == 5);
  CHECK(missing.err ==
        "Failed to start no-such-unit.service: Unit no-such-unit.service not found.\n");
  fs::create_directories(t.tmp.Join("mnt"));
  REQUIRE(
      t.Run({"mount", "-t", "nfs", "-o", "rw,hard", "127.0.3.1:/export/home", t.tmp.Join("mnt")})
          .exit_code == 0);
  CHECK_THAT(t.Run({"mount"}).out, Catch::Contains("127.0.3.1:/export/home on " +
                                                   t.tmp.Join("mnt") + " type nfs (rw,hard)"));
  CHECK(t.Run({"mountpoint", "-q", t.tmp.Join("mnt")}).exit_code == 0);
  // A remount keeps the source and takes the new options.
  REQUIRE(t.Run({"mount", "-o", "remount,noatime", t.tmp.Join("mnt")}).exit_code == 0);
  CHECK_THAT(t.Run({"mount"}).out,
             Catch::Contains("127.0.3.1:/export/home on " + t.tmp.Join("mnt") +
                             " type nfs (rw,hard,noatime)"));
  CHECK(t.Run({"mount", "-o", "remount", t.tmp.Join("state")}).exit_code == 32);
  CHECK(fs::exists(t.tmp.Join("state/packages.json")));
}

TEST_CASE("dmidecode -t system reports the node's identity", "[lab]") {
  Tools t("NVIDIA GeForce RTX 3090", 4, "525.147.05");
  auto r = t.Run({"dmidecode", "-t", "system"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("System Information\n\tManufacturer: Racksmith Lab\n"));
  CHECK_THAT(r.out, Catch::Contains("\tSerial Number: LAB-tools-n1\n"));
  CHECK(t.Run({"dmidecode", "-s", "system-serial-number"}).out == "LAB-tools-n1\n");
}

}  // namespace
}  // namespace racksmith::testing
