#include "inventory/yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <unordered_map>

#include "inventory/inventory.h"

namespace racksmith::inventory::internal {

const Tree* Tree::Find(std::string_view key) const {
  for (const TreeEntry& e : entries) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

std::string Describe(const Tree& tree) {
  switch (tree.kind) {
    case Tree::Kind::kNull:
      return "nothing";
    case Tree::Kind::kSeq:
      return "a list";
    case Tree::Kind::kMap:
      return "a mapping";
    case Tree::Kind::kScalar:
      break;
  }
  std::string shown = tree.text.substr(0, 60);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (shown.size() < tree.text.size()) shown += "...";
  return "\"" + shown + "\"";
}

// The estimate must never be below the depth yaml-cpp will reach, whatever the quoting: so
// brackets are counted everywhere, and inside what looks like a quoted string or a comment a
// closing bracket may only cancel an opening one seen in that same region. If a region is
// misjudged the estimate can only come out too high, never too low.
int ScanNestingDepth(std::string_view text, int limit, Loc* where) {
  int flow = 0;    // estimated open flow collections
  int floor = 0;   // closing brackets may not go below this inside a quote/comment
  char quote = 0;  // '\'' or '"' while inside what looks like a quoted string
  bool comment = false;
  std::vector<uint32_t> indents;  // columns of open block collections
  uint32_t line = 1, col = 0;
  size_t i = 0;
  int max_seen = 0;
  auto report = [&](int depth) {
    max_seen = std::max(max_seen, depth);
    if (depth > limit && where != nullptr && where->line == 0) {
      where->line = line;
      where->col = col + 1;
    }
    return depth > limit;
  };
  bool line_start = true;
  char prev = ' ';  // previous significant character on the line
  while (i < text.size()) {
    char c = text[i];
    if (line_start) {
      line_start = false;
      comment = false;
      if (quote == 0) floor = flow;  // only meaningful inside regions
      // Block structure: indentation and compact "- " / "? " indicators.
      if (flow == 0 && quote == 0) {
        uint32_t indent = 0;
        while (i + indent < text.size() && text[i + indent] == ' ') ++indent;
        size_t j = i + indent;
        if (j < text.size() && text[j] != '\n' && text[j] != '\r' && text[j] != '#') {
          while (!indents.empty() && indents.back() > indent) indents.pop_back();
          if (indents.empty() || indents.back() < indent) indents.push_back(indent);
          while (j + 1 < text.size() && (text[j] == '-' || text[j] == '?') &&
                 (text[j + 1] == ' ')) {
            j += 2;
            while (j < text.size() && text[j] == ' ') ++j;
            indents.push_back(static_cast<uint32_t>(j - i));
          }
          col = static_cast<uint32_t>(j - i);
          // A map and its block-sequence value may share a column, hence two per level.
          if (report(2 * static_cast<int>(indents.size()) + 1)) return max_seen;
        }
      }
    }
    if (c == '\n') {
      ++line;
      col = 0;
      ++i;
      line_start = true;
      prev = ' ';
      continue;
    }
    if (comment) {
      // fallthrough to bracket counting below with the region floor
    } else if (quote != 0) {
      if (quote == '"' && c == '\\') {
        i += 2;
        col += 2;
        continue;
      }
      if (c == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          i += 2;
          col += 2;
          continue;
        }
        quote = 0;
        floor = 0;
        prev = c;
        ++i;
        ++col;
        continue;
      }
    } else if ((c == '\'' || c == '"') &&
               (prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',' ||
                prev == ':' || prev == '-' || prev == '?')) {
      quote = c;
      floor = flow;
    } else if (c == '#' && (prev == ' ' || prev == '\t')) {
      comment = true;
      floor = flow;
    }
    bool region = comment || quote != 0;
    if (c == '[' || c == '{') {
      ++flow;
      if (report(2 * static_cast<int>(indents.size()) + 1 + flow)) return max_seen;
    } else if (c == ']' || c == '}') {
      flow = std::max(flow - 1, region ? floor : 0);
    }
    if (c != ' ' && c != '\t' && c != '\r') prev = c;
    ++i;
    ++col;
  }
  return max_seen;
}

namespace {

Loc MarkToLoc(const YAML::Mark& mark, uint32_t file) {
  // yaml-cpp marks are 0-based; a null mark (-1) becomes 0 = unknown.
  Loc loc;
  loc.file = file;
  loc.line = mark.line >= 0 ? static_cast<uint32_t>(mark.line) + 1 : 0;
  loc.col = mark.column >= 0 ? static_cast<uint32_t>(mark.column) + 1 : 0;
  return loc;
}

class Converter {
 public:
  Converter(uint32_t file, std::vector<ReadError>* errors) : file_(file), errors_(errors) {}

