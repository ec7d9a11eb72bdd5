// A Transport that simulates nodes in memory, for unit tests of playbook modules: a file
// tree, systemd services, an apt or dnf package database, mounts, a boot id and reboots.
// It interprets exactly the simple commands the modules send (stat, mkdir -p, chmod, ...);
// anything else must be registered with On(), or it exits 127 like a missing command.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "transport/transport.h"

namespace racksmith::playbook::testing {

struct FakeEntry {
  enum class Type { kFile, kDir, kLink } type = Type::kFile;
  std::string content;  // file content, or the link target
  int mode = 0644;
  std::string owner = "root", group = "root";
};

struct FakeService {
  bool enabled = false;
  bool active = false;
};

struct FakeNode {
  std::map<std::string, FakeEntry> files;  // absolute path -> entry ("/" always exists)
  std::map<std::string, FakeService> services;
  std::string package_manager = "apt";               // "apt", "dnf" or "" (none)
  std::map<std::string, std::string> installed;      // package -> version
  std::map<std::string, std::string> available;      // package -> version the repo has
  std::set<std::string> mounted;                     // mount points
  std::string boot_id = "11111111-aaaa-bbbb-cccc-000000000001";
  int reboots = 0;
  int down_for = 0;  // the next N calls fail as unreachable (after a reboot)
  int down_after_reboot = 2;
  std::vector<std::string> commands;  // every Exec command, in order
  std::vector<std::string> changes;   // every command that changed something, in order
  bool unreachable = false;           // every call fails

  FakeNode();
  void AddDir(const std::string& path);
  void AddFile(const std::string& path, const std::string& content, int mode = 0644);
  bool Exists(const std::string& path) const { return files.count(path) > 0; }
  const std::string& Content(const std::string& path) const { return files.at(path).content; }
};

class FakeTransport : public transport::Transport {
 public:
  /// The node called `name` (created on first use).
  FakeNode& Node(const std::string& name);
  /// Answers `command` exactly on every node with this handler.
  void On(const std::string& command,
          std::function<transport::ExecResult(FakeNode&)> handler);

  Result<transport::ExecResult> Exec(const transport::Endpoint& node,
                                     const transport::ExecRequest& request) override;
  Status Upload(const transport::Endpoint& node, const transport::UploadRequest& request) override;
  Result<std::string> Download(const transport::Endpoint& node,
                               const std::string& remote_path) override;
  void Disconnect(const std::string& node) override;

  int disconnects() const { return disconnects_; }

 private:
  transport::ExecResult Interpret(FakeNode& n, const std::string& command);
  std::mutex mu_;
  std::map<std::string, FakeNode> nodes_;
  std::map<std::string, std::function<transport::ExecResult(FakeNode&)>> handlers_;
  int disconnects_ = 0;
};

}  // namespace racksmith::playbook::testing
