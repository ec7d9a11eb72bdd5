// GPU model names as nvidia-smi prints them (<product_name> in `nvidia-smi -q -x`).
//
// An alias is the same name without its leading "NVIDIA", "Tesla", "GeForce" or "Quadro"
// word(s), compared without regard to case: "V100-SXM2-32GB", "RTX 3090", "a100-sxm4-80gb".
// Older drivers print GeForce names without "NVIDIA " ("GeForce GTX 1070 Ti"); that is the
// same alias rule, so what a node reports and what the inventory says compare through here.
#include <algorithm>
#include <cctype>
#include <string>

#include "inventory/internal.h"

namespace racksmith::inventory {
namespace {

constexpr const char* kModels[] = {
    // Volta, Pascal, Turing, Kepler data-centre cards ("Tesla ..." in nvidia-smi).
    "Tesla V100-SXM2-16GB",
    "Tesla V100-SXM2-32GB",
    "Tesla V100-PCIE-16GB",
    "Tesla V100-PCIE-32GB",
    "Tesla V100S-PCIE-32GB",
    "Tesla V100-SXM3-32GB",
    "Tesla P100-PCIE-12GB",
    "Tesla P100-PCIE-16GB",
    "Tesla P100-SXM2-16GB",
    "Tesla P40",
    "Tesla P4",
    "Tesla T4",
    "Tesla K80",
    // Ampere, Hopper, Ada data-centre cards.
    "NVIDIA A100-SXM4-40GB",
    "NVIDIA A100-SXM4-80GB",
    "NVIDIA A100-PCIE-40GB",
    "NVIDIA A100 80GB PCIe",
    "NVIDIA A800-SXM4-80GB",
    "NVIDIA A10",
    "NVIDIA A10G",
    "NVIDIA A16",
    "NVIDIA A2",
    "NVIDIA A30",
    "NVIDIA A40",
    "NVIDIA H100 80GB HBM3",
    "NVIDIA H100 PCIe",
    "NVIDIA H100 NVL",
    "NVIDIA H200",
    "NVIDIA GH200 480GB",
    "NVIDIA L4",
    "NVIDIA L40",
    "NVIDIA L40S",
    // Workstation cards.
    "NVIDIA RTX A4000",
    "NVIDIA RTX A5000",
    "NVIDIA RTX A6000",
    "NVIDIA RTX 4000 SFF Ada Generation",
    "NVIDIA RTX 4000 Ada Generation",
    "NVIDIA RTX 6000 Ada Generation",
    "Quadro P400",
    "Quadro P2000",
    "Quadro P4000",
    "Quadro RTX 5000",
    "Quadro RTX 6000",
    "Quadro RTX 8000",
    "Quadro GV100",
    "NVIDIA TITAN V",
    "NVIDIA TITAN RTX",
    // GeForce cards.
    "NVIDIA GeForce GTX 1070",
    "NVIDIA GeForce GTX 1070 Ti",
    "NVIDIA GeForce GTX 1080",
    "NVIDIA GeForce GTX 1080 Ti",
    "NVIDIA GeForce GTX 1660 Ti",
    "NVIDIA GeForce RTX 2070",
    "NVIDIA GeForce RTX 2080",
    "NVIDIA GeForce RTX 2080 SUPER",
    "NVIDIA GeForce RTX 2080 Ti",
    "NVIDIA GeForce RTX 3060",
    "NVIDIA GeForce RTX 3070",
    "NVIDIA GeForce RTX 3080",
    "NVIDIA GeForce RTX 3080 Ti",
    "NVIDIA GeForce RTX 3090",
    "NVIDIA GeForce RTX 3090 Ti",
    "NVIDIA GeForce RTX 4080",
    "NVIDIA GeForce RTX 4090",
};

// Lower-cases, collapses spaces, and drops the vendor/brand words in front.
std::string AliasKey(std::string_view name) {
  std::string s;
  for (char c : name) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == ' ' && (s.empty() || s.back() == ' ')) continue;
    s += l;
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  for (std::string_view prefix : {"nvidia ", "tesla ", "geforce ", "quadro "}) {
    if (s.rfind(prefix, 0) == 0) s.erase(0, prefix.size());
  }
  return s;
}

}  // namespace

bool CanonicalGpuModel(std::string_view model, std::string* canonical) {
  for (const char* m : kModels) {
    if (model == m) {
      if (canonical) *canonical = m;
      return true;
    }
  }
  std::string key = AliasKey(model);
  if (key.empty()) return false;
  for (const char* m : kModels) {
    if (AliasKey(m) == key) {
      if (canonical) *canonical = m;
      return true;
    }
  }
  return false;
}

namespace internal {

std::string SuggestGpuModel(std::string_view model) {
  std::string key = AliasKey(model);
  std::vector<std::string> keys;
  for (const char* m : kModels) keys.push_back(AliasKey(m));
  std::string best = DidYouMean(key, keys);
  if (best.empty()) return "";
  for (const char* m : kModels) {
    if (AliasKey(m) == best) return m;
  }
  return "";
}

}  // namespace internal
}  // namespace racksmith::inventory
