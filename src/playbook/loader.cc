// Playbook loading: YAML -> Playbook, with every error found and located, before any node
// is touched. yaml-cpp throws; everything is caught here.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "playbook/internal.h"

namespace racksmith::playbook {
namespace {

using internal::ArgSpec;
using internal::ModuleSpec;

const std::vector<std::string> kTaskKeys = {
    "name",        "when",   "loop",          "with_items",   "loop_control", "loop_var",
    "register",    "notify", "tags",          "changed_when", "failed_when",  "ignore_errors",
    "vars",        "become", "become_user",   "listen",       "check_mode", "no_log"};
const std::vector<std::string> kPlayKeys = {"name",   "vars",         "tasks", "handlers",
                                            "become", "gather_facts", "hosts"};

// Flow collections ([ { ) are where yaml-cpp recursion can run away on small input; block
// nesting needs indentation, which the byte limit bounds. Counted pessimistically: brackets
// inside quotes count too, so the estimate is never below the real depth.
bool NestingTooDeep(std::string_view text, int* line_out) {
  int open = 0, line = 1;
  for (char c : text) {
    if (c == '\n') ++line;
    if (c == '[' || c == '{') {
      if (++open > kMaxNesting) {
        *line_out = line;
        return true;
      }
    } else if ((c == ']' || c == '}') && open > 0) {
      --open;
    }
  }
  return false;
}

// Counts yaml-cpp's parse events without building nodes. Some malformed input makes
// yaml-cpp 0.7 emit events without end; counting first turns that into an error instead of
// unbounded memory in YAML::Load.
struct TooManyEvents {};
class EventCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override { Count(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { Count(); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { Count(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Count();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Count();
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Count();
  }
  void OnMapEnd() override {}

 private:
  void Count() {
    if (++events_ > kMaxYamlNodes) throw TooManyEvents{};
  }
  size_t events_ = 0;
};

class Loader {
 public:
  Loader(std::string path, LoadOutcome* out) : path_(std::move(path)), out_(out) {}

  void Load(std::string_view text) {
    Playbook& pb = out_->playbook;
    pb.path = path_;
    size_t slash = path_.rfind('/');
    pb.dir = slash == std::string::npos ? "." : path_.substr(0, slash);
    if (pb.dir.empty()) pb.dir = "/";
    pb.templates = std::make_shared<TemplateCache>();
    if (text.size() > kMaxPlaybookBytes) {
      Fail({}, "expected a playbook of at most " + std::to_string(kMaxPlaybookBytes) +
                   " bytes, found " + std::to_string(text.size()));
      return;
    }
    int deep_line = 0;
    if (NestingTooDeep(text, &deep_line)) {
      Fail({path_, deep_line, 1},
           "expected nesting at most " + std::to_string(kMaxNesting) + " deep, found deeper");
      return;
    }
    YAML::Node root;
    try {
      std::istringstream in{std::string(text)};
      YAML::Parser parser(in);
      EventCounter counter;
      while (parser.HandleNextDocument(counter)) {
      }
    } catch (const TooManyEvents&) {
      Fail({path_, 1, 1}, "expected at most " + std::to_string(kMaxYamlNodes) +
                              " YAML values, found more (or YAML the parser cannot finish)");
      return;
    } catch (const YAML::Exception&) {
      // Reported with its position by the load below.
    }
    try {
      std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
      if (docs.size() > 1) {
        Fail(Loc(docs[1]), "expected one YAML document, found " + std::to_string(docs.size()));
        return;
      }
      if (!docs.empty()) root = docs[0];
    } catch (const YAML::Exception& e) {
      Fail({path_, e.mark.line + 1, e.mark.column + 1}, "expected valid YAML, found: " + e.msg);
      return;
    }
    try {
      LoadRoot(root);
    } catch (const YAML::Exception& e) {
      Fail({path_, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg);
    }
    if (out_->errors.empty()) CheckNotify();
    std::stable_sort(out_->errors.begin(), out_->errors.end(), [](const Error& a, const Error& b) {
      if (a.where().file != b.where().file) return a.where().file < b.where().file;
      if (a.where().line != b.where().line) return a.where().line < b.where().line;
      return a.where().col < b.where().col;
    });
  }

 private:
  SourceLoc Loc(const YAML::Node& n) const {
    return {path_, n.Mark().line + 1, n.Mark().column + 1};
  }
  void Fail(SourceLoc where, std::string message) {
    out_->errors.push_back(InvalidInput(std::move(message), std::move(where)));
  }

  static std::string Describe(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    return "\"" + n.Scalar().substr(0, 60) + "\"";
  }

  // A YAML value as JSON, with YAML 1.1 booleans (yes/no) as Ansible reads them. Plain
  // numbers with a leading zero (modes: 0644) stay strings.
  Json Convert(const YAML::Node& n, int depth) {
    // Aliases are followed each time they are used: a budget stops "billion laughs".
    if (++visited_ > kMaxYamlNodes) {
      if (visited_ == kMaxYamlNodes + 1) {
        Fail(Loc(n), "expected at most " + std::to_string(kMaxYamlNodes) +
                         " YAML values (aliases count each time they are used)");
      }
      return nullptr;
    }
    if (depth > kMaxNesting) {
      Fail(Loc(n), "expected nesting at most " + std::to_string(kMaxNesting) + " deep");
      return nullptr;
    }
    if (!n.IsDefined() || n.IsNull()) return nullptr;
    if (n.IsSequence()) {
      Json a = Json::array();
      for (const auto& item : n) a.push_back(Convert(item, depth + 1));
      return a;
    }
    if (n.IsMap()) {
      Json o = Json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) {
          Fail(Loc(kv.first), "expected a string key, found " + Describe(kv.first));
          continue;
        }
        std::string key = kv.first.Scalar();
        if (o.contains(key)) {
          Fail(Loc(kv.first), "duplicate key \"" + key + "\"");
          continue;
        }
        o[key] = Convert(kv.second, depth + 1);
      }
      return o;
    }
    const std::string& s = n.Scalar();
    if (n.Tag() == "!") return s;  // quoted: always a string
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "Yes") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "No") return false;
    if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    static const std::regex kInt("[-+]?(0|[1-9][0-9]*)");
    static const std::regex kFloat("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
    if (s.size() < 19 && std::regex_match(s, kInt)) return std::stoll(s);
    if (s.size() < 40 && std::regex_match(s, kFloat)) return std::stod(s);
    return s;
  }

  // Compiles every templated string in `value`, reporting errors at `where`.
  void CompileStrings(const Json& value, const SourceLoc& where, const std::string& what) {
    if (value.is_string()) {
      const std::string& s = value.get_ref<const std::string&>();
      if (!internal::IsTemplated(s)) return;
      auto t = internal::CompileString(*out_->playbook.templates, s);
      if (!t.ok()) Fail(where, "in " + what + ": " + t.error().message());
    } else if (value.is_array() || value.is_object()) {
      for (const auto& v : value) CompileStrings(v, where, what);
    }
  }

  // A when/changed_when/failed_when value: an expression, a boolean, or a list (all true).
  std::string Condition(const YAML::Node& n, const char* key) {
    Json v = Convert(n, 1);
    std::string expr;
    if (v.is_boolean()) {
      expr = v.get<bool>() ? "true" : "false";
    } else if (v.is_string()) {
      expr = internal::StripBraces(v.get<std::string>());
    } else if (v.is_array() && !v.empty()) {
      for (const auto& item : v) {
        std::string part = item.is_boolean() ? (item.get<bool>() ? "true" : "false")
                           : item.is_string() ? internal::StripBraces(item.get<std::string>())
                                              : "";
        if (part.empty()) {
          Fail(Loc(n), std::string("expected `") + key + "` items to be expressions");
          return "";
        }
        expr += (expr.empty() ? "(" : " and (") + part + ")";
      }
    } else {
      Fail(Loc(n), std::string("expected `") + key +
                       "` to be an expression, a boolean or a list, found " + Describe(n));
      return "";
    }
    auto t = internal::CompileExpression(*out_->playbook.templates, expr);
    if (!t.ok()) Fail(Loc(n), std::string("in `") + key + "`: " + t.error().message());
    return expr;
  }

  std::vector<std::string> StringList(const YAML::Node& n, const char* key) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
    } else if (n.IsSequence()) {
      for (const auto& item : n) {
        if (item.IsScalar()) {
          out.push_back(item.Scalar());
        } else {
          Fail(Loc(item), std::string("expected `") + key + "` items to be strings, found " +
                              Describe(item));
        }
      }
    } else {
      Fail(Loc(n), std::string("expected `") + key + "` to be a string or a list, found " +
                       Describe(n));
    }
    return out;
  }

