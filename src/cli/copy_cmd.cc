// `racksmith copy SELECTION SRC DEST [--mode 0644]`: uploads a local file to inventory nodes
// (or, with --hosts, to raw SSH addresses): atomic replace, sha256 verified on each node; see
// docs/ssh.md.
#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "cli/ssh_targets.h"
#include "hostlist/hostlist.h"

namespace racksmith::cli {
namespace {

struct CopyOptions {
  SshTargetFlags target;
  std::string src, dest, mode = "0644";
  int fanout = 64;
};

int RunCopy(const CliContext& ctx, CopyOptions opt) {
  if (!opt.target.hosts.empty() && !opt.target.selection.empty()) {
    // With --hosts there is no SELECTION: the positionals are SRC DEST.
    if (!opt.dest.empty()) {
      std::cerr << "racksmith copy: with --hosts give only SRC DEST, found three arguments\n";
      return kExitUsage;
    }
    opt.dest = opt.src;
    opt.src = opt.target.selection;
    opt.target.selection.clear();
  }
  if (opt.src.empty() || opt.dest.empty()) {
    std::cerr << "racksmith copy: expected SELECTION SRC DEST (or --hosts ADDRESSES SRC DEST)\n";
    return kExitUsage;
  }
  SshTargets targets;
  int exit_code = kExitOk;
  if (!ResolveSshTargets(ctx, opt.target, "copy", &targets, &exit_code)) return exit_code;
  const std::vector<SshTarget>& nodes = targets.nodes;
  std::ifstream in(opt.src, std::ios::binary);
  if (!in) {
    std::cerr << "racksmith copy: cannot read " << opt.src << "\n";
    return kExitUsage;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  transport::UploadRequest up;
  up.content = ss.str();
  up.remote_path = opt.dest;
  try {
    up.mode = std::stoi(opt.mode, nullptr, 8);
  } catch (...) {
    std::cerr << "racksmith copy: --mode expects octal like 0644, found '" << opt.mode << "'\n";
    return kExitUsage;
  }
  std::unique_ptr<SshSession> session = OpenSshSession(ctx, "copy");
  if (!session) return kExitFailed;
  transport::Transport& transport = *session->transport;
  std::vector<std::optional<Error>> errors(nodes.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < nodes.size();) {
      const transport::Endpoint& e = nodes[i].endpoint;
      if (!nodes[i].error.empty()) {
        errors[i] = InvalidInput(nodes[i].error);
        continue;
      }
      Status s = transport.Upload(e, up);
      if (!s.ok()) errors[i] = s.error();
      transport.Disconnect(e.node);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(opt.fanout, static_cast<int>(nodes.size())); ++t) {
    threads.emplace_back(worker);
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> ok, bad;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (errors[i]) {
      std::cerr << "racksmith copy: " << errors[i]->message() << "\n";
      bad.push_back(nodes[i].endpoint.node);
    } else {
      ok.push_back(nodes[i].endpoint.node);
    }
  }
  if (!ok.empty()) std::cout << hostlist::Compress(ok) << ": copied " << opt.dest << "\n";
  if (!bad.empty()) std::cout << hostlist::Compress(bad) << ": FAILED\n";
  return bad.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void AddCopyCommand(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<CopyOptions>();
  CLI::App* cmd = app.add_subcommand("copy", "Upload a file to nodes (atomic, sha256-checked)");
  cmd->add_option("selection", o->target.selection,
                  "Inventory nodes: hostlist and selectors (gpu-n[01-04],@rack:r01) or 'all'; "
                  "required (omit it with --hosts)");
  cmd->add_option("src", o->src, "Local file");
  cmd->add_option("dest", o->dest, "Absolute path on the nodes");
  cmd->add_option("--mode", o->mode, "Octal file mode")->capture_default_str();
  AddSshTargetFlags(cmd, o->target);
  cmd->add_option("-f,--fanout", o->fanout, "Nodes in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->footer(
      "Examples:\n"
      "  racksmith copy @rack:r01 ./motd /etc/motd --mode 0644\n"
      "  racksmith copy --hosts 127.0.2.[1-4] ./motd /etc/motd\n"
      "Docs: docs/cli.md");
  cmd->callback([&ctx, o] { ctx.action = [&ctx, o] { return RunCopy(ctx, *o); }; });
}

}  // namespace racksmith::cli
