// Every shipped playbook validates, and every shipped template renders for every lab node
// with the variables of the playbook that uses it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "inventory/inventory.h"
#include "playbook/internal.h"
#include "support/cli_runner.h"

namespace racksmith::playbook {
namespace {

namespace fs = std::filesystem;
using racksmith::testing::SourcePath;

std::vector<std::string> FilesIn(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("every shipped playbook passes validation", "[playbook]") {
  auto books = FilesIn(SourcePath("playbooks"), ".yaml");
  REQUIRE(books.size() >= 2);
  for (const auto& path : books) {
    LoadOutcome out = LoadPlaybookAll(path);
    std::string errors;
    for (const auto& e : out.errors) errors += e.ToString() + "\n";
    INFO(path << "\n" << errors);
    CHECK(out.ok());
  }
}

TEST_CASE("every shipped template renders for every node of the lab inventory", "[playbook]") {
  auto inv = inventory::LoadInventory(SourcePath("inventory/lab.yaml"));
  INFO((inv.ok() ? "" : inv.error().ToString()));
  REQUIRE(inv.ok());
  Json globals = Json::object();
  globals["site"] = inv->site;
  Json nodes = Json::array();
  for (const auto& n : inv->nodes) nodes.push_back(Json(inventory::NodeContext(*inv, n)));
  globals["nodes"] = nodes;

  std::set<std::string> rendered;
  for (const auto& path : FilesIn(SourcePath("playbooks"), ".yaml")) {
    LoadOutcome out = LoadPlaybookAll(path);
    REQUIRE(out.ok());
    const Playbook& pb = out.playbook;
    for (const auto& n : inv->nodes) {
      Json vars = globals;
      vars["node"] = Json(inventory::NodeContext(*inv, n));
      vars["inventory_hostname"] = n.name;
      vars["check_mode"] = false;
      for (const auto& [k, v] : pb.vars.items()) {
        auto r = internal::RenderValue(*pb.templates, v, vars);
        INFO(path << " vars." << k << " for " << n.name);
        REQUIRE(r.ok());
        vars[k] = *r;
      }
      // What the playbooks register about the node (`os` from /etc/os-release), as an
      // Ubuntu 22.04 node answers.
      for (const auto& task : pb.tasks) {
        if (task.register_as.empty()) continue;
        vars[task.register_as] = {{"changed", false}, {"failed", false}, {"skipped", false},
                                  {"msg", ""}, {"rc", 0}, {"stdout", "ubuntu 22.04\n"},
                                  {"stderr", ""}, {"stdout_lines", {"ubuntu 22.04"}},
                                  {"stderr_lines", Json::array()}};
      }
      for (const auto& task : pb.tasks) {
        if (task.module != "template") continue;
        std::string src = task.args["src"].get<std::string>();
        std::string file = internal::ResolveLocal(pb.dir, src, "templates");
        Json local = vars;
        for (const auto& [k, v] : task.vars.items()) {
          auto r = internal::RenderValue(*pb.templates, v, local);
          REQUIRE(r.ok());
          local[k] = *r;
        }
        // Rendered whatever the task's `when` says: a template must work for every node.
        auto t = internal::CompileFile(*pb.templates, file);
        REQUIRE(t.ok());
        auto text = (*t)->Render(local);
        INFO(file << " for " << n.name << ": " << (text.ok() ? "" : text.error().ToString()));
        CHECK(text.ok());
        rendered.insert(fs::path(file).filename().string());
      }
    }
  }
  for (const auto& path : FilesIn(SourcePath("templates"), ".j2")) {
    INFO("templates/" << fs::path(path).filename().string()
                      << " is used by no shipped playbook (or never rendered for a lab node)");
    CHECK(rendered.count(fs::path(path).filename().string()) == 1);
  }
}

}  // namespace
}  // namespace racksmith::playbook