  void LoadRoot(const YAML::Node& root) {
    Playbook& pb = out_->playbook;
    if (!root.IsDefined() || root.IsNull()) {
      Fail({path_, 1, 1}, "expected a playbook (a mapping with `tasks`), found nothing");
      return;
    }
    YAML::Node play = root;
    if (root.IsSequence()) {
      // Ansible's shape: a list of plays. racksmith runs one play per file.
      bool plays = root.size() > 0 && root[0].IsMap() && root[0]["tasks"].IsDefined();
      if (!plays) {
        LoadTasks(root, &pb.tasks, false);
        return;
      }
      if (root.size() > 1) {
        Fail(Loc(root[1]), "expected one play per playbook file, found " +
                               std::to_string(root.size()) + " (split them into files)");
        return;
      }
      play = root[0];
    }
    if (!play.IsMap()) {
      Fail(Loc(play), "expected a playbook (a mapping with `tasks`), found " + Describe(play));
      return;
    }
    for (const auto& kv : play) {
      std::string key = kv.first.Scalar();
      if (key == "name") {
        pb.name = kv.second.IsScalar() ? kv.second.Scalar() : "";
      } else if (key == "vars") {
        if (!kv.second.IsMap()) {
          Fail(Loc(kv.second), "expected `vars` to be a mapping, found " + Describe(kv.second));
          continue;
        }
        pb.vars = Convert(kv.second, 1);
        CompileStrings(pb.vars, Loc(kv.second), "`vars`");
      } else if (key == "tasks") {
        LoadTasks(kv.second, &pb.tasks, false);
      } else if (key == "handlers") {
        LoadTasks(kv.second, &pb.handlers, true);
      } else if (key == "hosts") {
        Fail(Loc(kv.first),
             "`hosts` is not used: nodes come from the command line (playbook run PLAYBOOK "
             "SELECTION)");
      } else if (key == "become" || key == "gather_facts") {
        // Accepted for familiarity: racksmith runs as root and gathers no facts.
      } else {
        std::string near = internal::Closest(key, kPlayKeys);
        Fail(Loc(kv.first), "unknown key \"" + key + "\" in playbook" +
                                (near.empty() ? "" : " (did you mean \"" + near + "\"?)") +
                                "; expected name, vars, tasks, handlers");
      }
    }
  }

