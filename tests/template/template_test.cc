// Unit and end-to-end tests for behaviour the differential test cannot show: error
// locations, limits, thread safety and the CLI.
#include <catch2/catch.hpp>
#include <thread>

#include "support/cli_runner.h"
#include "support/temp_dir.h"
#include "template/template.h"

namespace racksmith::tmpl {
namespace {

using OJson = nlohmann::ordered_json;
using racksmith::testing::RunCli;
using racksmith::testing::TempDir;

std::string RenderOrError(const std::string& src, const OJson& ctx = OJson::object(),
                          TemplateOptions opt = {}) {
  auto t = Template::Compile(src, "t.j2", opt);
  if (!t.ok()) return "ERROR " + t.error().ToString();
  auto r = t->Render(ctx);
  return r.ok() ? *r : "ERROR " + r.error().ToString();
}

TEST_CASE("an undefined variable is an error naming file:line:col and the expression",
          "[template]") {
  CHECK(RenderOrError("a\n  {{ nodes | join(',') }}") ==
        "ERROR t.j2:2:14: 'nodes' is undefined in `{{ nodes | join(',') }}`");
}

TEST_CASE("a syntax error names the position and what was expected", "[template]") {
  CHECK(RenderOrError("{% for x in %}") ==
        "ERROR t.j2:1:13: expected an expression, found end of statement block '%}'");
}

TEST_CASE("unsupported constructs are reported as not supported", "[template]") {
  CHECK(RenderOrError("{% extends 'base' %}") == "ERROR t.j2:1:4: not supported: {% extends %}");
  CHECK(RenderOrError("{{ x|nosuch }}").find("not supported: filter 'nosuch'") !=
        std::string::npos);
}

TEST_CASE("unbounded macro recursion fails instead of crashing", "[template]") {
  std::string r = RenderOrError("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
  CHECK(r.find("nested deeper than 64") != std::string::npos);
}

TEST_CASE("a recursive include fails at the call depth limit", "[template]") {
  TempDir dir;
  dir.Write("self.j2", "x{% include 'self.j2' %}");
  auto r = RenderFile(dir.Join("self.j2"), OJson::object());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("nesting deeper than") != std::string::npos);
}

TEST_CASE("deeply nested source is rejected by the nesting limit", "[template]") {
  std::string src = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  CHECK(RenderOrError(src).find("nesting deeper than 128") != std::string::npos);
}

TEST_CASE("output beyond max_output_bytes is an error", "[template]") {
  TemplateOptions opt;
  opt.max_output_bytes = 1000;
  CHECK(RenderOrError("{% for i in range(2000) %}x{% endfor %}", OJson::object(), opt)
            .find("output exceeds") != std::string::npos);
  CHECK(RenderOrError("{{ range(10**12)|length }}").find("exceeds the limit") != std::string::npos);
}

TEST_CASE("trim_blocks, lstrip_blocks and keep_trailing_newline are configurable", "[template]") {
  TemplateOptions opt;
  opt.trim_blocks = false;
  opt.lstrip_blocks = true;
  opt.keep_trailing_newline = false;
  CHECK(RenderOrError("  {% if true %}\nx\n  {% endif %}\n", OJson::object(), opt) == "\nx\n");
}

TEST_CASE("one compiled template renders concurrently from many threads", "[template]") {
  auto t = Template::Compile("{% for n in nodes %}{{ n }},{% endfor %}", "t.j2");
  REQUIRE(t.ok());
  std::vector<std::thread> threads;
  std::vector<std::string> outs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      OJson ctx = {{"nodes", OJson::array({i, i + 1})}};
      for (int k = 0; k < 200; ++k) outs[i] = t->Render(ctx).value();
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 8; ++i)
    CHECK(outs[i] == std::to_string(i) + "," + std::to_string(i + 1) + ",");
}

TEST_CASE("template render prints the rendered file to stdout", "[template]") {
  TempDir dir;
  std::string tpl =
      dir.Write("hosts.j2", "{% for n in nodes %}\n{{ n }} {{ domain }}\n{% endfor %}\n");
  std::string vars = dir.Write("vars.yaml", "nodes: [gpu01, gpu02]\n");
  auto r = RunCli({"template", "render", tpl, "--vars", vars, "--set", "domain=lab"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "gpu01 lab\ngpu02 lab\n");
}

TEST_CASE("template render exits 2 with file:line:col on an error", "[template]") {
  TempDir dir;
  std::string tpl = dir.Write("bad.j2", "ok\n{{ missing.attr }}\n");
  auto r = RunCli({"template", "render", tpl});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.j2:2:12: 'missing' is undefined") != std::string::npos);
}

TEST_CASE("template render -o writes the output file", "[template]") {
  TempDir dir;
  std::string tpl = dir.Write("a.j2", "{{ 6 * 7 }}\n");
  auto r = RunCli({"template", "render", tpl, "-o", dir.Join("out.txt")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

}  // namespace
}  // namespace racksmith::tmpl
