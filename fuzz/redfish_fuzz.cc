// libFuzzer target: Redfish JSON -> discovery -> HardwareReport, and error bodies -> text.
// The input is JSON. An object whose keys all start with '/' is a whole tree (path -> body,
// e.g. {"/redfish/v1/": {...}, "/redfish/v1/Systems": {...}}); anything else is served as
// the body of every path. Nothing may crash, throw or run unbounded.
// Build and run: see fuzz/CMakeLists.txt; corpus: any index.json from ../shared/redfish.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "redfish/hardware.h"
#include "redfish/redfish_client.h"
#include "redfish/resource_reader.h"

namespace {

using racksmith::Result;
using racksmith::redfish::Json;

class FuzzReader : public racksmith::redfish::ResourceReader {
 public:
  explicit FuzzReader(const Json& input) : input_(input) {
    tree_ = input.is_object() && !input.empty();
    if (tree_)
      for (const auto& item : input.items())
        if (item.key().empty() || item.key()[0] != '/') tree_ = false;
  }
  Result<Json> Get(const std::string& path) override {
    // A real BMC's tree is finite; cap the reads so a self-similar input stays fast.
    if (++reads_ > 2000) return racksmith::NotFound("read budget spent");
    if (!tree_) return input_;
    auto it = input_.find(path);
    if (it == input_.end() || !it->is_object()) return racksmith::NotFound("no " + path);
    return *it;
  }
  Result<std::vector<Json>> GetMembers(const std::string& path,
                                       std::vector<std::string>* warnings) override {
    Result<Json> coll = Get(path);
    if (!coll.ok()) return coll.error();
    std::vector<Json> out;
    for (const auto& id : racksmith::redfish::Links(*coll, "Members")) {
      Result<Json> m = Get(id);
      if (m.ok())
        out.push_back(std::move(m.value()));
      else if (warnings)
        warnings->push_back(m.error().message());
    }
    return out;
  }

 private:
  const Json& input_;
  bool tree_ = false;
  int reads_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Json input = Json::parse(data, data + size, nullptr, false);
  if (input.is_discarded()) return 0;
  (void)racksmith::redfish::DescribeRedfishError(input);
  FuzzReader reader(input);
  Result<racksmith::redfish::ServiceMap> map = racksmith::redfish::Discover(reader, "", "fuzz");
  if (!map.ok()) {
    racksmith::redfish::ServiceMap direct;
    direct.system = input;
    (void)racksmith::redfish::CollectHardware(reader, direct);
    return 0;
  }
  (void)racksmith::redfish::CollectHardware(reader, *map);
  return 0;
}
