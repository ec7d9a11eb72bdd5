// Running a playbook: every target on its own thread (at most fanout at once), tasks in
// order, loops, conditions, registered results, handlers at the end.
#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "playbook/internal.h"

namespace racksmith::playbook {
namespace {

using internal::ModuleContext;
using internal::ModuleResult;
using internal::ModuleSpec;

Json Lines(const std::string& text) {
  Json out = Json::array();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

Json Registered(const ModuleResult& r) {
  Json j = Json::object();
  j["changed"] = r.changed;
  j["failed"] = r.failed;
  j["skipped"] = false;
  j["msg"] = r.msg;
  j["rc"] = r.rc;
  j["stdout"] = r.stdout_text;
  j["stderr"] = r.stderr_text;
  j["stdout_lines"] = Lines(r.stdout_text);
  j["stderr_lines"] = Lines(r.stderr_text);
  for (const auto& [k, v] : r.extra.items()) j[k] = v;
  return j;
}

// Task vars, loop items and registered results are set on the node's variables in place and
// put back afterwards: copying them per task would copy `nodes` (every inventory node).
class Overlay {
 public:
  explicit Overlay(Json& vars) : vars_(vars) {}
  ~Overlay() { Restore(); }
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;
  void Set(const std::string& key, Json value) {
    if (saved_.find(key) == saved_.end()) {
      auto it = vars_.find(key);
      saved_.emplace(key, it == vars_.end() ? std::optional<Json>() : std::optional<Json>(*it));
    }
    vars_[key] = std::move(value);
  }
  void Restore() {
    for (auto& [key, old] : saved_) {
      if (old) {
        vars_[key] = std::move(*old);
      } else {
        vars_.erase(key);
      }
    }
    saved_.clear();
  }

 private:
  Json& vars_;
  std::map<std::string, std::optional<Json>> saved_;
};

class NodeRun {
 public:
  NodeRun(const Playbook& pb, const Target& target, transport::Transport& transport,
          const RunOptions& options)
      : pb_(pb), target_(target), transport_(transport), options_(options) {}

  NodeReport Run() {
    report_.node = target_.endpoint.node;
    if (!SetUpVars()) return Finish();
    std::set<std::string> notified;
    bool stopped = false;
    for (size_t i = 0; i < pb_.tasks.size() && !stopped; ++i) {
      const Task& task = pb_.tasks[i];
      if (!Selected(task)) continue;
      TaskResult r = RunTask(task, static_cast<int>(i), false);
      if (r.status == TaskStatus::kChanged) notified.insert(task.notify.begin(), task.notify.end());
      stopped = (r.status == TaskStatus::kFailed && !r.ignored) ||
                r.status == TaskStatus::kUnreachable;
      Record(std::move(r));
    }
    for (size_t i = 0; i < pb_.handlers.size() && !stopped; ++i) {
      const Task& h = pb_.handlers[i];
      bool wanted = notified.count(h.name) > 0;
      for (const auto& l : h.listen) wanted = wanted || notified.count(l) > 0;
      if (!wanted) continue;
      TaskResult r = RunTask(h, static_cast<int>(i), true);
      stopped = (r.status == TaskStatus::kFailed && !r.ignored) ||
                r.status == TaskStatus::kUnreachable;
      Record(std::move(r));
    }
    return Finish();
  }

 private:
  NodeReport Finish() {
    transport_.Disconnect(target_.endpoint.node);
    return std::move(report_);
  }

  bool SetUpVars() {
    vars_ = Json::object();
    for (const auto& [k, v] : options_.globals.items()) vars_[k] = v;
    vars_["node"] = target_.node;
    vars_["inventory_hostname"] = target_.endpoint.node;
    vars_["check_mode"] = options_.check;
    for (const auto& [k, v] : pb_.vars.items()) {
      auto r = internal::RenderValue(*pb_.templates, v, vars_);
      if (!r.ok()) {
        TaskResult t;
        t.task = "vars";
        t.status = TaskStatus::kFailed;
        t.msg = "vars." + k + ": " + r.error().ToString();
        Record(std::move(t));
        return false;
      }
      vars_[k] = std::move(r).value();
    }
    for (const auto& [k, v] : options_.extra_vars.items()) vars_[k] = v;
    return true;
  }

  bool Selected(const Task& task) const {
    if (options_.tags.empty()) return true;
    for (const auto& t : task.tags) {
      if (t == "always") return true;
      if (std::find(options_.tags.begin(), options_.tags.end(), t) != options_.tags.end()) {
        return true;
      }
    }
    return false;
  }

  void Record(TaskResult r) {
    switch (r.status) {
      case TaskStatus::kOk: ++report_.ok; break;
      case TaskStatus::kChanged: ++report_.ok; ++report_.changed; break;
      case TaskStatus::kSkipped: ++report_.skipped; break;
      case TaskStatus::kUnreachable: ++report_.unreachable; break;
      case TaskStatus::kFailed: (r.ignored ? report_.ignored : report_.failed) += 1; break;
    }
    if (options_.progress) {
      options_.progress(report_.node, std::string(TaskStatusName(r.status)) + ": " + r.task);
    }
    report_.results.push_back(std::move(r));
  }

  // One item of a task (or the task, without a loop).
  ModuleResult RunItem(const Task& task, const ModuleSpec& spec, Overlay& scope, bool* skipped,
                       Json* registered) {
    const Json& item_vars = vars_;
    ModuleResult mr;
    *skipped = false;
    if (!task.when.empty()) {
      auto w = internal::EvaluateExpression(*pb_.templates, task.when, item_vars);
      if (!w.ok()) {
        mr.failed = true;
        mr.msg = "when: " + w.error().ToString();
        *registered = Registered(mr);
        return mr;
      }
      if (!internal::Truthy(*w)) {
        *skipped = true;
        mr.msg = "when: " + task.when + " is false";
        *registered = Json{{"changed", false}, {"skipped", true}, {"failed", false},
                           {"skip_reason", mr.msg}};
        return mr;
      }
    }
    auto args = internal::RenderValue(*pb_.templates, task.args, item_vars);
    if (!args.ok()) {
      mr.failed = true;
      mr.msg = args.error().ToString();
      *registered = Registered(mr);
      return mr;
    }
    for (const auto& a : spec.args) {
      if (!args->contains(a.name)) continue;
      std::string problem = internal::CheckArgType(a, (*args)[a.name]);
      if (!problem.empty()) {
        mr.failed = true;
        mr.msg = std::string("argument ") + a.name + " (after templating): " + problem;
        *registered = Registered(mr);
        return mr;
      }
    }
    bool check = options_.check && task.check_mode;
    ModuleContext ctx{transport_, target_.endpoint, pb_, options_, item_vars, check};
    mr = spec.run(ctx, *args);
    *registered = Registered(mr);
    bool did_not_run = check && (task.module == "command" || task.module == "shell") &&
                       mr.changed;
    if (did_not_run && !task.changed_when.empty()) {
      // What the command would report is only known by running it.
      *skipped = true;
      mr.changed = false;
      mr.msg = "not run in check mode (its changed_when decides): " + mr.msg;
      return mr;
    }
    if (mr.unreachable || did_not_run) return mr;
    if (!task.register_as.empty()) scope.Set(task.register_as, *registered);
    for (auto [expr, field] : {std::pair{&task.changed_when, "changed"},
                               std::pair{&task.failed_when, "failed"}}) {
      if (expr->empty()) continue;
      auto v = internal::EvaluateExpression(*pb_.templates, *expr, item_vars);
      if (!v.ok()) {
        mr.failed = true;
        mr.msg = std::string(field) + "_when: " + v.error().ToString();
        break;
      }
      (std::string(field) == "changed" ? mr.changed : mr.failed) = internal::Truthy(*v);
      (*registered)[field] = internal::Truthy(*v);
    }
    return mr;
  }

  // no_log hides a task's output on every way out of it (an early failure, an exception),
  // not only after its module ran.
  TaskResult RunTask(const Task& task, int index, bool handler) {
    TaskResult out = RunTaskShowing(task, index, handler);
    if (task.no_log) {
      out.msg = "(output hidden: no_log)";
      out.diff.clear();
      out.stdout_text.clear();
      out.stderr_text.clear();
    }
    return out;
  }

  TaskResult RunTaskShowing(const Task& task, int index, bool handler) {
    TaskResult out;
    out.index = index;
    out.handler = handler;
    out.where = task.where;
    out.task = task.DisplayName();
    const ModuleSpec* spec = internal::FindModule(task.module);
    if (spec == nullptr) {
      out.status = TaskStatus::kFailed;
      out.msg = "unknown module " + task.module;
      return out;
    }
    try {
      Overlay task_scope(vars_);
      const Json& local = vars_;
      for (const auto& [k, v] : task.vars.items()) {
        auto r = internal::RenderValue(*pb_.templates, v, local);
        if (!r.ok()) {
          out.status = TaskStatus::kFailed;
          out.msg = "vars." + k + ": " + r.error().ToString();
          return out;
        }
        task_scope.Set(k, std::move(r).value());
      }
      if (internal::IsTemplated(task.name)) {
        auto n = internal::RenderValue(*pb_.templates, task.name, local);
        if (n.ok() && n->is_string()) out.task = n->get<std::string>();
      }
      std::vector<Json> items;
      bool looping = !task.loop.is_null();
      if (looping) {
        auto l = internal::RenderValue(*pb_.templates, task.loop, local);
        if (!l.ok() || !l->is_array()) {
          out.status = TaskStatus::kFailed;
          // The type, not the value: a loop over secrets must not print them.
          out.msg = "loop: " + (l.ok() ? std::string("expected a list, found ") + l->type_name()
                                       : l.error().ToString());
          return out;
        }
        for (auto& item : *l) items.push_back(item);
      } else {
        items.push_back(nullptr);
      }
      bool any_changed = false, any_failed = false, all_skipped = true, unreachable = false;
      Json results = Json::array();
      Json last;
      for (const auto& item : items) {
        Overlay item_scope(vars_);
        if (looping) item_scope.Set(task.loop_var, item);
        bool skipped = false;
        Json reg;
        ModuleResult mr = RunItem(task, *spec, item_scope, &skipped, &reg);
        if (looping) reg[task.loop_var] = item;
        results.push_back(reg);
        last = reg;
        std::string prefix = looping ? "(" + (item.is_string() ? item.get<std::string>()
                                                                : item.dump()) + ") "
                                     : "";
        if (!mr.msg.empty()) out.msg += (out.msg.empty() ? "" : "\n") + prefix + mr.msg;
        out.diff += mr.diff;
        out.rc = mr.rc;
        out.stdout_text += mr.stdout_text;
        out.stderr_text += mr.stderr_text;
        for (auto& f : mr.written) out.files.push_back(std::move(f));
        if (skipped) continue;
        all_skipped = false;
        any_changed = any_changed || mr.changed;
        if (mr.unreachable) {
          unreachable = true;
          break;
        }
        if (mr.failed) {
          any_failed = true;
          if (!looping) break;
        }
      }
      task_scope.Restore();
      if (!task.register_as.empty()) {
        if (looping) {
          vars_[task.register_as] = Json{{"results", results},
                                         {"changed", any_changed},
                                         {"failed", any_failed},
                                         {"skipped", all_skipped && !items.empty()}};
        } else {
          vars_[task.register_as] = last;
        }
      }
      out.status = unreachable   ? TaskStatus::kUnreachable
                   : any_failed  ? TaskStatus::kFailed
                   : all_skipped ? TaskStatus::kSkipped
                   : any_changed ? TaskStatus::kChanged
                                 : TaskStatus::kOk;
      if (looping && items.empty()) out.status = TaskStatus::kSkipped;
      out.ignored = out.status == TaskStatus::kFailed && task.ignore_errors;
      if (!options_.diff && !options_.check) out.diff.clear();
    } catch (const std::exception& e) {
      out.status = TaskStatus::kFailed;
      out.msg = std::string("internal error: ") + e.what();
    }
    return out;
  }

  const Playbook& pb_;
  const Target& target_;
  transport::Transport& transport_;
  const RunOptions& options_;
  Json vars_;
  NodeReport report_;
};

}  // namespace

const char* TaskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kOk: return "ok";
    case TaskStatus::kChanged: return "changed";
    case TaskStatus::kFailed: return "failed";
    case TaskStatus::kSkipped: return "skipping";
    case TaskStatus::kUnreachable: return "unreachable";
  }
  return "?";
}

bool RunReport::AllSucceeded() const {
  return std::all_of(nodes.begin(), nodes.end(), [](const NodeReport& n) { return n.Succeeded(); });
}

int RunReport::TotalChanged() const {
  int total = 0;
  for (const auto& n : nodes) total += n.changed;
  return total;
}

RunReport RunPlaybook(const Playbook& playbook, const std::vector<Target>& targets,
                      transport::Transport& transport, const RunOptions& options) {
  RunReport report;
  report.check = options.check;
  report.nodes.resize(targets.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < targets.size();) {
      report.nodes[i] = NodeRun(playbook, targets[i], transport, options).Run();
    }
  };
  int n = std::max(1, std::min<int>(options.fanout, static_cast<int>(targets.size())));
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return report;
}

}  // namespace racksmith::playbook
