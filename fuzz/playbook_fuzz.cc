// libFuzzer target: load arbitrary text as a playbook (YAML, schema, templates, expressions).
// Relative srcs resolve under a folder that does not exist, so nothing is read from disk.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "playbook/playbook.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto out = racksmith::playbook::LoadPlaybookFromStringAll(
      std::string_view(reinterpret_cast<const char*>(data), size), "/nonexistent/fuzz.yaml");
  if (out.ok()) {
    for (const auto& t : out.playbook.tasks) (void)t.DisplayName();
  }
  return 0;
}
