// `racksmith exec SELECTION -- COMMAND`: runs a command on inventory nodes (or, with --hosts,
// on raw SSH addresses) over SSH and prints identical outputs once under a compressed hostlist
// of node names (like `dshbak -c`).
#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "cli/ssh_targets.h"
#include "hostlist/hostlist.h"

namespace racksmith::cli {
namespace {

struct ExecOptions {
  SshTargetFlags target;
  int fanout = 64;
  double timeout_s = 0;
  double connect_timeout_s = 10;
  bool lines = false;
  bool json = false;
  std::vector<std::string> command;
};

struct NodeOutcome {
  std::string node;
  std::string output;  // stdout and stderr interleaved as they arrived
  std::string out, err;
  int exit_status = -1;
  std::optional<Error> error;
};

std::string JoinCommand(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

int RunExec(const CliContext& ctx, ExecOptions opt) {
  if (!opt.target.hosts.empty() && !opt.target.selection.empty()) {
    // With --hosts there is no SELECTION: the first word after it belongs to the command.
    opt.command.insert(opt.command.begin(), opt.target.selection);
    opt.target.selection.clear();
  }
  if (opt.command.empty()) {
    std::cerr << "racksmith exec: "
              << (opt.target.selection.empty() && opt.target.hosts.empty()
                      ? "name the nodes and the command"
                      : "no command given")
              << " (expected: exec SELECTION -- COMMAND, or exec --hosts ADDRESSES -- COMMAND; "
                 "exec never defaults to every node)\n";
    return kExitUsage;
  }
  SshTargets targets;
  int exit_code = kExitOk;
  if (!ResolveSshTargets(ctx, opt.target, "exec", &targets, &exit_code)) return exit_code;
  const std::vector<SshTarget>& nodes = targets.nodes;
  std::unique_ptr<SshSession> session = OpenSshSession(ctx, "exec", opt.connect_timeout_s);
  if (!session) return kExitFailed;
  transport::Transport& transport = *session->transport;

  std::string command = JoinCommand(opt.command);
  std::vector<NodeOutcome> outcomes(nodes.size());
  std::atomic<size_t> next{0};
  // Blocking I/O on one thread per in-flight node: see docs/ssh.md for the measurement.
  auto worker = [&] {
    for (size_t i; (i = next++) < nodes.size();) {
      NodeOutcome& o = outcomes[i];
      const transport::Endpoint& e = nodes[i].endpoint;
      o.node = e.node;
      if (!nodes[i].error.empty()) {
        o.error = InvalidInput(nodes[i].error);
        continue;
      }
      transport::ExecRequest req;
      req.command = command;
      req.timeout = std::chrono::milliseconds(static_cast<int64_t>(opt.timeout_s * 1000));
      req.on_stdout = [&o](std::string_view c) {
        o.output.append(c);
        o.out.append(c);
      };
      req.on_stderr = [&o](std::string_view c) {
        o.output.append(c);
        o.err.append(c);
      };
      auto r = transport.Exec(e, req);
      if (r.ok()) {
        o.exit_status = r->exit_status;
      } else {
        o.error = r.error();
      }
      transport.Disconnect(o.node);  // one command per node: free the slot now
    }
  };
  std::vector<std::thread> threads;
  int n_threads = std::max(1, std::min<int>(opt.fanout, static_cast<int>(nodes.size())));
  for (int t = 0; t < n_threads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  std::vector<std::string> ok, failed, unreachable, timed_out, refused, skipped;
  for (const auto& o : outcomes) {
    if (!o.error) {
      (o.exit_status == 0 ? ok : failed).push_back(o.node);
    } else if (o.error->code() == ErrorCode::kInvalidInput) {
      skipped.push_back(o.node);
    } else if (o.error->code() == ErrorCode::kTimeout) {
      timed_out.push_back(o.node);
    } else if (o.error->code() == ErrorCode::kConflict) {
      refused.push_back(o.node);
    } else {
      unreachable.push_back(o.node);
    }
  }

  if (opt.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& o : outcomes) {
      nlohmann::json j = {{"node", o.node}, {"stdout", o.out}, {"stderr", o.err}};
      j["exit_status"] = o.error ? nlohmann::json(nullptr) : nlohmann::json(o.exit_status);
      j["error"] = o.error ? nlohmann::json(o.error->message()) : nlohmann::json(nullptr);
      j["error_code"] =
          o.error ? nlohmann::json(ErrorCodeName(o.error->code())) : nlohmann::json(nullptr);
      arr.push_back(j);
    }
    std::cout << nlohmann::json({{"nodes", arr}}).dump(2) << "\n";
  } else if (opt.lines) {
    for (const auto& o : outcomes) {
      size_t pos = 0;
      while (pos < o.output.size()) {
        size_t nl = o.output.find('\n', pos);
        if (nl == std::string::npos) nl = o.output.size();
        std::cout << o.node << ": " << o.output.substr(pos, nl - pos) << "\n";
        pos = nl + 1;
      }
    }
  } else {
    // Group identical outputs (first-seen order), as dshbak -c does.
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    std::map<std::string, size_t> index;
    for (const auto& o : outcomes) {
      if (o.error) continue;
      auto [it, fresh] = index.emplace(o.output, groups.size());
      if (fresh) groups.push_back({o.output, {}});
      groups[it->second].second.push_back(o.node);
    }
    for (const auto& [text, nodes] : groups) {
      std::string title = hostlist::Compress(nodes) + " (" + std::to_string(nodes.size()) + ")";
      std::string bar(title.size(), '-');
      std::cout << bar << "\n" << title << "\n" << bar << "\n" << text;
      if (!text.empty() && text.back() != '\n') std::cout << "\n";
    }
  }
  for (const auto& o : outcomes) {
    if (o.error) std::cerr << "racksmith exec: " << o.error->message() << "\n";
  }
  auto part = [](const char* what, const std::vector<std::string>& v) {
    return v.empty() ? std::string()
                     : std::string(", ") + what + " " + std::to_string(v.size()) + ": " +
                           hostlist::Compress(v);
  };
  std::cerr << "exec: " << outcomes.size() << " nodes, ok " << ok.size()
            << part("non-zero exit", failed) << part("unreachable", unreachable)
            << part("timed out", timed_out) << part("host key refused", refused)
            << part("not attempted", skipped) << "\n";
  return ok.size() == outcomes.size() ? kExitOk : kExitFailed;
}

}  // namespace

void AddExecCommand(CLI::App& app, CliContext& ctx) {
  auto opt = std::make_shared<ExecOptions>();
  CLI::App* cmd = app.add_subcommand(
      "exec", "Run a command on nodes over SSH; identical outputs print once under a hostlist");
  cmd->add_option("selection", opt->target.selection,
                  "Inventory nodes: hostlist and selectors (gpu-n[01-04],@rack:r01,!gpu-n03) "
                  "or 'all'; required (omit it with --hosts)");
  cmd->add_option("command", opt->command, "The command, after --")->expected(-1);
  AddSshTargetFlags(cmd, opt->target);
  cmd->add_option("-f,--fanout", opt->fanout, "Nodes in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("-t,--timeout", opt->timeout_s, "Command timeout in seconds (0: none)");
  cmd->add_option("--connect-timeout", opt->connect_timeout_s, "Connect timeout in seconds")
      ->capture_default_str();
  cmd->add_flag("--lines", opt->lines, "Print 'node: line' instead of grouping");
  cmd->add_flag("--json", opt->json, "Print results as JSON");
  cmd->footer(
      "Examples:\n"
      "  racksmith exec @rack:r01 -- nvidia-smi -L\n"
      "  racksmith exec 'all,!gpu-n03' --lines -- uptime\n"
      "  racksmith exec --hosts 127.0.2.[1-4] --key ~/.ssh/id_ed25519 -- hostname\n"
      "Nodes are reached at their inventory ip with its ssh user, port and key. "
      "Docs: docs/cli.md");
  cmd->callback([&ctx, opt] { ctx.action = [&ctx, opt] { return RunExec(ctx, *opt); }; });
}

}  // namespace racksmith::cli
