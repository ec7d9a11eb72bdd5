#include "bmc/hardware_json.h"

namespace racksmith::bmc {

nlohmann::json HardwareFactsJson(const HardwareReport& r) {
  nlohmann::json j{{"system_id", r.system_id},
                   {"manufacturer", r.manufacturer},
                   {"model", r.model},
                   {"serial", r.serial},
                   {"sku", r.sku},
                   {"uuid", r.uuid},
                   {"bios_version", r.bios_version},
                   {"bmc_firmware", r.bmc_firmware},
                   {"power", PowerStateName(r.power)},
                   {"health", r.health},
                   {"health_rollup", r.health_rollup},
                   {"cpu_count", r.cpu_count},
                   {"logical_cpus", r.logical_cpus},
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

}  // namespace racksmith::bmc