  bool Convert(const YAML::Node& node, Tree* out, int depth) {
    if (++visited_ > kMaxYamlNodes) {
      if (!budget_reported_) {
        budget_reported_ = true;
        errors_->push_back({MarkToLoc(node.Mark(), file_),
                            "expected at most " + std::to_string(kMaxYamlNodes) +
                                " YAML nodes (aliases count each time they are used), found more "
                                "(an alias bomb?)"});
      }
      return false;
    }
    if (depth > kMaxDepth) {
      errors_->push_back(
          {MarkToLoc(node.Mark(), file_), "expected nesting at most " + std::to_string(kMaxDepth) +
                                              " deep, found deeper (a self-referencing alias?)"});
      return false;
    }
    out->loc = MarkToLoc(node.Mark(), file_);
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out->kind = Tree::Kind::kNull;
        return true;
      case YAML::NodeType::Scalar:
        out->kind = Tree::Kind::kScalar;
        out->text = node.Scalar();
        return true;
      case YAML::NodeType::Sequence:
        out->kind = Tree::Kind::kSeq;
        out->items.reserve(node.size());
        for (const YAML::Node& item : node) {
          out->items.emplace_back();
          if (!Convert(item, &out->items.back(), depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Map:
        break;
    }
    out->kind = Tree::Kind::kMap;
    out->entries.reserve(node.size());
    std::unordered_map<std::string, Loc> seen;
    for (const auto& pair : node) {
      ++visited_;
      // Copies: the iterator's pair is a proxy, references into it would dangle.
      const YAML::Node key = pair.first;
      const YAML::Node value = pair.second;
      Loc key_loc = MarkToLoc(key.Mark(), file_);
      if (!key.IsScalar()) {
        errors_->push_back({key_loc, "expected a plain key, found a " +
                                         std::string(key.IsMap() ? "mapping" : "list") +
                                         " used as a key"});
        continue;
      }
      const std::string& name = key.Scalar();
      auto [pos, inserted] = seen.emplace(name, key_loc);
      if (!inserted) {
        errors_->push_back({key_loc, "duplicate key '" + name + "' (first at line " +
                                         std::to_string(pos->second.line) + ")"});
        continue;
      }
      TreeEntry entry;
      entry.key = name;
      entry.key_loc = key_loc;
      if (!Convert(value, &entry.value, depth + 1)) return false;
      // A null value's mark points at the next token; the key is a better place to name.
      if (entry.value.IsNull()) entry.value.loc = key_loc;
      out->entries.push_back(std::move(entry));
    }
    return true;
  }

 private:
  uint32_t file_;
  std::vector<ReadError>* errors_;
  size_t visited_ = 0;
  bool budget_reported_ = false;
};

}  // namespace

bool ReadYaml(std::string_view text, uint32_t file, Tree* out, std::vector<ReadError>* errors) {
  if (text.size() > kMaxFileBytes) {
    errors->push_back({Loc{file, 0, 0}, "expected a file of at most " +
                                            std::to_string(kMaxFileBytes) + " bytes, found " +
                                            std::to_string(text.size()) + " bytes"});
    return false;
  }
  // Binary junk: refuse before yaml-cpp sees it, and name where it starts.
  uint32_t line = 1, col = 1;
  for (unsigned char c : text) {
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) {
      char hex[8];
      snprintf(hex, sizeof hex, "0x%02x", c);
      errors->push_back({Loc{file, line, col}, std::string("expected YAML text, found byte ") +
                                                   hex + " (a binary file?)"});
      return false;
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  Loc deep;
  deep.file = file;
  if (ScanNestingDepth(text, kMaxDepth, &deep) > kMaxDepth) {
    errors->push_back(
        {deep, "expected nesting at most " + std::to_string(kMaxDepth) + " deep, found deeper"});
    return false;
  }
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.empty()) {
      out->kind = Tree::Kind::kNull;
      out->loc = Loc{file, 1, 1};
      return true;
    }
    if (docs.size() > 1) {
      errors->push_back(
          {MarkToLoc(docs[1].Mark(), file),
           "expected one YAML document per file, found " + std::to_string(docs.size())});
      return false;
    }
    Converter converter(file, errors);
    return converter.Convert(docs[0], out, 0);
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg.empty() ? "malformed YAML" : e.msg;
    errors->push_back({MarkToLoc(e.mark, file), "expected valid YAML, found: " + msg});
  } catch (const std::exception& e) {
    errors->push_back({Loc{file, 0, 0}, std::string("expected valid YAML, found: ") + e.what()});
  }
  return false;
}

}  // namespace racksmith::inventory::internal
