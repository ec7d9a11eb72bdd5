#include "inventory/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>

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

constexpr int kMaxScanDepth = 1000;

Loc MarkToLoc(const yaml_mark_t& mark, uint32_t file) {
  // libyaml marks are 0-based.
  return Loc{file, static_cast<uint32_t>(mark.line) + 1, static_cast<uint32_t>(mark.column) + 1};
}

// Thrown by the builder to stop reading at once; caught in ReadYaml.
struct Stop {};

size_t CountNodes(const Tree& t) {
  size_t n = 1;
  for (const Tree& item : t.items) n += CountNodes(item);
  for (const TreeEntry& e : t.entries) n += 1 + CountNodes(e.value);
  return n;
}

// What YAML's core schema reads as null in a plain scalar without a tag.
bool IsNullText(std::string_view v) {
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

std::string AnchorName(const yaml_char_t* anchor) {
  return anchor == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(anchor));
}

// Builds the Tree straight from libyaml's parse events (no node graph), every node counted
// as it is made (an alias counts every node it copies), so a bomb stops early.
class Builder {
 public:
  Builder(uint32_t file, std::vector<ReadError>* errors) : file_(file), errors_(errors) {}

  Tree TakeRoot() { return std::move(root_); }
  bool have_root() const { return have_root_; }

  void OnAlias(const Loc& loc, const std::string& anchor) {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end() || !it->second.second) {
      Fail(loc,
           "expected an alias to a complete anchored node, found one that refers to "
           "itself or to nothing");
    }
    const Tree& source = it->second.first;
    size_t n = CountNodes(source);
    alias_nodes_ += n;
    if (alias_nodes_ > kMaxAliasNodes) {
      Fail(loc, "expected aliases to copy at most " + std::to_string(kMaxAliasNodes) +
                    " YAML nodes in all, found more (an alias bomb?)");
    }
    Count(n, loc);
    Finish(Tree(source), {});
  }

  void OnScalar(const Loc& loc, std::string anchor, std::string value, bool null) {
    Tree t;
    t.loc = loc;
    if (!null) {
      t.kind = Tree::Kind::kScalar;
      t.text = std::move(value);
    }
    Count(1, loc);
    Finish(std::move(t), std::move(anchor));
  }

  void Open(const Loc& loc, Tree::Kind kind, std::string anchor) {
    if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
      Fail(loc, "expected nesting at most " + std::to_string(kMaxDepth) + " deep, found deeper");
    }
    Count(1, loc);
    stack_.emplace_back();
    stack_.back().tree.kind = kind;
    stack_.back().tree.loc = loc;
    stack_.back().anchor = std::move(anchor);
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Finish(std::move(frame.tree), std::move(frame.anchor));
  }

  [[noreturn]] void Fail(const Loc& loc, std::string message) {
    errors_->push_back({loc, std::move(message)});
    throw Stop{};
  }

 private:
  struct Frame {
    Tree tree;
    std::string anchor;
    bool want_key = true;  // maps: the next finished node is a key
    bool key_ok = false;   // maps: the pending key is usable
    std::string key;
    Loc key_loc;
    std::unordered_map<std::string, Loc> seen;  // maps with many keys: duplicate check
  };

  void Count(size_t n, const Loc& loc) {
    nodes_ += n;
    if (nodes_ > kMaxYamlNodes) {
      Fail(loc, "expected at most " + std::to_string(kMaxYamlNodes) +
                    " YAML nodes in one file, found more");
    }
  }

  // A node is complete: remember it for aliases, then hand it to its parent.
  void Finish(Tree t, std::string anchor) {
    if (!anchor.empty()) {
      // The copy kept for aliases is counted too: memory is what the budget bounds.
      Count(CountNodes(t), t.loc);
      anchors_[std::move(anchor)] = {t, true};
    }
    if (stack_.empty()) {
      root_ = std::move(t);
      have_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    if (parent.tree.kind == Tree::Kind::kSeq) {
      parent.tree.items.push_back(std::move(t));
      return;
    }
    if (parent.want_key) {
      parent.want_key = false;
      parent.key_ok = t.IsScalar();
      parent.key_loc = t.loc;
      if (t.IsScalar()) {
        parent.key = std::move(t.text);
      } else {
        errors_->push_back({t.loc, "expected a plain key, found " +
                                       std::string(t.IsMap()   ? "a mapping"
                                                   : t.IsSeq() ? "a list"
                                                               : "nothing") +
                                       " used as a key"});
      }
      return;
    }
    parent.want_key = true;
    if (!parent.key_ok) return;
    Loc first;
    if (IsDuplicate(parent, &first)) {
      errors_->push_back({parent.key_loc, "duplicate key '" + parent.key + "' (first at line " +
                                              std::to_string(first.line) + ")"});
      return;
    }
    TreeEntry entry;
    entry.key = std::move(parent.key);
    entry.key_loc = parent.key_loc;
    entry.value = std::move(t);
    // A null value's mark points at the next token; the key is a better place to name.
    if (entry.value.IsNull()) entry.value.loc = entry.key_loc;
    parent.tree.entries.push_back(std::move(entry));
  }

  static bool IsDuplicate(Frame& map, Loc* first) {
    std::vector<TreeEntry>& entries = map.tree.entries;
    constexpr size_t kLinear = 16;
    if (entries.size() < kLinear) {
      for (const TreeEntry& e : entries) {
        if (e.key == map.key) {
          *first = e.key_loc;
          return true;
        }
      }
      return false;
    }
    if (map.seen.empty()) {
      for (const TreeEntry& e : entries) map.seen.emplace(e.key, e.key_loc);
    }
    auto [it, inserted] = map.seen.emplace(map.key, map.key_loc);
    *first = it->second;
    return !inserted;
  }

  uint32_t file_;
  std::vector<ReadError>* errors_;
  std::vector<Frame> stack_;
  std::unordered_map<std::string, std::pair<Tree, bool>> anchors_;  // true: complete
  Tree root_;
  bool have_root_ = false;
  size_t nodes_ = 0;
  size_t alias_nodes_ = 0;
};

