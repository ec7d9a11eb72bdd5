// racksmith/bmc: the JSON form of a HardwareReport: what `racksmith bmc inventory --json`
// prints and what the discover step records as a node's BMC facts (the planner reads
// "gpus"[].model, "memory_gib" and "logical_cpus" back: plan::ParseHardwareFacts). One
// function, so that the two can never drift apart. Fields are only ever added.
#pragma once

#include <nlohmann/json.hpp>

#include "bmc/bmc.h"

namespace racksmith::bmc {

nlohmann::json HardwareFactsJson(const HardwareReport& report);

}  // namespace racksmith::bmc
