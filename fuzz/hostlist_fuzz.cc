// libFuzzer target for the hostlist parser and printer. Traps when a promise breaks:
// - Count(x) agrees with Expand(x) (both fail or both give the same number);
// - Expand(Compress(Expand(x))) == Expand(x): compression keeps order and duplicates, as
//   `scontrol show hostlist` does, so the round trip is the identity;
// - Expand(CompressExpression(x)) == Expand(x);
// - names that are plain hostnames (one per input line) round-trip through Compress.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hostlist/hostlist.h"

namespace {

using racksmith::hostlist::Compress;
using racksmith::hostlist::CompressExpression;
using racksmith::hostlist::Count;
using racksmith::hostlist::Expand;

// Keeps each run fast: big expansions are legal but make fuzzing slow.
constexpr size_t kFuzzMaxNames = 20'000;

void Require(bool ok) {
  if (!ok) __builtin_trap();
}

bool IsPlainName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

void CheckExpression(std::string_view input) {
  auto count = Count(input);
  if (!count.ok()) {
    Require(!Expand(input).ok());
    Require(!CompressExpression(input).ok());
    Require(count.error().where().col >= 1);
    Require(static_cast<size_t>(count.error().where().col) <= input.size() + 1);
    return;
  }
  if (*count > kFuzzMaxNames) return;
  auto names = Expand(input);
  Require(names.ok());
  Require(names->size() == *count);
  auto back = Expand(Compress(*names));
  Require(back.ok());
  Require(*back == *names);
  auto folded = CompressExpression(input);
  Require(folded.ok());
  auto again = Expand(*folded);
  Require(again.ok());
  Require(*again == *names);
}

void CheckNames(std::string_view input) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view name = input.substr(start, end - start);
    if (!IsPlainName(name)) return;
    names.emplace_back(name);
    start = end + 1;
  }
  auto back = Expand(Compress(names));
  Require(back.ok());
  Require(*back == names);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckExpression(input);
  CheckNames(input);
  return 0;
}
