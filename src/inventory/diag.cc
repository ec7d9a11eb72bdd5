// Error collection and the small typed readers every part of the loader uses.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "inventory/internal.h"

namespace racksmith::inventory::internal {

void Diag::Add(const Loc& loc, std::string message) {
  if (count_ >= kMaxErrors) {
    overflow_ = true;
    return;
  }
  if (errors_.emplace(loc.file, loc.line, loc.col, std::move(message)).second) ++count_;
}

void Diag::Add(const SourceLoc& where, std::string message) {
  Loc loc;
  for (size_t i = 0; i < files_->size(); ++i) {
    if ((*files_)[i] == where.file) loc.file = static_cast<uint32_t>(i);
  }
  loc.line = static_cast<uint32_t>(where.line);
  loc.col = static_cast<uint32_t>(where.col);
  Add(loc, std::move(message));
}

SourceLoc Diag::ToSourceLoc(const Loc& loc) const {
  SourceLoc where;
  if (loc.file < files_->size()) where.file = (*files_)[loc.file];
  where.line = static_cast<int>(loc.line);
  where.col = static_cast<int>(loc.col);
  return where;
}

std::vector<Error> Diag::Take() {
  std::vector<Error> out;
  out.reserve(errors_.size() + 1);
  for (const auto& [file, line, col, message] : errors_) {
    out.push_back(InvalidInput(message, ToSourceLoc(Loc{file, line, col})));
  }
  if (overflow_) {
    out.push_back(InvalidInput("too many errors (more than " + std::to_string(kMaxErrors) +
                               "); stopped reporting"));
  }
  errors_.clear();
  count_ = 0;
  return out;
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t cost = (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                     std::tolower(static_cast<unsigned char>(b[j - 1])))
                        ? 0
                        : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

template <typename Range>
std::string Closest(std::string_view word, const Range& candidates) {
  if (word.size() > 64) return "";
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

}  // namespace

std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates) {
  return Closest(word, candidates);
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  return Closest(word, candidates);
}

void CheckKeys(const Tree& map, std::initializer_list<std::string_view> allowed,
               std::string_view what, Diag& diag) {
  for (const TreeEntry& e : map.entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::string msg = "unknown key '" + e.key + "' in " + std::string(what);
    std::string suggestion = DidYouMean(e.key, allowed);
    if (!suggestion.empty()) msg += "; did you mean '" + suggestion + "'?";
    diag.Add(e.key_loc, std::move(msg));
  }
}

bool ReadString(const Tree& value, std::string_view key, std::string* out, Diag& diag) {
  if (!value.IsScalar()) {
    diag.Add(value.loc,
             "expected a string for '" + std::string(key) + "', found " + Describe(value));
    return false;
  }
  *out = value.text;
  return true;
}

bool ReadInt(const Tree& value, std::string_view key, int64_t min, int64_t max, int64_t* out,
             Diag& diag) {
  auto fail = [&] {
    diag.Add(value.loc, "expected an integer from " + std::to_string(min) + " to " +
                            std::to_string(max) + " for '" + std::string(key) + "', found " +
                            Describe(value));
    return false;
  };
  if (!value.IsScalar() || value.text.empty() || value.text.size() > 18) return fail();
  size_t i = value.text[0] == '-' ? 1 : 0;
  if (i == value.text.size()) return fail();
  for (size_t j = i; j < value.text.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(value.text[j]))) return fail();
  }
  int64_t v = std::strtoll(value.text.c_str(), nullptr, 10);
  if (v < min || v > max) return fail();
  *out = v;
  return true;
}

bool ReadBool(const Tree& value, std::string_view key, bool* out, Diag& diag) {
  if (value.IsScalar()) {
    if (value.text == "true") {
      *out = true;
      return true;
    }
    if (value.text == "false") {
      *out = false;
      return true;
    }
  }
  diag.Add(value.loc,
           "expected true or false for '" + std::string(key) + "', found " + Describe(value));
  return false;
}

bool ReadStringList(const Tree& value, std::string_view key, std::vector<std::string>* out,
                    Diag& diag) {
  if (!value.IsSeq()) {
    diag.Add(value.loc,
             "expected a list of strings for '" + std::string(key) + "', found " + Describe(value));
    return false;
  }
  std::vector<std::string> result;
  bool ok = true;
  for (const Tree& item : value.items) {
    if (!item.IsScalar()) {
      diag.Add(item.loc,
               "expected a string in the list '" + std::string(key) + "', found " + Describe(item));
      ok = false;
      continue;
    }
    result.push_back(item.text);
  }
  if (ok) *out = std::move(result);
  return ok;
}

bool ReadSecret(const Tree& value, std::string_view key, SecretRef* out, Diag& diag) {
  if (value.IsScalar()) {
    // Never echo the value: it may be the password itself.
    diag.Add(value.loc, "expected a secret reference for '" + std::string(key) +
                            "', found a literal value (not shown); write {env: VARIABLE} or "
                            "{file: /path/to/secret} and keep the secret out of the inventory");
    return false;
  }
  if (!value.IsMap() || value.entries.size() != 1 ||
      (value.entries[0].key != "env" && value.entries[0].key != "file")) {
    diag.Add(value.loc, "expected a secret reference {env: VARIABLE} or {file: PATH} for '" +
                            std::string(key) + "', found " + Describe(value));
    return false;
  }
  const TreeEntry& e = value.entries[0];
  if (!e.value.IsScalar() || e.value.text.empty()) {
    diag.Add(e.value.loc, "expected a non-empty " +
                              std::string(e.key == "env" ? "variable name" : "path") +
                              " in the secret reference, found " + Describe(e.value));
    return false;
  }
  if (e.key == "env") {
    for (char c : e.value.text) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        // Not echoed either: a secret written where its variable's name belongs is a
        // mistake made with the secret itself.
        diag.Add(e.value.loc, "expected an environment variable name ([A-Za-z0-9_]) for '" +
                                  std::string(key) +
                                  "', found a value that is not one (not shown: it may be the "
                                  "secret itself)");
        return false;
      }
    }
  }
  out->kind = e.key == "env" ? SecretRef::Kind::kEnv : SecretRef::Kind::kFile;
  out->ref = e.value.text;
  return true;
}

bool IsValidVersion(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  if (!std::isalnum(static_cast<unsigned char>(text[0]))) return false;
  bool digit = false;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isdigit(u)) digit = true;
    if (!std::isalnum(u) && c != '.' && c != '-' && c != '+' && c != '_' && c != '~') return false;
  }
  return digit;
}

bool IsValidName(std::string_view text) {
  if (text.empty() || text.size() > 128) return false;
  if (!std::isalnum(static_cast<unsigned char>(text[0]))) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace racksmith::inventory::internal
