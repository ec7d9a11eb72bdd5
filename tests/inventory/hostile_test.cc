// Hostile input: malformed YAML, binary junk, huge files, deep nesting, alias bombs.
// Each must give a clear error quickly, in bounded memory, and never crash.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "inventory/inventory.h"
#include "support/temp_dir.h"

namespace racksmith::inventory {
namespace {

std::string FirstError(const LoadOutcome& out) {
  return out.errors.empty() ? "" : out.errors[0].ToString();
}

TEST_CASE("Malformed YAML is an error with its position", "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll("site: a\nracks: [\n  {name: r\n", "m.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out).find("m.yaml:") == 0);
  CHECK(FirstError(out).find("expected valid YAML, found: ") != std::string::npos);
  CHECK(out.errors[0].where().line > 0);
  LoadOutcome tab = LoadInventoryFromStringAll("site: a\nracks: }\n", "m.yaml");
  REQUIRE(tab.errors.size() == 1);
  CHECK(FirstError(tab).find("expected valid YAML") != std::string::npos);
}

TEST_CASE("Binary junk is refused naming the first bad byte", "[inventory]") {
  std::string junk = "site: a\nra";
  junk += '\x01';
  junk += std::string("\x7f\xff\x00\x13", 4);
  LoadOutcome out = LoadInventoryFromStringAll(junk, "b.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out) == "b.yaml:2:3: expected YAML text, found byte 0x01 (a binary file?)");
}

TEST_CASE("A 200 MB file is refused by its size before it is read", "[inventory]") {
  testing::TempDir dir;
  std::string path = dir.Join("huge.yaml");
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  // Sparse: 200 MB long, but no disk blocks and nothing for the loader to read.
  REQUIRE(::ftruncate(fd, off_t{200} * 1024 * 1024) == 0);
  ::close(fd);
  auto start = std::chrono::steady_clock::now();
  LoadOutcome out = LoadInventoryAll(path);
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(out.errors.size() == 1);
  CHECK(out.errors[0].where().file == path);
  CHECK(out.errors[0].message() == "expected a file of at most " + std::to_string(kMaxFileBytes) +
                                       " bytes, found 209715200 bytes");
  // Reading 200 MB of zeros would take far longer than this on any machine.
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("Text over the size limit is refused without parsing", "[inventory]") {
  std::string big(kMaxFileBytes + 1, ' ');
  LoadOutcome out = LoadInventoryFromStringAll(big, "big.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(out.errors[0].message().find("expected a file of at most") == 0);
}

TEST_CASE("Deeply nested flow collections are refused before parsing", "[inventory]") {
  std::string deep = "site: a\nvars: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  LoadOutcome out = LoadInventoryFromStringAll(deep, "d.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out).find("d.yaml:2:") == 0);
  CHECK(FirstError(out).find("expected nesting at most 64 deep, found more than 1000 levels") !=
        std::string::npos);
}

TEST_CASE("Deeply nested block mappings are refused before parsing", "[inventory]") {
  std::string deep = "site: a\n";
  for (int i = 0; i < 200; ++i) deep += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  LoadOutcome out = LoadInventoryFromStringAll(deep, "d.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out).find("expected nesting at most 64 deep") != std::string::npos);
}

TEST_CASE("Brackets inside quoted strings and comments are not nesting", "[inventory]") {
  std::string text = "site: a\ndefaults:\n  vars: {x: \"" + std::string(300, '[') + "\"}  # " +
                     std::string(300, '{') + "\n";
  LoadOutcome out = LoadInventoryFromStringAll(text, "q.yaml");
  for (const Error& e : out.errors) UNSCOPED_INFO(e.ToString());
  CHECK(out.ok());
}

TEST_CASE("A billion-laughs alias bomb is refused quickly", "[inventory]") {
  std::string bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", " : "") + prev;
    bomb += "]\n";
  }
  auto start = std::chrono::steady_clock::now();
  LoadOutcome out = LoadInventoryFromStringAll("site: a\n" + bomb, "bomb.yaml");
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out).find("bomb.yaml:") == 0);
  CHECK(FirstError(out).find("(an alias bomb?)") != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("A self-referencing alias is an error, not a loop", "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll("site: a\nvars: &x {y: *x}\n", "s.yaml");
  REQUIRE_FALSE(out.ok());
  CHECK(FirstError(out).find("s.yaml:2:") == 0);
}

TEST_CASE("Aliases within the budget work like copies", "[inventory]") {
  const char* text = R"(site: a
defaults:
  vars: {common: &c {x: 1, y: [a, b]}, again: *c}
racks: [{name: r, nodes: [{name: n1, ip: 10.0.0.1}]}]
)";
  LoadOutcome out = LoadInventoryFromStringAll(text, "a.yaml");
  REQUIRE(out.ok());
  CHECK(out.inventory.nodes[0].vars["again"]["y"][1] == "b");
}

TEST_CASE("Several YAML documents in one file are an error", "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll("site: a\n---\nsite: b\n", "m.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out).find("m.yaml:2:") == 0);
  CHECK(FirstError(out).find("expected one YAML document per file") != std::string::npos);
}

TEST_CASE("Duplicate mapping keys are errors naming the first", "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll("site: a\nsite: b\n", "k.yaml");
  REQUIRE(out.errors.size() == 1);
  CHECK(FirstError(out) == "k.yaml:2:1: duplicate key 'site' (first at line 1)");
  std::string many = "site: a\ndefaults:\n  vars:\n";
  for (int i = 0; i < 40; ++i) many += "    k" + std::to_string(i) + ": 1\n";
  many += "    k7: 2\n";
  LoadOutcome dup = LoadInventoryFromStringAll(many, "k.yaml");
  REQUIRE(dup.errors.size() == 1);
  CHECK(FirstError(dup) == "k.yaml:44:5: duplicate key 'k7' (first at line 11)");
}

TEST_CASE("Mappings and lists used as keys are errors", "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll("site: a\n? [x]\n: 1\n", "k.yaml");
  REQUIRE_FALSE(out.ok());
  CHECK(FirstError(out).find("expected a plain key, found a list used as a key") !=
        std::string::npos);
}

TEST_CASE("A hostlist that would expand past the node limit is an error", "[inventory]") {
  LoadOutcome out = LoadInventoryFromStringAll(
      "site: a\nracks: [{name: r, nodes: [{name: \"n[0-999999999]\", ip: 10.0.0.1}]}]\n", "h.yaml");
  REQUIRE_FALSE(out.ok());
  CHECK(FirstError(out).find("h.yaml:2:34:") == 0);
}

TEST_CASE("An empty file or one of only comments asks for a site", "[inventory]") {
  for (const char* text : {"", "# nothing\n", "---\n"}) {
    LoadOutcome out = LoadInventoryFromStringAll(text, "e.yaml");
    REQUIRE(out.errors.size() == 1);
    CHECK(FirstError(out) ==
          "e.yaml:1:1: expected a top-level 'site' (the site's name), found none");
  }
}

TEST_CASE("A missing path and an empty directory are clear errors", "[inventory]") {
  testing::TempDir dir;
  LoadOutcome missing = LoadInventoryAll(dir.Join("nope.yaml"));
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].message().find("found nothing at this path") != std::string::npos);
  LoadOutcome empty = LoadInventoryAll(dir.path());
  REQUIRE(empty.errors.size() == 1);
  CHECK(empty.errors[0].message().find("expected *.yaml files") != std::string::npos);
}

}  // namespace
}  // namespace racksmith::inventory
