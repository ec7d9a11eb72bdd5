#include "cli/ssh_targets.h"

#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>

#include "hostlist/hostlist.h"
#include "ssh/ssh_transport.h"
#include "ssh/state_host_key_store.h"
#include "state/store.h"
#include "inventory/inventory.h"

namespace racksmith::cli {
namespace {

std::string ExpandHome(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + path.substr(1) : path;
}

bool OnlyExclusions(const inventory::Selection& selection) {
  for (const auto& term : selection.terms()) {
    if (!term.exclude) return false;
  }
  return true;
}

}  // namespace

SshTargets::~SshTargets() {
  for (int fd : fds_) close(fd);
}

std::string SshTargets::KeepInMemory(const std::string& content, std::string* error) {
  int fd = memfd_create("racksmith-key", MFD_CLOEXEC);
  if (fd < 0) {
    *error = std::string("cannot hold the key in memory: ") + std::strerror(errno);
    return "";
  }
  fds_.push_back(fd);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("cannot hold the key in memory: ") + std::strerror(errno);
      return "";
    }
    done += static_cast<size_t>(n);
  }
  // A key file ends with a newline; ResolveSecret removed the file's last one.
  if (content.empty() || content.back() != '\n') {
    if (write(fd, "\n", 1) != 1) {
      *error = std::string("cannot hold the key in memory: ") + std::strerror(errno);
      return "";
    }
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

void AddSshTargetFlags(CLI::App* cmd, SshTargetFlags& f) {
  cmd->add_option("--hosts", f.hosts,
                  "Raw SSH addresses as a hostlist (127.0.2.[1-4]) instead of inventory nodes; "
                  "then no SELECTION is given");
  cmd->add_option("--user", f.user, "SSH user (default: the inventory's; root with --hosts)");
  cmd->add_option("--key", f.key, "Private key file, ed25519 or RSA (default: the inventory's)");
  cmd->add_flag("--agent", f.agent, "Also try keys from ssh-agent");
  cmd->add_option("--port", f.port, "SSH port (default: the inventory's; 22 with --hosts)")
      ->check(CLI::Range(1, 65535))
      ->default_str("");  // 0 means "not given", which is not a port to show
}

bool ResolveSshTargets(const CliContext& ctx, const SshTargetFlags& f, const std::string& command,
                       SshTargets* targets, int* exit_code) {
  auto usage = [&](const std::string& msg) {
    std::cerr << "racksmith " << command << ": " << msg << "\n";
    *exit_code = kExitUsage;
    return false;
  };
  if (!f.hosts.empty()) {
    auto names = hostlist::Expand(f.hosts);
    if (!names.ok()) return usage("--hosts: " + names.error().message());
    for (const std::string& address : *names) {
      SshTarget t;
      t.endpoint.node = t.endpoint.address = address;
      t.endpoint.port = f.port > 0 ? f.port : 22;
      t.endpoint.user = f.user.empty() ? "root" : f.user;
      t.endpoint.key_path = ExpandHome(f.key);
      t.endpoint.use_agent = f.agent;
      targets->nodes.push_back(std::move(t));
    }
    return true;
  }
  if (f.selection.empty()) {
    return usage(
        "name the nodes: a selection from the inventory (gpu-n[01-04], @rack:r01, all) or "
        "--hosts ADDRESSES; " +
        command + " changes machines, so it never defaults to every node");
  }
  auto selection = inventory::Selection::Parse(f.selection);
  if (!selection.ok()) return usage(selection.error().message());
  if (OnlyExclusions(*selection)) {
    return usage("the selection '" + f.selection +
                 "' only excludes nodes, which would mean every other node; " + command +
                 " needs the nodes named explicitly (for example 'all," + f.selection + "')");
  }
  auto inv = inventory::LoadInventory(ctx.inventory_path);
  if (!inv.ok()) {
    std::cerr << "racksmith " << command << ": inventory " << ctx.inventory_path << ": "
              << inv.error().ToString() << "\n";
    *exit_code = kExitUsage;
    return false;
  }
  auto picked = selection->Apply(*inv);
  if (!picked.ok()) return usage(picked.error().message());
  if (picked->empty()) return usage("the selection '" + f.selection + "' matches no nodes");
  std::map<std::string, std::string> env_keys;  // variable -> in-memory path, one per variable
  for (const inventory::Node* node : *picked) {
    SshTarget t;
    transport::Endpoint& e = t.endpoint;
    e.node = node->name;
    e.address = node->ip;
    e.port = f.port > 0 ? f.port : node->ssh.port;
    e.user = f.user.empty() ? node->ssh.user : f.user;
    e.use_agent = f.agent || node->ssh.agent;
    if (!f.key.empty()) {
      e.key_path = ExpandHome(f.key);
    } else if (!node->ssh.key_path.empty()) {
      e.key_path = ExpandHome(node->ssh.key_path);
    } else if (node->ssh.key.kind == inventory::SecretRef::Kind::kFile) {
      e.key_path = ExpandHome(node->ssh.key.ref);
    } else if (node->ssh.key.kind == inventory::SecretRef::Kind::kEnv) {
      // Resolved now, kept in memory only; the error names the reference, never a value.
      auto known = env_keys.find(node->ssh.key.ref);
      if (known != env_keys.end()) {
        e.key_path = known->second;
      } else if (auto material = inventory::ResolveSecret(node->ssh.key); !material.ok()) {
        t.error = node->name + ": ssh key: " + material.error().message();
      } else {
        std::string why;
        e.key_path = targets->KeepInMemory(*material, &why);
        if (e.key_path.empty()) {
          t.error = node->name + ": ssh key: " + why;
        } else {
          env_keys.emplace(node->ssh.key.ref, e.key_path);
        }
      }
    }
    if (e.address.empty()) t.error = node->name + ": the inventory gives no ip to reach it at";
    targets->nodes.push_back(std::move(t));
  }
  return true;
}

std::unique_ptr<SshSession> OpenSshSession(const CliContext& ctx, const std::string& command,
                                           double connect_timeout_s) {
  auto session = std::make_unique<SshSession>();
  auto store = state::OpenSqliteStore(ctx.state_path, session->clock);
  if (!store.ok()) {
    std::cerr << "racksmith " << command << ": " << store.error().ToString() << "\n";
    return nullptr;
  }
  session->store = std::move(*store);
  session->host_keys = std::make_unique<ssh::StateHostKeyStore>(*session->store);
  transport::TransportOptions options;
  if (connect_timeout_s > 0) {
    options.connect_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(connect_timeout_s * 1000));
  }
  session->transport = std::make_unique<ssh::SshTransport>(*session->host_keys, options);
  return session;
}

}  // namespace racksmith::cli
