// Text and JSON views of a HardwareReport for `racksmith bmc inventory`.
#include <cmath>
#include <map>
#include <sstream>

#include "cli/bmc_cmd.h"

namespace racksmith::cli {

nlohmann::json HardwareJson(const bmc::HardwareReport& r) {
  nlohmann::json j{{"system_id", r.system_id},
                   {"manufacturer", r.manufacturer},
                   {"model", r.model},
                   {"serial", r.serial},
                   {"sku", r.sku},
                   {"uuid", r.uuid},
                   {"bios_version", r.bios_version},
                   {"bmc_firmware", r.bmc_firmware},
                   {"power", bmc::PowerStateName(r.power)},
                   {"health", r.health},
                   {"health_rollup", r.health_rollup},
                   {"cpu_count", r.cpu_count},
                   {"cpu_model", r.cpu_model},
                   {"memory_gib", r.memory_gib}};
  j["gpus"] = nlohmann::json::array();
  for (const auto& g : r.gpus)
    j["gpus"].push_back({{"id", g.id},
                         {"model", g.model},
                         {"manufacturer", g.manufacturer},
                         {"serial", g.serial},
                         {"part_number", g.part_number},
                         {"firmware", g.firmware},
                         {"memory_mib", g.memory_mib},
                         {"health", g.health},
                         {"source", g.source}});
  j["drives"] = nlohmann::json::array();
  for (const auto& d : r.drives)
    j["drives"].push_back({{"id", d.id},
                           {"model", d.model},
                           {"serial", d.serial},
                           {"capacity_bytes", d.capacity_bytes},
                           {"media_type", d.media_type},
                           {"protocol", d.protocol},
                           {"health", d.health},
                           {"odata_id", d.odata_id},
                           {"secure_erase", d.secure_erase}});
  j["nics"] = nlohmann::json::array();
  for (const auto& n : r.nics)
    j["nics"].push_back({{"id", n.id},
                         {"mac", n.mac},
                         {"speed_mbps", n.speed_mbps},
                         {"link_status", n.link_status},
                         {"ipv4", n.ipv4}});
  j["warnings"] = r.warnings;
  return j;
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
  out << "cpus: " << r.cpu_count << (r.cpu_model.empty() ? "" : " x " + r.cpu_model) << "\n";
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
