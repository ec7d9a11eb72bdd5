// racksmith/redfish (internal): exception-free reads of Redfish JSON.
//
// Every accessor returns an empty/zero value when the field is missing or has another type,
// so parsing a hostile or broken tree never throws. Names are matched exactly first, then
// case-insensitively, because some BMCs spell members "members" or "MACAddress" "MacAddress".
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace racksmith::redfish {

using Json = nlohmann::json;

/// The member named `key`, or nullptr.
const Json* Field(const Json& j, const std::string& key);
std::string Str(const Json& j, const std::string& key);
int64_t Int(const Json& j, const std::string& key, int64_t fallback = 0);
double Num(const Json& j, const std::string& key, double fallback = 0);
bool Bool(const Json& j, const std::string& key, bool fallback = false);
/// j[key]["@odata.id"] (also when j[key] is a bare string), fragment ("#/Fans/0") removed.
std::string Link(const Json& j, const std::string& key);
/// The @odata.id of every element of the array j[key] (e.g. Members, Links.Chassis).
std::vector<std::string> Links(const Json& j, const std::string& key);
/// j[key] as a list of strings (non-strings skipped).
std::vector<std::string> Strings(const Json& j, const std::string& key);
/// j["Status"]["Health"] and friends.
std::string Health(const Json& j);
std::string HealthRollup(const Json& j);
std::string StateOf(const Json& j);
/// Removes the "#..." fragment and surrounding whitespace from an @odata.id.
std::string CleanPath(std::string path);

}  // namespace racksmith::redfish