  void LoadTasks(const YAML::Node& list, std::vector<Task>* out, bool handlers) {
    const char* what = handlers ? "handlers" : "tasks";
    if (list.IsNull()) return;
    if (!list.IsSequence()) {
      Fail(Loc(list), std::string("expected `") + what + "` to be a list, found " +
                          Describe(list));
      return;
    }
    for (const auto& item : list) {
      if (out->size() >= kMaxTasks) {
        Fail(Loc(item), "expected at most " + std::to_string(kMaxTasks) + " tasks");
        return;
      }
      LoadTask(item, out, handlers);
    }
  }

  void LoadTask(const YAML::Node& n, std::vector<Task>* out, bool handler) {
    if (!n.IsMap()) {
      Fail(Loc(n), "expected a task (a mapping with one module), found " + Describe(n));
      return;
    }
    Task task;
    task.where = Loc(n);
    const ModuleSpec* spec = nullptr;
    YAML::Node module_key, module_value;
    std::vector<std::string> candidates = kTaskKeys;
    for (const auto& name : ModuleNames()) candidates.push_back(name);
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "name") {
        task.name = v.IsScalar() ? v.Scalar() : "";
        if (!v.IsScalar()) Fail(Loc(v), "expected `name` to be a string, found " + Describe(v));
        CompileStrings(task.name, Loc(v), "`name`");
      } else if (key == "when") {
        task.when = Condition(v, "when");
      } else if (key == "changed_when") {
        task.changed_when = Condition(v, "changed_when");
      } else if (key == "failed_when") {
        task.failed_when = Condition(v, "failed_when");
      } else if (key == "loop" || key == "with_items") {
        task.loop = Convert(v, 1);
        if (!task.loop.is_array() && !task.loop.is_string()) {
          Fail(Loc(v), "expected `" + key + "` to be a list or an expression, found " +
                           Describe(v));
        }
        CompileStrings(task.loop, Loc(v), "`" + key + "`");
      } else if (key == "loop_var") {
        task.loop_var = v.IsScalar() ? v.Scalar() : "";
      } else if (key == "loop_control") {
        if (!v.IsMap()) {
          Fail(Loc(v), "expected `loop_control` to be a mapping, found " + Describe(v));
          continue;
        }
        for (const auto& lc : v) {
          if (lc.first.Scalar() == "loop_var" && lc.second.IsScalar()) {
            task.loop_var = lc.second.Scalar();
          } else {
            Fail(Loc(lc.first), "unknown key \"" + lc.first.Scalar() +
                                    "\" in loop_control; expected loop_var");
          }
        }
      } else if (key == "register") {
        task.register_as = v.IsScalar() ? v.Scalar() : "";
        static const std::regex kIdent("[A-Za-z_][A-Za-z0-9_]*");
        if (!std::regex_match(task.register_as, kIdent)) {
          Fail(Loc(v), "expected `register` to be a variable name, found " + Describe(v));
        }
      } else if (key == "notify") {
        task.notify = StringList(v, "notify");
        for (const auto& h : task.notify) notify_refs_.push_back({h, Loc(v)});
      } else if (key == "tags") {
        task.tags = StringList(v, "tags");
      } else if (key == "listen") {
        if (!handler) Fail(Loc(kv.first), "`listen` is only for handlers");
        task.listen = StringList(v, "listen");
        for (const auto& l : task.listen) listen_names_.insert(l);
      } else if (key == "ignore_errors") {
        Json b = Convert(v, 1);
        if (!b.is_boolean()) Fail(Loc(v), "expected `ignore_errors` to be true or false");
        task.ignore_errors = b.is_boolean() && b.get<bool>();
      } else if (key == "no_log") {
        Json b = Convert(v, 1);
        if (!b.is_boolean()) Fail(Loc(v), "expected `no_log` to be true or false");
        task.no_log = b.is_boolean() && b.get<bool>();
      } else if (key == "check_mode") {
        Json b = Convert(v, 1);
        if (!b.is_boolean()) Fail(Loc(v), "expected `check_mode` to be true or false");
        task.check_mode = !b.is_boolean() || b.get<bool>();
      } else if (key == "vars") {
        if (!v.IsMap()) {
          Fail(Loc(v), "expected `vars` to be a mapping, found " + Describe(v));
          continue;
        }
        task.vars = Convert(v, 1);
        CompileStrings(task.vars, Loc(v), "`vars`");
      } else if (key == "become") {
        // Accepted and ignored: racksmith connects as the node's SSH user (root).
      } else if (key == "become_user") {
        if (!v.IsScalar() || v.Scalar() != "root") {
          Fail(Loc(v), "not supported: become_user other than root");
        }
      } else if (key == "block" || key == "include_tasks" || key == "import_tasks" ||
                 key == "delegate_to" || key == "run_once" || key == "async") {
        Fail(Loc(kv.first), "not supported: `" + key + "` (see docs/playbooks.md)");
      } else if (const ModuleSpec* m = internal::FindModule(key)) {
        if (spec != nullptr) {
          Fail(Loc(kv.first), "expected exactly one module in a task, found \"" +
                                  module_key.Scalar() + "\" and \"" + key + "\"");
          continue;
        }
        spec = m;
        module_key = kv.first;
        module_value = v;
      } else {
        std::string near = internal::Closest(key, candidates);
        Fail(Loc(kv.first), "unknown key \"" + key + "\" in task" +
                                (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
        unknown_in_task_ = true;
      }
    }
    if (handler && task.name.empty()) Fail(task.where, "expected a `name` for the handler");
    if (spec == nullptr) {
      if (!unknown_in_task_) Fail(task.where, "expected one module in the task, found none");
      unknown_in_task_ = false;
      return;
    }
    unknown_in_task_ = false;
    task.module = spec->name;
    LoadArgs(*spec, module_key, module_value, &task);
    if (task.loop.is_null() && task.loop_var != "item") {
      Fail(task.where, "`loop_var` without `loop`");
    }
    if (handler) handler_names_.insert(task.name);
    out->push_back(std::move(task));
  }

