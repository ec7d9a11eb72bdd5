#include "redfish/json_fields.h"

#include <strings.h>

#include <cmath>

namespace racksmith::redfish {

const Json* Field(const Json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it != j.end()) return &*it;
  for (auto i = j.begin(); i != j.end(); ++i) {
    if (strcasecmp(i.key().c_str(), key.c_str()) == 0) return &i.value();
  }
  return nullptr;
}

std::string Str(const Json& j, const std::string& key) {
  const Json* f = Field(j, key);
  if (f && f->is_string()) return f->get<std::string>();
  return {};
}

int64_t Int(const Json& j, const std::string& key, int64_t fallback) {
  const Json* f = Field(j, key);
  if (!f) return fallback;
  // is_number_integer() is also true for unsigned values: test unsigned first.
  if (f->is_number_unsigned()) {
    uint64_t u = f->get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  }
  if (f->is_number_integer()) return f->get<int64_t>();
  if (f->is_number_float()) {
    double d = f->get<double>();
    if (!std::isfinite(d) || d > 9e18 || d < -9e18) return fallback;
    return static_cast<int64_t>(d);
  }
  return fallback;
}

double Num(const Json& j, const std::string& key, double fallback) {
  const Json* f = Field(j, key);
  if (f && f->is_number()) {
    double d = f->get<double>();
    return std::isfinite(d) ? d : fallback;
  }
  return fallback;
}

bool Bool(const Json& j, const std::string& key, bool fallback) {
  const Json* f = Field(j, key);
  return (f && f->is_boolean()) ? f->get<bool>() : fallback;
}

std::string CleanPath(std::string path) {
  size_t hash = path.find('#');
  if (hash != std::string::npos) path.erase(hash);
  while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.pop_back();
  size_t start = path.find_first_not_of(" \t");
  return start == std::string::npos ? std::string() : path.substr(start);
}

std::string Link(const Json& j, const std::string& key) {
  const Json* f = Field(j, key);
  if (!f) return {};
  if (f->is_string()) return CleanPath(f->get<std::string>());
  return CleanPath(Str(*f, "@odata.id"));
}

std::vector<std::string> Links(const Json& j, const std::string& key) {
  std::vector<std::string> out;
  const Json* f = Field(j, key);
  if (!f || !f->is_array()) return out;
  for (const auto& m : *f) {
    std::string id = m.is_string() ? m.get<std::string>() : Str(m, "@odata.id");
    id = CleanPath(id);
    if (!id.empty()) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Strings(const Json& j, const std::string& key) {
  std::vector<std::string> out;
  const Json* f = Field(j, key);
  if (!f || !f->is_array()) return out;
  for (const auto& v : *f)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

namespace {
std::string StatusField(const Json& j, const char* name) {
  const Json* s = Field(j, "Status");
  return s ? Str(*s, name) : std::string();
}
}  // namespace

std::string Health(const Json& j) { return StatusField(j, "Health"); }
std::string HealthRollup(const Json& j) { return StatusField(j, "HealthRollup"); }
std::string StateOf(const Json& j) { return StatusField(j, "State"); }

}  // namespace racksmith::redfish
