// libFuzzer target: parse and render arbitrary template source against a fixed context.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "template/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json kContext = nlohmann::ordered_json::parse(
      R"({"s": "abc", "n": 3, "f": 1.5, "xs": [1, 2, 3], "d": {"a": 1, "b": [true, null]},
          "nodes": [{"name": "gpu01", "gpus": 4}, {"name": "gpu02", "gpus": 8}]})");
  racksmith::tmpl::TemplateOptions opt;
  opt.max_output_bytes = 1 << 20;
  opt.max_items = 100000;
  auto t = racksmith::tmpl::Template::Compile(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.j2", opt);
  if (t.ok()) (void)t->Render(kContext);
  return 0;
}
