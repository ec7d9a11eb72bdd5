// A lab node's facts file: its hardware (from the inventory and lab/tools/gpu_models.json)
// and its injected faults, which the simulated tools (lab/tools) report.
#include <chrono>
#include <cstdio>

#include "lab/lab_rack_internal.h"

namespace racksmith::lab {
namespace {

using nlohmann::json;

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A stable UUID-shaped id for `seed` (the same node always gets the same GPU UUIDs).
std::string StableUuid(const std::string& seed) {
  uint64_t a = Fnv1a(seed), b = Fnv1a(seed + "#");
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

// PCI buses of the GPUs of an 8-GPU HGX board, in nvidia-smi's order.
const char* kBuses[] = {"07", "0F", "47", "4E", "87", "90", "B7", "BD"};

bool ParseIndex(const std::string& text, int count, int* out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::atoi(text.c_str());
  return *out >= 0 && *out < count;
}

}  // namespace

json GpuModels() {
  json j = json::parse(ReadTrimmed(fs::path(RACKSMITH_SOURCE_DIR) / "lab/tools/gpu_models.json"),
                       nullptr, false);
  return j.is_object() ? j : json::object();
}

json NodeFacts(const LabNodeSpec& n, const json& gpu_models) {
  json facts = {{"node", n.name},
                {"driver_version", n.driver_version},
                {"cuda_version", n.cuda_version},
                {"cpus", n.cpus},
                {"memory_gib", n.memory_gib},
                {"mac", n.mac},
                {"nvswitch", n.nvswitch},
                {"bios_version", n.bios_version},
                {"system",
                 {{"manufacturer", "Racksmith Lab"},
                  {"product", "Lab GPU Server"},
                  {"serial", "LAB-" + n.name},
                  {"uuid", StableUuid(n.name)}}},
                {"gpus", json::array()},
                {"faults", json::object()},
                {"fault_specs", json::array()}};
  json model = gpu_models.value(n.gpu_model, json());
  if (!model.is_object()) {
    // A model the table does not know: plausible values, and the name as given.
    model = gpu_models.value("NVIDIA A100-SXM4-80GB", json::object());
    model["lspci_name"] = "Device [" + n.gpu_model + "]";
  }
  for (int i = 0; i < n.gpu_count; ++i) {
    json g = model;
    std::string bus;
    if (i < 8) {
      bus = kBuses[i];
    } else {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%02X", (0xC0 + i) & 0xFF);
      bus = hex;
    }
    g["index"] = i;
    g["minor"] = i;
    g["name"] = n.gpu_model;
    g["uuid"] = "GPU-" + StableUuid(n.name + "/gpu" + std::to_string(i));
    g["serial"] =
        std::to_string(1650000000000ull + Fnv1a(n.name) % 1000000 * 100 + static_cast<unsigned>(i));
    g["pci_bus"] = bus;
    g["pci_bus_id"] = std::string("00000000:") + bus + ":00.0";
    g["module_id"] = i + 1;
    facts["gpus"].push_back(g);
  }
  return facts;
}

Result<std::string> ApplyFault(json& facts, const std::string& spec) {
  json& f = facts["faults"];
  if (!f.is_object()) f = json::object();
  int count = static_cast<int>(facts.value("gpus", json::array()).size());
  std::string name = spec, arg;
  if (size_t eq = spec.find('='); eq != std::string::npos) {
    name = spec.substr(0, eq);
    arg = spec.substr(eq + 1);
  }
  auto gpu_arg = [&](const std::string& text, int dflt, int* out) -> Status {
    if (count == 0) return InvalidInput("fault " + spec + ": the node has no GPUs");
    if (text.empty()) {
      *out = dflt;
      return Status::Ok();
    }
    if (!ParseIndex(text, count, out))
      return InvalidInput("fault " + spec + ": GPU index must be 0.." + std::to_string(count - 1));
    return Status::Ok();
  };
  auto add_index = [&](const char* key, int idx) {
    if (!f.contains(key)) f[key] = json::array();
    for (const auto& v : f[key])
      if (v == idx) return;
    f[key].push_back(idx);
  };
  std::string bmc;
  int idx = 0;
  if (name == "clear") {
    bool had_bmc = f.contains("bmc");
    f = json::object();
    facts["fault_specs"] = json::array();
    return std::string(had_bmc ? "clear" : "");
  } else if (name == "gpu-missing") {
    Status s = gpu_arg(arg, count - 1, &idx);
    if (!s.ok()) return s.error();
    add_index("gpu_missing", idx);
  } else if (name == "ecc") {
    Status s = gpu_arg(arg, 0, &idx);
    if (!s.ok()) return s.error();
    add_index("ecc", idx);
  } else if (name == "thermal") {
    Status s = gpu_arg(arg, 0, &idx);
    if (!s.ok()) return s.error();
    add_index("thermal", idx);
  } else if (name == "xid" || name == "pcie-width") {
    std::string value = arg, at;
    if (size_t p = arg.find('@'); p != std::string::npos) {
      value = arg.substr(0, p);
      at = arg.substr(p + 1);
    }
    Status s = gpu_arg(at, 0, &idx);
    if (!s.ok()) return s.error();
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
      return InvalidInput("fault " + spec + ": expected " + name + "=NUMBER[@GPU]");
    int v = std::atoi(value.c_str());
    if (name == "xid") {
      if (!f.contains("xid")) f["xid"] = json::array();
      f["xid"].push_back({{"gpu", idx},
                          {"code", v},
                          {"at", std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()}});
    } else {
      if (v != 1 && v != 2 && v != 4 && v != 8 && v != 16)
        return InvalidInput("fault " + spec + ": PCIe width must be 1, 2, 4, 8 or 16");
      if (!f.contains("pcie_width")) f["pcie_width"] = json::object();
      f["pcie_width"][std::to_string(idx)] = v;
    }
  } else if (name == "hang") {
    f["hang"] = true;
  } else if (name == "pxe-fails") {
    f["pxe_fails"] = true;
  } else if (name == "bmc-expire-sessions" || name == "bmc-reboot") {
    return name.substr(4);  // events, not standing faults: nothing to remember
  } else if (name.rfind("bmc-", 0) == 0 &&
             (name == "bmc-500" || name == "bmc-503" || name == "bmc-hang" || name == "bmc-drop" ||
              name == "bmc-slow" || name == "bmc-gpu-missing" || name == "bmc-html")) {
    bmc = name.substr(4);
    f["bmc"] = bmc;
  } else {
    return InvalidInput("unknown fault '" + spec +
                        "': expected gpu-missing[=GPU], ecc[=GPU], xid=CODE[@GPU], "
                        "thermal[=GPU], pcie-width=N[@GPU], hang, pxe-fails, bmc-500, bmc-503, "
                        "bmc-hang, bmc-drop, bmc-slow, bmc-html, bmc-gpu-missing, "
                        "bmc-expire-sessions, bmc-reboot or clear");
  }
  facts["fault_specs"].push_back(spec);
  return bmc;
}

}  // namespace racksmith::lab
