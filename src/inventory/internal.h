// racksmith/inventory (internal): pieces shared by the loader's files. Not a public header.
#pragma once

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "inventory/inventory.h"
#include "inventory/yaml_tree.h"

namespace racksmith::inventory::internal {

/// Collects every error of one load, without repeats, and turns Locs into SourceLocs.
class Diag {
 public:
  explicit Diag(std::vector<std::string>* files) : files_(files) {}

  void Add(const Loc& loc, std::string message);
  void Add(const SourceLoc& where, std::string message);
  SourceLoc ToSourceLoc(const Loc& loc) const;
  bool full() const { return count_ >= kMaxErrors; }
  size_t count() const { return count_; }
  /// Every error, sorted by file, line, column, then message.
  std::vector<Error> Take();

 private:
  std::vector<std::string>* files_;
  std::set<std::tuple<uint32_t, uint32_t, uint32_t, std::string>> errors_;
  size_t count_ = 0;
  bool overflow_ = false;
};

/// The closest of `candidates` to `word` by edit distance, if close enough to suggest.
std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates);
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

/// The known GPU model whose alias is closest to `model`'s, or "" if none is close.
std::string SuggestGpuModel(std::string_view model);

/// Reports every key of `map` not in `allowed` ("unknown key 'profle' in a node entry; did you
/// mean 'profile'?"). `what` names the place ("a node entry", "bmc").
void CheckKeys(const Tree& map, std::initializer_list<std::string_view> allowed,
               std::string_view what, Diag& diag);

/// Scalar readers: false (with an error at the value) when the value has the wrong type.
bool ReadString(const Tree& value, std::string_view key, std::string* out, Diag& diag);
bool ReadInt(const Tree& value, std::string_view key, int64_t min, int64_t max, int64_t* out,
             Diag& diag);
bool ReadBool(const Tree& value, std::string_view key, bool* out, Diag& diag);
bool ReadStringList(const Tree& value, std::string_view key, std::vector<std::string>* out,
                    Diag& diag);
bool ReadSecret(const Tree& value, std::string_view key, SecretRef* out, Diag& diag);

/// A version string: starts with a letter or digit, has a digit, and only [A-Za-z0-9._+~-].
bool IsValidVersion(std::string_view text);
/// A node name, rack name or profile name: [A-Za-z0-9][A-Za-z0-9._-]*.
bool IsValidName(std::string_view text);

/// Expands an address list (ip, bmc or mac of a node entry); docs/inventory.md, "Hostlists".
/// `mac`: bracket numbers are hexadecimal. False with `error` set when malformed.
bool ExpandAddresses(std::string_view text, bool mac, std::vector<std::string>* out,
                     std::string* error);
/// "AA-BB-cc:dd:ee:ff" -> "aa:bb:cc:dd:ee:ff"; false when it is not a MAC address.
bool NormalizeMac(std::string* mac);

/// A node being resolved: the Node plus what can only be finished at the end.
struct Draft {
  Node node;
  OriginMap origins;
  std::vector<std::pair<std::string, Loc>> mount_names;  // as listed, resolved last
};

/// Where a settings map sits: which keys it may have beyond the shared ones.
enum class Layer { kDefaults, kProfile, kNode };

/// Applies one settings map (defaults, a profile, or a node entry) on top of `draft`: maps
/// merge key by key, scalars and lists replace, null resets to the built-in default. Keys
/// that are not settings (name, profile, extends, ...) are the caller's; `extra` lists them
/// so that CheckKeys does not call them unknown.
void ApplySettings(const Tree& settings, Layer layer, std::initializer_list<std::string_view> extra,
                   Draft* draft, Diag& diag);

/// Reads top-level `mounts:` into `mounts`; a name defined twice is an error naming both.
void ReadMounts(const Tree& section, std::map<std::string, Mount>* mounts, Diag& diag);

/// Checks that need the fully merged node (GPU count without model, ...); reported at the
/// place that set the offending value.
void CheckResolved(const Draft& draft, Diag& diag);

}  // namespace racksmith::inventory::internal
