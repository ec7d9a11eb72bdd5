// libFuzzer target: load arbitrary bytes as an inventory file; when it loads, resolve every
// node's context and apply a selection taken from the input's first line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inventory/inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  racksmith::inventory::LoadOutcome out =
      racksmith::inventory::LoadInventoryFromStringAll(text, "fuzz.yaml");
  for (const racksmith::Error& e : out.errors) (void)e.ToString();
  if (!out.ok()) return 0;
  const racksmith::inventory::Inventory& inv = out.inventory;
  for (const racksmith::inventory::Node& n : inv.nodes) {
    (void)racksmith::inventory::NodeContext(inv, n).dump();
    (void)n.AllOrigins();
  }
  std::string_view first = text.substr(0, text.find('\n'));
  if (first.size() > 1 && first[0] == '#') {
    (void)racksmith::inventory::Select(inv, first.substr(1));
  }
  return 0;
}
