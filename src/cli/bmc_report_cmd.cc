// Text and JSON views of a HardwareReport for `racksmith bmc inventory`.
#include <cmath>
#include <map>
#include <sstream>

#include "bmc/hardware_json.h"
#include "cli/bmc_cmd.h"
#include "plan/plan.h"

namespace racksmith::cli {

nlohmann::json HardwareJson(const bmc::HardwareReport& r) { return bmc::HardwareFactsJson(r); }

std::vector<std::string> HardwareDifferences(const inventory::Hardware& expected,
                                             const bmc::HardwareReport& found) {
  plan::DiscoveredHardware seen;
  for (const auto& g : found.gpus) seen.gpu_models.push_back(g.model);
  seen.memory_gib = found.memory_gib;
  seen.cpus = found.logical_cpus;
  std::vector<std::string> out = plan::HardwareMismatches(expected, seen);
  int drives = 0;
  for (const auto& d : expected.drives) drives += d.count;
  if (drives > 0 && static_cast<int>(found.drives.size()) != drives) {
    out.push_back(std::to_string(found.drives.size()) + " drives, expected " +
                  std::to_string(drives));
  }
  return out;
}

std::string HardwareText(const bmc::HardwareReport& r) {
  std::ostringstream out;
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  out << "system: " << or_dash(r.manufacturer) << " " << or_dash(r.model) << ", serial "
      << or_dash(r.serial) << "\n";
  out << "bios: " << or_dash(r.bios_version) << ", bmc firmware: " << or_dash(r.bmc_firmware)
      << "\n";
  out << "power: " << bmc::PowerStateName(r.power) << ", health: " << or_dash(r.health)
      << " (rollup " << or_dash(r.health_rollup) << ")\n";
  out << "cpus: " << r.cpu_count << (r.cpu_model.empty() ? "" : " x " + r.cpu_model)
      << (r.logical_cpus > 0 ? " (" + std::to_string(r.logical_cpus) + " logical)" : "") << "\n";
  out << "memory: " << std::llround(r.memory_gib) << " GiB\n";
  // GPUs grouped by model so eight identical cards read as one line.
  std::map<std::string, int> models;
  for (const auto& g : r.gpus) ++models[g.model.empty() ? "unknown model" : g.model];
  out << "gpus: " << r.gpus.size();
  if (models.size() == 1) {
    out << " x " << models.begin()->first;
  } else if (!models.empty()) {
    std::string sep = " (";
    for (const auto& [model, n] : models) {
      out << sep << n << " x " << model;
      sep = ", ";
    }
    out << ")";
  }
  out << "\n";
  int64_t bytes = 0;
  for (const auto& d : r.drives) bytes += d.capacity_bytes;
  out << "drives: " << r.drives.size();
  if (bytes > 0) out << " (" << std::llround(static_cast<double>(bytes) / 1e9) << " GB)";
  out << "\n";
  out << "nics:";
  if (r.nics.empty()) out << " 0";
  for (const auto& n : r.nics) out << " " << or_dash(n.mac);
  for (const auto& w : r.warnings) out << "\nwarning: " << w;
  return out.str();
}

}  // namespace racksmith::cli
