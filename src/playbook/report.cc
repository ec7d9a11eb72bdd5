// Reports: Ansible-like text (identical results of many nodes print once under a hostlist)
// and JSON.
#include <map>
#include <set>

#include "hostlist/hostlist.h"
#include "playbook/internal.h"

namespace racksmith::playbook {
namespace {

std::string Banner(const std::string& title) {
  std::string line = title + " ";
  if (line.size() < 78) line += std::string(78 - line.size(), '*');
  return line + "\n";
}

std::string Indent(const std::string& text, const std::string& pad) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out += pad + text.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  return out;
}

}  // namespace

std::string FormatReport(const Playbook& playbook, const RunReport& report, bool show_diff) {
  std::string out = Banner("PLAY [" + (playbook.name.empty() ? playbook.path : playbook.name) +
                           "]" + (report.check ? " (check mode)" : ""));
  // Tasks in playbook order (then handlers), as any node ran them.
  std::vector<std::pair<bool, int>> order;
  for (int h = 0; h < 2; ++h) {
    std::set<int> seen;
    for (const auto& n : report.nodes) {
      for (const auto& r : n.results) {
        if (r.handler == (h == 1)) seen.insert(r.index);
      }
    }
    for (int i : seen) order.push_back({h == 1, i});
  }
  for (const auto& [handler, index] : order) {
    std::string title;
    // Rows: (status, message, diff) -> nodes, in first-seen order.
    std::vector<std::pair<std::string, std::vector<std::string>>> rows;
    std::map<std::string, size_t> row_of;
    for (const auto& n : report.nodes) {
      for (const auto& r : n.results) {
        if (r.handler != handler || r.index != index) continue;
        if (title.empty()) title = r.task;
        std::string status = TaskStatusName(r.status);
        if (r.ignored) status += " (ignored)";
        std::string body;
        bool detail = r.status == TaskStatus::kFailed || r.status == TaskStatus::kUnreachable;
        if (!r.msg.empty() && (detail || r.status == TaskStatus::kChanged)) {
          body += Indent(r.msg, "  ");
        }
        if (detail && !r.stdout_text.empty()) body += "  stdout:\n" + Indent(r.stdout_text, "    ");
        if (detail && !r.stderr_text.empty()) body += "  stderr:\n" + Indent(r.stderr_text, "    ");
        if (show_diff && !r.diff.empty()) body += r.diff;
        std::string key = status + "\n" + body;
        auto [it, fresh] = row_of.emplace(key, rows.size());
        if (fresh) rows.push_back({key, {}});
        rows[it->second].second.push_back(n.node);
      }
    }
    out += "\n" + Banner((handler ? "RUNNING HANDLER [" : "TASK [") + title + "]");
    for (const auto& [key, nodes] : rows) {
      size_t nl = key.find('\n');
      out += key.substr(0, nl) + ": " + hostlist::Compress(nodes) + "\n" + key.substr(nl + 1);
    }
  }
  out += "\n" + Banner("PLAY RECAP");
  size_t width = 0;
  for (const auto& n : report.nodes) width = std::max(width, n.node.size());
  for (const auto& n : report.nodes) {
    out += n.node + std::string(width - n.node.size(), ' ') + " : ok=" + std::to_string(n.ok) +
           " changed=" + std::to_string(n.changed) + " unreachable=" +
           std::to_string(n.unreachable) + " failed=" + std::to_string(n.failed) +
           " skipped=" + std::to_string(n.skipped) + " ignored=" + std::to_string(n.ignored) +
           "\n";
  }
  return out;
}

nlohmann::json ReportJson(const Playbook& playbook, const RunReport& report) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : report.nodes) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& r : n.results) {
      tasks.push_back({{"task", r.task},
                       {"handler", r.handler},
                       {"where", r.where.ToString()},
                       {"status", r.status == TaskStatus::kSkipped ? "skipped"
                                                                   : TaskStatusName(r.status)},
                       {"ignored", r.ignored},
                       {"msg", r.msg},
                       {"diff", r.diff},
                       {"rc", r.rc},
                       {"stdout", r.stdout_text},
                       {"stderr", r.stderr_text}});
    }
    nodes.push_back({{"node", n.node},
                     {"recap",
                      {{"ok", n.ok},
                       {"changed", n.changed},
                       {"unreachable", n.unreachable},
                       {"failed", n.failed},
                       {"skipped", n.skipped},
                       {"ignored", n.ignored}}},
                     {"tasks", tasks}});
  }
  return {{"playbook", playbook.path}, {"check", report.check}, {"nodes", nodes}};
}

}  // namespace racksmith::playbook
