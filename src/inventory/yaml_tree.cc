#include "inventory/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <istream>
#include <streambuf>
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

Loc MarkToLoc(const YAML::Mark& mark, uint32_t file) {
  // yaml-cpp marks are 0-based; a null mark (-1) becomes 0 = unknown.
  Loc loc;
  loc.file = file;
  loc.line = mark.line >= 0 ? static_cast<uint32_t>(mark.line) + 1 : 0;
  loc.col = mark.column >= 0 ? static_cast<uint32_t>(mark.column) + 1 : 0;
  return loc;
}

// Thrown by the builder to stop yaml-cpp's parser at once; caught in ReadYaml.
struct Stop {};

// A read-only streambuf over the text, so yaml-cpp reads it without a copy.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view text) {
    char* p = const_cast<char*>(text.data());
    setg(p, p, p + text.size());
  }
};

size_t CountNodes(const Tree& t) {
  size_t n = 1;
  for (const Tree& item : t.items) n += CountNodes(item);
  for (const TreeEntry& e : t.entries) n += 1 + CountNodes(e.value);
  return n;
}

// Builds the Tree straight from yaml-cpp's parse events: no yaml-cpp node graph, every node
// counted as it is made (an alias counts every node it copies), so a bomb stops early.
class Builder : public YAML::EventHandler {
 public:
  Builder(uint32_t file, std::vector<ReadError>* errors) : file_(file), errors_(errors) {}

  Tree TakeRoot() { return std::move(root_); }
  bool have_root() const { return have_root_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Tree t;
    t.loc = MarkToLoc(mark, file_);
    Count(1, mark);
    Finish(std::move(t), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || !anchors_[anchor].second) {
      Fail(mark,
           "expected an alias to a complete anchored node, found one that refers to "
           "itself or to nothing");
    }
    const Tree& source = anchors_[anchor].first;
    size_t n = CountNodes(source);
    alias_nodes_ += n;
    if (alias_nodes_ > kMaxAliasNodes) {
      Fail(mark, "expected aliases to copy at most " + std::to_string(kMaxAliasNodes) +
                     " YAML nodes in all, found more (an alias bomb?)");
    }
    Count(n, mark);
    Finish(Tree(source), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Tree t;
    t.kind = Tree::Kind::kScalar;
    t.loc = MarkToLoc(mark, file_);
    t.text = value;
    Count(1, mark);
    Finish(std::move(t), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, Tree::Kind::kSeq, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, Tree::Kind::kMap, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Tree tree;
    YAML::anchor_t anchor = 0;
    bool want_key = true;  // maps: the next finished node is a key
    bool key_ok = false;   // maps: the pending key is usable
    std::string key;
    Loc key_loc;
    std::unordered_map<std::string, Loc> seen;  // maps with many keys: duplicate check
  };

  [[noreturn]] void Fail(const YAML::Mark& mark, std::string message) {
    errors_->push_back({MarkToLoc(mark, file_), std::move(message)});
    throw Stop{};
  }

  void Count(size_t n, const YAML::Mark& mark) {
    nodes_ += n;
    if (nodes_ > kMaxYamlNodes) {
      Fail(mark, "expected at most " + std::to_string(kMaxYamlNodes) +
                     " YAML nodes in one file, found more");
    }
  }

  void Open(const YAML::Mark& mark, Tree::Kind kind, YAML::anchor_t anchor) {
    if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
      Fail(mark, "expected nesting at most " + std::to_string(kMaxDepth) + " deep, found deeper");
    }
    Count(1, mark);
    stack_.emplace_back();
    stack_.back().tree.kind = kind;
    stack_.back().tree.loc = MarkToLoc(mark, file_);
    stack_.back().anchor = anchor;
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Finish(std::move(frame.tree), frame.anchor);
  }

  // A node is complete: remember it for aliases, then hand it to its parent.
  void Finish(Tree t, YAML::anchor_t anchor) {
    if (anchor != 0) {
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
      // The copy kept for aliases is counted too: memory is what the budget bounds.
      Count(CountNodes(t), YAML::Mark());
      anchors_[anchor] = {t, true};
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
  std::vector<std::pair<Tree, bool>> anchors_;  // by yaml-cpp's anchor number; true: complete
  Tree root_;
  bool have_root_ = false;
  size_t nodes_ = 0;
  size_t alias_nodes_ = 0;
};

// Counts documents after the first without building them.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    throw Stop{};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  YAML::Mark start = YAML::Mark::null_mark();
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
  // The builder stops at kMaxDepth before yaml-cpp recurses further; this cheap scan is a
  // backstop with a far higher limit, so that no input reaches yaml-cpp's recursion deeply
  // even if a path outside the builder's view recursed.
  Loc deep;
  deep.file = file;
  if (ScanNestingDepth(text, kMaxScanDepth, &deep) > kMaxScanDepth) {
    errors->push_back({deep, "expected nesting at most " + std::to_string(kMaxDepth) +
                                 " deep, found more than " + std::to_string(kMaxScanDepth) +
                                 " levels"});
    return false;
  }
  size_t before = errors->size();
  try {
    ViewBuf buf(text);
    std::istream in(&buf);
    YAML::Parser parser(in);
    Builder builder(file, errors);
    if (!parser.HandleNextDocument(builder) || !builder.have_root()) {
      out->kind = Tree::Kind::kNull;
      out->loc = Loc{file, 1, 1};
      return errors->size() == before;
    }
    *out = builder.TakeRoot();
    DocumentCounter counter;
    try {
      parser.HandleNextDocument(counter);
    } catch (const Stop&) {
      errors->push_back({MarkToLoc(counter.start, file),
                         "expected one YAML document per file, found more than one"});
      return false;
    }
    return true;
  } catch (const Stop&) {
    // The builder recorded why.
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg.empty() ? "malformed YAML" : e.msg;
    errors->push_back({MarkToLoc(e.mark, file), "expected valid YAML, found: " + msg});
  } catch (const std::exception& e) {
    errors->push_back({Loc{file, 0, 0}, std::string("expected valid YAML, found: ") + e.what()});
  }
  return false;
}

}  // namespace racksmith::inventory::internal
