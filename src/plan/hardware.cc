// Discovered hardware: parsing BMC facts and comparing them with a node's profile.
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "plan/plan.h"

namespace racksmith::plan {
namespace {

std::string Canonical(const std::string& model) {
  std::string canonical;
  if (inventory::CanonicalGpuModel(model, &canonical)) return canonical;
  return model;
}

std::string Plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Result<DiscoveredHardware> ParseHardwareFacts(std::string_view facts_json) {
  nlohmann::json j = nlohmann::json::parse(facts_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidInput("BMC facts are not a JSON object");
  }
  DiscoveredHardware hw;
  auto gpus = j.find("gpus");
  if (gpus == j.end() || !gpus->is_array()) {
    return InvalidInput("BMC facts have no \"gpus\" list");
  }
  for (const nlohmann::json& g : *gpus) {
    if (g.is_object() && g.contains("model") && g["model"].is_string()) {
      hw.gpu_models.push_back(g["model"].get<std::string>());
    } else {
      hw.gpu_models.emplace_back();
    }
  }
  if (auto m = j.find("memory_gib"); m != j.end() && m->is_number()) {
    hw.memory_gib = m->get<double>();
  }
  // Logical CPUs, as the inventory's `cpus` counts them; "cpu_count" is sockets.
  if (auto c = j.find("logical_cpus"); c != j.end() && c->is_number_integer()) {
    hw.cpus = c->get<int>();
  }
  return hw;
}

std::vector<std::string> HardwareMismatches(const inventory::Hardware& expected,
                                            const DiscoveredHardware& found) {
  std::vector<std::string> problems;
  const int want = expected.gpus.count;
  const int have = static_cast<int>(found.gpu_models.size());
  std::string want_model = expected.gpus.model.empty() ? "" : Canonical(expected.gpus.model);
  if (have != want) {
    problems.push_back(Plural(have, "GPU", "GPUs") + ", expected " + std::to_string(want) +
                       (want_model.empty() ? "" : " x " + want_model));
  }
  if (!want_model.empty()) {
    std::map<std::string, int> wrong;
    for (const std::string& m : found.gpu_models) {
      std::string c = m.empty() ? "an unknown model" : Canonical(m);
      if (c != want_model) ++wrong[c];
    }
    for (const auto& [model, n] : wrong) {
      problems.push_back(Plural(n, "GPU is ", "GPUs are ") + model + ", expected " + want_model);
    }
  }
  if (expected.memory_gib > 0 && found.memory_gib < 0.95 * expected.memory_gib) {
    problems.push_back(std::to_string(std::llround(found.memory_gib)) + " GiB memory, expected " +
                       std::to_string(expected.memory_gib));
  }
  if (expected.cpus > 0 && found.cpus != 0 && found.cpus != expected.cpus) {
    problems.push_back(std::to_string(found.cpus) + " CPUs, expected " +
                       std::to_string(expected.cpus));
  }
  return problems;
}

std::optional<std::string> HardwareMismatch(const inventory::Hardware& expected,
                                            const DiscoveredHardware& found) {
  std::vector<std::string> problems = HardwareMismatches(expected, found);
  if (problems.empty()) return std::nullopt;
  std::string out;
  for (const std::string& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace racksmith::plan
