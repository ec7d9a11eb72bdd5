// The module table: every module with its arguments, validation and implementation.
#include "playbook/internal.h"

namespace racksmith::playbook {

namespace internal {

const std::vector<ModuleSpec>& Modules() {
  static const std::vector<ModuleSpec> kModules = [] {
    std::vector<ModuleSpec> m;
    AddFileModules(&m);
    AddCommandModules(&m);
    AddSystemModules(&m);
    return m;
  }();
  return kModules;
}

const ModuleSpec* FindModule(std::string_view name) {
  if (name.starts_with("ansible.builtin.")) name.remove_prefix(16);
  for (const auto& m : Modules()) {
    if (name == m.name) return &m;
    for (const char* a : m.aliases) {
      if (name == a) return &m;
    }
  }
  return nullptr;
}

int64_t ArgInt(const Json& args, const char* key, int64_t fallback) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

}  // namespace internal

std::vector<std::string> ModuleNames() {
  std::vector<std::string> names;
  for (const auto& m : internal::Modules()) {
    names.push_back(m.name);
    for (const char* a : m.aliases) names.push_back(a);
  }
  return names;
}

}  // namespace racksmith::playbook
