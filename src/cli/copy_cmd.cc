// `racksmith copy HOSTLIST SRC DEST [--mode 0644]`: uploads a local file to many nodes
// (atomic replace, sha256 verified on each node; see docs/ssh.md).
#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "cli/cli.h"
#include "hostlist/hostlist.h"
#include "ssh/ssh_transport.h"
#include "ssh/state_host_key_store.h"
#include "state/store.h"

namespace racksmith::cli {
namespace {

struct CopyOptions {
  std::string hosts, src, dest, user = "root", key, mode = "0644";
  int port = 22;
  int fanout = 64;
};

int RunCopy(const CliContext& ctx, const CopyOptions& opt) {
  auto names = hostlist::Expand(opt.hosts);
  if (!names.ok()) {
    std::cerr << "racksmith copy: " << names.error().ToString() << "\n";
    return kExitUsage;
  }
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
  SystemClock clock;
  auto store = state::OpenSqliteStore(ctx.state_path, clock);
  if (!store.ok()) {
    std::cerr << "racksmith copy: " << store.error().ToString() << "\n";
    return kExitFailed;
  }
  ssh::StateHostKeyStore keys(**store);
  ssh::SshTransport transport(keys);
  std::vector<std::optional<Error>> errors(names->size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < names->size();) {
      transport::Endpoint e;
      e.node = e.address = (*names)[i];
      e.port = opt.port;
      e.user = opt.user;
      e.key_path = opt.key;
      Status s = transport.Upload(e, up);
      if (!s.ok()) errors[i] = s.error();
      transport.Disconnect(e.node);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(opt.fanout, static_cast<int>(names->size())); ++t) {
    threads.emplace_back(worker);
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> ok, bad;
  for (size_t i = 0; i < names->size(); ++i) {
    if (errors[i]) {
      std::cerr << "racksmith copy: " << errors[i]->message() << "\n";
      bad.push_back((*names)[i]);
    } else {
      ok.push_back((*names)[i]);
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
  cmd->add_option("hosts", o->hosts, "Nodes as a hostlist of SSH addresses")->required();
  cmd->add_option("src", o->src, "Local file")->required();
  cmd->add_option("dest", o->dest, "Absolute path on the nodes")->required();
  cmd->add_option("--mode", o->mode, "Octal file mode")->capture_default_str();
  cmd->add_option("--user", o->user, "SSH user")->capture_default_str();
  cmd->add_option("--key", o->key, "Private key file");
  cmd->add_option("--port", o->port, "SSH port")->capture_default_str();
  cmd->add_option("-f,--fanout", o->fanout, "Nodes in flight at once")->capture_default_str();
  cmd->callback([&ctx, o] { ctx.action = [&ctx, o] { return RunCopy(ctx, *o); }; });
}

}  // namespace racksmith::cli