  void LoadArgs(const ModuleSpec& spec, const YAML::Node& key, const YAML::Node& value,
                Task* task) {
    SourceLoc where = Loc(value.IsDefined() && !value.IsNull() ? value : key);
    if (value.IsScalar() && !value.IsNull()) {
      if (spec.free_form == nullptr) {
        Fail(where, std::string("expected a mapping of arguments for `") + spec.name +
                        "`, found " + Describe(value) + " (key=value strings are not supported)");
        return;
      }
      task->args[spec.free_form] = value.Scalar();
    } else if (value.IsMap()) {
      task->args = Convert(value, 1);
    } else if (!value.IsNull()) {
      Fail(where, std::string("expected a mapping of arguments for `") + spec.name +
                      "`, found " + Describe(value));
      return;
    }
    std::vector<std::string> names;
    for (const ArgSpec& a : spec.args) names.push_back(a.name);
    for (const auto& [k, v] : task->args.items()) {
      auto it = std::find_if(spec.args.begin(), spec.args.end(),
                             [&](const ArgSpec& a) { return k == a.name; });
      SourceLoc at = where;
      if (value.IsMap() && value[k].IsDefined()) at = Loc(value[k]);
      if (it == spec.args.end()) {
        std::string near = internal::Closest(k, names);
        std::string list;
        for (const auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
        Fail(at, "unknown argument \"" + k + "\" for `" + spec.name + "`" +
                     (near.empty() ? "" : " (did you mean \"" + near + "\"?)") +
                     "; expected " + list);
        continue;
      }
      std::string problem = internal::CheckArgType(*it, v);
      if (!problem.empty()) Fail(at, std::string("`") + spec.name + "` argument " + k + ": " + problem);
      CompileStrings(v, at, std::string("`") + spec.name + "` argument " + k);
    }
    for (const ArgSpec& a : spec.args) {
      if (a.required && !task->args.contains(a.name)) {
        Fail(where, std::string("`") + spec.name + "` needs the argument " + a.name);
      }
    }
    if (spec.validate != nullptr) {
      std::vector<Error> problems;
      spec.validate(task->args, out_->playbook.dir, *out_->playbook.templates, &problems);
      for (auto& e : problems) {
        if (e.where().known()) {
          out_->errors.push_back(e);
        } else {
          Fail(where, std::string("`") + spec.name + "`: " + e.message());
        }
      }
    }
  }

  void CheckNotify() {
    for (const auto& [name, where] : notify_refs_) {
      if (handler_names_.count(name) || listen_names_.count(name)) continue;
      std::vector<std::string> names(handler_names_.begin(), handler_names_.end());
      std::string near = internal::Closest(name, names);
      Fail(where, "notify names the handler \"" + name + "\", which does not exist" +
                      (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
    }
  }

  std::string path_;
  LoadOutcome* out_;
  size_t visited_ = 0;
  bool unknown_in_task_ = false;
  std::vector<std::pair<std::string, SourceLoc>> notify_refs_;
  std::set<std::string> handler_names_, listen_names_;
};

}  // namespace

std::string Task::DisplayName() const {
  if (!name.empty()) return name;
  std::string first;
  if (args.is_object() && !args.empty()) {
    const auto& v = args.begin().value();
    first = v.is_string() ? v.get<std::string>() : v.dump();
    if (first.size() > 60) first = first.substr(0, 57) + "...";
  }
  return first.empty() ? module : module + ": " + first;
}

LoadOutcome LoadPlaybookFromStringAll(std::string_view yaml, const std::string& path) {
  LoadOutcome out;
  Loader(path, &out).Load(yaml);
  return out;
}

LoadOutcome LoadPlaybookAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadOutcome out;
    out.playbook.path = path;
    out.errors.push_back(NotFound(path + ": cannot read the playbook (no such file?)"));
    return out;
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxPlaybookBytes) break;
  }
  return LoadPlaybookFromStringAll(text, path);
}

Result<Playbook> LoadPlaybook(const std::string& path) {
  LoadOutcome out = LoadPlaybookAll(path);
  if (out.ok()) return std::move(out.playbook);
  if (out.errors.size() == 1) return out.errors[0];
  std::string joined;
  for (const auto& e : out.errors) joined += (joined.empty() ? "" : "\n") + e.ToString();
  return InvalidInput(joined);
}

}  // namespace racksmith::playbook