// libyaml's parser, freed on every path.
class Parser {
 public:
  Parser(std::string_view text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  ~Parser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_{};
  bool ok_ = false;
};

class Event {
 public:
  Event() = default;
  ~Event() {
    if (set_) yaml_event_delete(&event_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  /// The next event; false (and the parser's error set) when the text is not valid YAML.
  bool Next(yaml_parser_t* parser) {
    if (set_) yaml_event_delete(&event_);
    set_ = yaml_parser_parse(parser, &event_) != 0;
    return set_;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_{};
  bool set_ = false;
};

}  // namespace

bool ReadYaml(std::string_view text, uint32_t file, Tree* out, std::vector<ReadError>* errors) {
  if (text.size() > kMaxFileBytes) {
    errors->push_back({Loc{file, 0, 0}, "expected a file of at most " +
                                            std::to_string(kMaxFileBytes) + " bytes, found " +
                                            std::to_string(text.size()) + " bytes"});
    return false;
  }
  // Binary junk: refuse before the parser sees it, and name where it starts.
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
  // libyaml does not recurse, and the builder stops at kMaxDepth; this cheap scan refuses
  // absurd nesting before any parsing, with a far higher limit.
  Loc deep;
  deep.file = file;
  if (ScanNestingDepth(text, kMaxScanDepth, &deep) > kMaxScanDepth) {
    errors->push_back({deep, "expected nesting at most " + std::to_string(kMaxDepth) +
                                 " deep, found more than " + std::to_string(kMaxScanDepth) +
                                 " levels"});
    return false;
  }
  Parser parser(text);
  if (!parser.ok()) {
    errors->push_back({Loc{file, 0, 0}, "expected to read YAML, found no memory for a parser"});
    return false;
  }
  size_t before = errors->size();
  Builder builder(file, errors);
  int documents = 0;
  try {
    Event event;
    for (;;) {
      if (!event.Next(parser.get())) {
        const yaml_parser_t* p = parser.get();
        const yaml_mark_t& mark = p->problem != nullptr ? p->problem_mark : p->context_mark;
        std::string msg = p->problem != nullptr ? p->problem : "malformed YAML";
        if (p->context != nullptr) msg = std::string(p->context) + ": " + msg;
        errors->push_back({MarkToLoc(mark, file), "expected valid YAML, found: " + msg});
        return false;
      }
      const Loc loc = MarkToLoc(event->start_mark, file);
      switch (event->type) {
        case YAML_STREAM_END_EVENT:
          if (!builder.have_root()) {
            out->kind = Tree::Kind::kNull;
            out->loc = Loc{file, 1, 1};
            return errors->size() == before;
          }
          *out = builder.TakeRoot();
          return true;
        case YAML_DOCUMENT_START_EVENT:
          if (++documents > 1) {
            errors->push_back({loc, "expected one YAML document per file, found more than one"});
            return false;
          }
          break;
        case YAML_ALIAS_EVENT:
          builder.OnAlias(loc, AnchorName(event->data.alias.anchor));
          break;
        case YAML_SCALAR_EVENT: {
          const auto& sc = event->data.scalar;
          std::string value(reinterpret_cast<const char*>(sc.value), sc.length);
          std::string_view tag = sc.tag == nullptr ? std::string_view()
                                                   : reinterpret_cast<const char*>(sc.tag);
          bool null = tag == YAML_NULL_TAG ||
                      (tag.empty() && sc.style == YAML_PLAIN_SCALAR_STYLE && IsNullText(value));
          builder.OnScalar(loc, AnchorName(sc.anchor), std::move(value), null);
          break;
        }
        case YAML_SEQUENCE_START_EVENT:
          builder.Open(loc, Tree::Kind::kSeq, AnchorName(event->data.sequence_start.anchor));
          break;
        case YAML_MAPPING_START_EVENT:
          builder.Open(loc, Tree::Kind::kMap, AnchorName(event->data.mapping_start.anchor));
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          builder.Close();
          break;
        case YAML_NO_EVENT:
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
          break;
      }
    }
  } catch (const Stop&) {
    // The builder recorded why.
  }
  return false;
}

}  // namespace racksmith::inventory::internal
