// The real SlurmControl: runs scontrol (argv, no shell) and reads what it prints.
//
// scontrol's messages that matter (Slurm 22.05.8, seen against the lab's slurmctld):
//   show node -o NAME, unknown node:  stdout "Node NAME not found", exit 1
//   update NodeName=NAME ..., unknown:   stderr "slurm_update error: Invalid node name specified"
//   update State=RESUME on a node that is neither drained nor down (IDLE, IDLE*, UNKNOWN):
//        stderr "slurm_update error: Invalid node state specified", exit 1 (slurmctld logs
//        "Invalid node state transition requested for node N from=IDLE to=RESUME")
//   update State=RESUME on UNKNOWN+DRAIN (a node whose slurmd never registered): DRAIN is
//        cleared, and still "Invalid node state specified", exit 1
//   no controller: "Unable to contact slurm controller (connect failure)"
#include <unistd.h>

#include <algorithm>

#include "slurm/child_process.h"
#include "slurm/slurm_control.h"

namespace racksmith::slurm {
namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// scontrol's own words: stderr, else stdout, trimmed to one line's worth.
std::string Quote(const internal::CommandResult& r) {
  std::string text = r.err.empty() ? r.out : r.err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > 500) text = text.substr(0, 500) + "...";
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.empty() ? "(no output)" : text;
}

// A single node name: what scontrol would otherwise read as a hostlist or another argument.
Status CheckNodeName(const std::string& node) {
  if (node.empty()) return InvalidInput("slurm: expected a node name, found an empty one");
  for (char c : node) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '=' || c == ',' || c == '[' || c == ']') {
      return InvalidInput("slurm: expected a single node name, found \"" + node + "\"");
    }
  }
  return Status::Ok();
}

class ScontrolSlurmControl final : public SlurmControl {
 public:
  explicit ScontrolSlurmControl(ScontrolOptions options) : options_(std::move(options)) {
    if (!options_.slurm_conf.empty()) env_["SLURM_CONF"] = options_.slurm_conf;
  }

  Status Drain(const std::string& node, const std::string& reason) override {
    if (Status s = CheckNodeName(node); !s.ok()) return s;
    if (reason.empty()) {
      return InvalidInput("slurm: drain " + node +
                          ": expected a reason, found none (Slurm "
                          "requires one)");
    }
    Result<internal::CommandResult> r =
        Run({"update", "NodeName=" + node, "State=DRAIN", "Reason=" + reason}, node, "drain");
    if (!r.ok()) return r.error();
    if (r->exit_code == 0) return Status::Ok();
    return Failure(*r, node, "drain");
  }

  Status Resume(const std::string& node) override {
    if (Status s = CheckNodeName(node); !s.ok()) return s;
    Result<internal::CommandResult> r =
        Run({"update", "NodeName=" + node, "State=RESUME"}, node, "resume");
    if (!r.ok()) return r.error();
    if (r->exit_code == 0) return Status::Ok();
    if (Contains(r->err, "Invalid node state")) {
      // Slurm refuses RESUME for a node that is not drained or down. If that is where the
      // node already is, the request is done; otherwise report scontrol's words.
      Result<NodeInfo> info = GetNode(node);
      if (!info.ok()) return info.error();
      if (!info->HasFlag("DRAIN") && !info->HasFlag("FAIL") && info->base_state != "DOWN") {
        return Status::Ok();
      }
      return Error(ErrorCode::kConflict, "slurm: resume " + node + ": scontrol said \"" +
                                             Quote(*r) + "\" and the node is " + info->StateText());
    }
    return Failure(*r, node, "resume");
  }

  Result<NodeInfo> GetNode(const std::string& node) override {
    if (Status s = CheckNodeName(node); !s.ok()) return s.error();
    Result<internal::CommandResult> r = Run({"show", "node", "-o", node}, node, "show node");
    if (!r.ok()) return r.error();
    if (r->exit_code != 0) return Failure(*r, node, "show node");
    Result<std::vector<NodeInfo>> nodes = ParseShowNodes(r->out);
    if (!nodes.ok()) return nodes.error().WithContext("slurm: show node " + node);
    for (auto& n : *nodes) {
      if (n.name == node) return std::move(n);
    }
    return NotFound("slurm: show node " + node + ": scontrol printed no record for it");
  }

 private:
  Result<internal::CommandResult> Run(std::vector<std::string> args, const std::string& node,
                                      const char* what) {
    args.insert(args.begin(), options_.scontrol);
    Result<internal::CommandResult> r = internal::RunCommand(args, env_, options_.timeout_ms);
    if (!r.ok()) return r.error().WithContext("slurm: " + std::string(what) + " " + node);
    if (r->timed_out) {
      return IoError("slurm: " + std::string(what) + " " + node + ": scontrol did not finish in " +
                     std::to_string(options_.timeout_ms) + " ms (killed)");
    }
    return r;
  }

  static Error Failure(const internal::CommandResult& r, const std::string& node,
                       const char* what) {
    std::string prefix = "slurm: " + std::string(what) + " " + node + ": ";
    std::string said = Quote(r);
    if (Contains(said, "Invalid node name specified") || Contains(said, " not found")) {
      return NotFound(prefix + "Slurm does not know this node (scontrol: \"" + said + "\")");
    }
    if (Contains(said, "Access/permission denied")) {
      return Error(ErrorCode::kRefused, prefix + "scontrol: \"" + said + "\"");
    }
    if (r.exit_code == 127 && r.out.empty() && r.err.empty()) {
      return IoError(prefix + "scontrol could not be run (exit 127)");
    }
    return IoError(prefix + "scontrol exited " + std::to_string(r.exit_code) + ": \"" + said +
                   "\"");
  }

  ScontrolOptions options_;
  std::map<std::string, std::string> env_;
};

}  // namespace

std::unique_ptr<SlurmControl> MakeScontrol(const ScontrolOptions& options) {
  return std::make_unique<ScontrolSlurmControl>(options);
}

}  // namespace racksmith::slurm
