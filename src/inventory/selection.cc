// Node selection: hostlists, "all" and @selectors, unions and exclusions.
#include <algorithm>
#include <unordered_set>

#include "hostlist/hostlist.h"
#include "inventory/internal.h"

namespace racksmith::inventory {
namespace {

// Splits on commas that are not inside [...], so "n[01-03,07],m1" is two terms.
std::vector<std::string> SplitTerms(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(cur);
  return out;
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Error Unknown(const std::string& what, const std::string& name,
              const std::vector<std::string>& known) {
  std::string msg = "unknown " + what + " '" + name + "' in the selection";
  std::string s = internal::DidYouMean(name, known);
  if (!s.empty()) msg += "; did you mean '" + s + "'?";
  return Error(ErrorCode::kNotFound, msg);
}

}  // namespace

Result<Selection> Selection::Parse(std::string_view expression) {
  Selection sel;
  sel.expression_ = std::string(expression);
  if (Trim(sel.expression_).empty()) {
    return InvalidInput(
        "expected a node selection (a hostlist, 'all' or @rack:/@profile:/"
        "@state:/@partition:/@feature: selectors), found nothing");
  }
  using Kind = Term::Kind;
  static const std::pair<const char*, Kind> kSelectors[] = {{"rack", Kind::kRack},
                                                            {"profile", Kind::kProfile},
                                                            {"state", Kind::kState},
                                                            {"partition", Kind::kPartition},
                                                            {"feature", Kind::kFeature}};
  for (std::string raw : SplitTerms(expression)) {
    Term term;
    term.text = Trim(raw);
    std::string body = term.text;
    if (!body.empty() && (body[0] == '!' || body[0] == '^')) {
      term.exclude = true;
      body = Trim(body.substr(1));
    }
    if (body.empty()) {
      return InvalidInput("expected a term between commas in the selection \"" + sel.expression_ +
                          "\", found an empty one");
    }
    if (body == "all") {
      term.kind = Kind::kAll;
    } else if (body[0] == '@') {
      size_t colon = body.find(':');
      std::string name = body.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
      bool known = false;
      for (const auto& [sel_name, kind] : kSelectors) {
        if (name == sel_name) {
          term.kind = kind;
          known = true;
        }
      }
      if (!known || colon == std::string::npos || colon + 1 == body.size()) {
        std::string msg =
            "expected @rack:NAME, @profile:NAME, @state:STATE, @partition:NAME or "
            "@feature:NAME in the selection, found \"" +
            body + "\"";
        std::string s =
            internal::DidYouMean(name, {"rack", "profile", "state", "partition", "feature"});
        if (!known && !s.empty()) msg += "; did you mean '@" + s + ":'?";
        return InvalidInput(msg);
      }
      std::string value = body.substr(colon + 1);
      Result<std::vector<std::string>> values = hostlist::Expand(value);
      if (!values.ok()) {
        return InvalidInput("expected a name or hostlist after @" + name +
                            ": in the selection, "
                            "found \"" +
                            value + "\": " + values.error().message());
      }
      term.values = std::move(*values);
      if (term.kind == Kind::kState) {
        for (const std::string& v : term.values) {
          NodeState state;
          if (!ParseNodeState(v, &state)) {
            return InvalidInput(
                "expected @state:active, @state:maintenance or @state:retired, "
                "found @state:" +
                v);
          }
        }
      }
    } else {
      term.kind = Kind::kHosts;
      Result<std::vector<std::string>> names = hostlist::Expand(body);
      if (!names.ok()) {
        return InvalidInput("expected a hostlist of node names in the selection, found \"" + body +
                            "\": " + names.error().message());
      }
      term.values = std::move(*names);
    }
    sel.terms_.push_back(std::move(term));
  }
  return sel;
}

Result<std::vector<const Node*>> Selection::Apply(const Inventory& inventory) const {
  const size_t n = inventory.nodes.size();
  std::vector<char> in(n, 0), out(n, 0);
  bool any_include = false;
  for (const Term& term : terms_) {
    if (!term.exclude) any_include = true;
  }
  if (!any_include) std::fill(in.begin(), in.end(), 1);
  auto index_of = [&](const Node* node) {
    return static_cast<size_t>(node - inventory.nodes.data());
  };
  for (const Term& term : terms_) {
    std::vector<char>& mark = term.exclude ? out : in;
    using Kind = Term::Kind;
    switch (term.kind) {
      case Kind::kAll:
        std::fill(mark.begin(), mark.end(), 1);
        break;
      case Kind::kHosts:
        for (const std::string& name : term.values) {
          const Node* node = inventory.FindNode(name);
          if (node == nullptr) {
            std::vector<std::string> names;
            if (inventory.nodes.size() <= 100000) {
              for (const Node& x : inventory.nodes) names.push_back(x.name);
            }
            return Unknown("node", name, names);
          }
          mark[index_of(node)] = 1;
        }
        break;
      case Kind::kRack:
        for (const std::string& name : term.values) {
          const Rack* rack = inventory.FindRack(name);
          if (rack == nullptr) {
            std::vector<std::string> names;
            for (const Rack& r : inventory.racks) names.push_back(r.name);
            return Unknown("rack", name, names);
          }
          for (size_t i : rack->nodes) mark[i] = 1;
        }
        break;
      case Kind::kProfile:
        for (const std::string& name : term.values) {
          if (inventory.FindProfile(name) == nullptr) {
            std::vector<std::string> names;
            for (const Profile& p : inventory.profiles) names.push_back(p.name);
            return Unknown("profile", name, names);
          }
          for (size_t i = 0; i < n; ++i) {
            if (inventory.nodes[i].profile == name) mark[i] = 1;
          }
        }
        break;
      case Kind::kState:
        for (const std::string& name : term.values) {
          NodeState state = NodeState::kActive;
          (void)ParseNodeState(name, &state);
          for (size_t i = 0; i < n; ++i) {
            if (inventory.nodes[i].state == state) mark[i] = 1;
          }
        }
        break;
      case Kind::kPartition:
      case Kind::kFeature: {
        bool partition = term.kind == Kind::kPartition;
        std::unordered_set<std::string> known;
        for (const Node& node : inventory.nodes) {
          const auto& list = partition ? node.slurm.partitions : node.slurm.features;
          known.insert(list.begin(), list.end());
        }
        for (const std::string& name : term.values) {
          if (!known.count(name)) {
            return Unknown(partition ? "partition" : "feature", name,
                           std::vector<std::string>(known.begin(), known.end()));
          }
          for (size_t i = 0; i < n; ++i) {
            const auto& list =
                partition ? inventory.nodes[i].slurm.partitions : inventory.nodes[i].slurm.features;
            if (std::find(list.begin(), list.end(), name) != list.end()) mark[i] = 1;
          }
        }
        break;
      }
    }
  }
  std::vector<const Node*> result;
  for (size_t i = 0; i < n; ++i) {
    if (in[i] && !out[i]) result.push_back(&inventory.nodes[i]);
  }
  return result;
}

Result<std::vector<const Node*>> Select(const Inventory& inventory, std::string_view expression) {
  Result<Selection> sel = Selection::Parse(expression);
  if (!sel.ok()) return sel.error();
  return sel->Apply(inventory);
}

}  // namespace racksmith::inventory
