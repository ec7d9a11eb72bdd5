// Helpers for playbook tests: load YAML text as a playbook and run it on fake nodes.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "playbook/fake_transport.h"
#include "playbook/playbook.h"
#include "support/temp_dir.h"

namespace racksmith::playbook::testing {

/// Loads `yaml` as DIR/play.yaml; REQUIREs that it is valid.
inline Playbook MustLoad(const std::string& yaml, const std::string& dir = "/nonexistent") {
  LoadOutcome out = LoadPlaybookFromStringAll(yaml, dir + "/play.yaml");
  std::string errors;
  for (const auto& e : out.errors) errors += e.ToString() + "\n";
  INFO(errors);
  REQUIRE(out.ok());
  return std::move(out.playbook);
}

/// The errors of loading `yaml`, one "line:col: message" per line (file name dropped).
inline std::string LoadErrors(const std::string& yaml, const std::string& dir = "/nonexistent") {
  LoadOutcome out = LoadPlaybookFromStringAll(yaml, dir + "/play.yaml");
  std::string s;
  for (const auto& e : out.errors) {
    std::string line = e.ToString();
    std::string prefix = dir + "/play.yaml:";
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
    s += line + "\n";
  }
  return s;
}

inline RunOptions Quiet(bool check = false) {
  RunOptions o;
  o.check = check;
  o.sleep = [](std::chrono::milliseconds) {};
  return o;
}

inline std::vector<Target> Targets(const std::vector<std::string>& names) {
  std::vector<Target> out;
  for (const auto& n : names) {
    Target t;
    t.endpoint.node = n;
    t.endpoint.address = "192.0.2.1";
    t.node = {{"name", n}};
    out.push_back(t);
  }
  return out;
}

/// Runs on one fake node "n1" and returns its report.
inline NodeReport RunOn(FakeTransport& fake, const Playbook& pb, const RunOptions& opt = Quiet()) {
  RunReport r = RunPlaybook(pb, Targets({"n1"}), fake, opt);
  REQUIRE(r.nodes.size() == 1);
  return r.nodes[0];
}

/// "status msg" of each result, for compact assertions.
inline std::vector<std::string> Statuses(const NodeReport& r) {
  std::vector<std::string> out;
  for (const auto& t : r.results) out.push_back(TaskStatusName(t.status));
  return out;
}

}  // namespace racksmith::playbook::testing
