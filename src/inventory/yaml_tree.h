// racksmith/inventory (internal): YAML read into a small owned tree, safely.
//
// libyaml's event parser (Debian's libyaml; a non-recursive C state machine, several times
// faster than yaml-cpp's scanner) feeds a builder that makes `Tree` directly, with a cap on
// the nodes made (aliases count every node they copy: alias bombs) and on depth. Text is
// refused before parsing when too large, binary, or absurdly nested. Every Tree node keeps
// its 1-based position; nothing in here throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::inventory::internal {

/// A 1-based position in one of the loaded files (file indexes a file-name table).
struct Loc {
  uint32_t file = 0;
  uint32_t line = 0;
  uint32_t col = 0;
};

struct TreeEntry;

struct Tree {
  enum class Kind : uint8_t { kNull, kScalar, kSeq, kMap };
  Kind kind = Kind::kNull;
  Loc loc;
  std::string text;                // kScalar
  std::vector<Tree> items;         // kSeq
  std::vector<TreeEntry> entries;  // kMap, in document order

  bool IsMap() const { return kind == Kind::kMap; }
  bool IsSeq() const { return kind == Kind::kSeq; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsNull() const { return kind == Kind::kNull; }
  /// The entry's value for `key`, or nullptr.
  const Tree* Find(std::string_view key) const;
};

struct TreeEntry {
  std::string key;
  Loc key_loc;
  Tree value;
};

/// "a mapping", "a sequence", "a string \"x\"", "nothing": for "found ..." in messages.
std::string Describe(const Tree& tree);

/// Errors found while reading, each with its position.
struct ReadError {
  Loc loc;
  std::string message;
};

/// Parses `text` (the content of file number `file`) into a Tree. Returns false when no usable
/// tree came out; either way every problem is appended to `errors` (duplicate mapping keys are
/// reported and the later one dropped, and the tree is still usable).
bool ReadYaml(std::string_view text, uint32_t file, Tree* out, std::vector<ReadError>* errors);

/// The deepest nesting of flow and block collections in `text`, estimated without parsing
/// (an over-estimate for unusual layouts, never an under-estimate). Stops counting once
/// `limit` is exceeded and reports the position there.
int ScanNestingDepth(std::string_view text, int limit, Loc* where);

}  // namespace racksmith::inventory::internal
