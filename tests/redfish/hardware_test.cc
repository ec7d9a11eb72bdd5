// Hardware parsing on hand-written JSON: GPUs from PCIe functions and vendor devices,
// fallbacks when summaries are missing, and hostile JSON that must not throw.
#include <catch2/catch.hpp>
#include <map>

#include "redfish/hardware.h"
#include "redfish/json_fields.h"

namespace racksmith::testing {
namespace {

using redfish::Json;

// A tree held in memory: path -> body.
class MapReader : public redfish::ResourceReader {
 public:
  explicit MapReader(std::map<std::string, Json> tree) : tree_(std::move(tree)) {}
  Result<Json> Get(const std::string& path) override {
    auto it = tree_.find(path);
    if (it == tree_.end()) return NotFound("no " + path);
    return it->second;
  }
  Result<std::vector<Json>> GetMembers(const std::string& path,
                                       std::vector<std::string>* warnings) override {
    auto coll = Get(path);
    if (!coll.ok()) return coll.error();
    std::vector<Json> out;
    for (const auto& id : redfish::Links(*coll, "Members")) {
      auto m = Get(id);
      if (m.ok())
        out.push_back(*m);
      else if (warnings)
        warnings->push_back(m.error().message());
    }
    return out;
  }

 private:
  std::map<std::string, Json> tree_;
};

Json Ref(const std::string& id) { return Json{{"@odata.id", id}}; }

TEST_CASE("GPUs are found as PCIe devices with a display-class or NVIDIA function", "[redfish]") {
  MapReader reader({
      {"/c/PCIe", Json{{"Members", {Ref("/c/PCIe/0"), Ref("/c/PCIe/1"), Ref("/c/PCIe/2")}}}},
      {"/c/PCIe/0", Json{{"Id", "0"},
                         {"Model", "H100 80GB HBM3"},
                         {"Manufacturer", "NVIDIA"},
                         {"SerialNumber", "1650"},
                         {"Links", {{"PCIeFunctions", {Ref("/f/0")}}}}}},
      {"/c/PCIe/1",
       Json{{"Id", "1"}, {"Name", "ConnectX-7"}, {"Links", {{"PCIeFunctions", {Ref("/f/1")}}}}}},
      {"/c/PCIe/2", Json{{"Id", "2"}, {"Name", "Accel"}, {"PCIeFunctions", Ref("/f/2s")}}},
      {"/f/0", Json{{"DeviceClass", "DisplayController"}, {"VendorId", "0x10de"}}},
      {"/f/1", Json{{"DeviceClass", "NetworkController"}, {"VendorId", "0x15b3"}}},
      {"/f/2s", Json{{"Members", {Ref("/f/2")}}}},
      {"/f/2", Json{{"DeviceClass", "UnassignedClass"}, {"VendorId", "10DE"}}},
      {"/c", Json{{"PCIeDevices", Ref("/c/PCIe")}}},
  });
  redfish::ServiceMap map;
  map.system = Json{{"Id", "s"}};
  map.chassis_path = "/c";
  auto r = redfish::CollectHardware(reader, map);
  REQUIRE(r.ok());
  REQUIRE(r->gpus.size() == 2);
  CHECK(r->gpus[0].model == "H100 80GB HBM3");
  CHECK(r->gpus[0].serial == "1650");
  CHECK(r->gpus[0].source == "PCIeDevices");
  CHECK(r->gpus[1].model == "Accel");
}

TEST_CASE("HPE baseboards and NVSwitches listed as GPU devices are not counted", "[redfish]") {
  bmc::Gpu g;
  CHECK(redfish::GpuFromVendorDevice(Json{{"DeviceType", "GPU"},
                                          {"Name", "NVIDIA A100-SXM4-40GB"},
                                          {"Status", {{"State", "Enabled"}}}},
                                     g));
  CHECK_FALSE(
      redfish::GpuFromVendorDevice(Json{{"DeviceType", "GPU"}, {"Name", "NVIDIA NV Switch"}}, g));
  CHECK_FALSE(redfish::GpuFromVendorDevice(
      Json{{"DeviceType", "GPU"}, {"Name", "NVIDIA HGX A100 8 GPU 40"}}, g));
  CHECK_FALSE(redfish::GpuFromVendorDevice(
      Json{{"DeviceType", "GPU"}, {"Name", "x"}, {"Status", {{"State", "Absent"}}}}, g));
  CHECK_FALSE(redfish::GpuFromVendorDevice(Json{{"DeviceType", "LOM/NIC"}, {"Name", "x"}}, g));
}

TEST_CASE("Memory is summed from the DIMMs when the summary is missing", "[redfish]") {
  MapReader reader({
      {"/m", Json{{"Members", {Ref("/m/1"), Ref("/m/2"), Ref("/m/3")}}}},
      {"/m/1", Json{{"CapacityMiB", 32768}}},
      {"/m/2", Json{{"CapacityMiB", 32768}}},
      {"/m/3", Json{{"CapacityMiB", 32768}, {"Status", {{"State", "Absent"}}}}},
  });
  redfish::ServiceMap map;
  map.system = Json{{"Memory", Ref("/m")}};
  auto r = redfish::CollectHardware(reader, map);
  REQUIRE(r.ok());
  CHECK(r->memory_gib == Approx(64));
}

TEST_CASE("Field names are matched case-insensitively when the exact name is missing",
          "[redfish]") {
  Json j = Json::parse(R"({"members": [{"@odata.id": "/a/"}], "MacAddress": "aa"})");
  CHECK(redfish::Links(j, "Members") == std::vector<std::string>{"/a/"});
  CHECK(redfish::Str(j, "MACAddress") == "aa");
  CHECK(redfish::Link(Json::parse(R"({"x": {"@odata.id": "/t#/Fans/0"}})"), "x") == "/t");
}

TEST_CASE("Fields of the wrong type read as empty instead of throwing", "[redfish]") {
  Json hostile = Json::parse(R"({"Id": 5, "Model": ["x"], "ProcessorSummary": "two",
      "MemorySummary": {"TotalSystemMemoryGiB": "lots"}, "Status": 7,
      "Processors": 3, "EthernetInterfaces": {"@odata.id": 9}, "PowerState": null})");
  bmc::HardwareReport r;
  redfish::ReadSystemSummary(hostile, r);
  CHECK(r.system_id.empty());
  CHECK(r.model.empty());
  CHECK(r.cpu_count == 0);
  CHECK(r.memory_gib == 0);
  MapReader reader({});
  redfish::ServiceMap map;
  map.system = hostile;
  CHECK(redfish::CollectHardware(reader, map).ok());
  CHECK(redfish::Int(Json::parse(R"({"n": 1e300})"), "n", -1) == -1);
  CHECK(redfish::Int(Json::parse(R"({"n": 18446744073709551615})"), "n") == INT64_MAX);
}

}  // namespace
}  // namespace racksmith::testing
