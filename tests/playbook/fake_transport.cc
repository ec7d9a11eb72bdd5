#include "playbook/fake_transport.h"

#include <cctype>

#include "playbook/internal.h"

namespace racksmith::playbook::testing {
namespace {

using transport::ExecResult;

ExecResult Exit(int status, std::string out = "", std::string err = "") {
  ExecResult r;
  r.exit_status = status;
  r.stdout_text = std::move(out);
  r.stderr_text = std::move(err);
  return r;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string TypeName(FakeEntry::Type t, const std::string& content) {
  switch (t) {
    case FakeEntry::Type::kDir: return "directory";
    case FakeEntry::Type::kLink: return "symbolic link";
    case FakeEntry::Type::kFile: return content.empty() ? "regular empty file" : "regular file";
  }
  return "?";
}

}  // namespace

FakeNode::FakeNode() {
  for (const char* d : {"/", "/etc", "/tmp", "/opt", "/var", "/root", "/usr", "/usr/local"}) {
    AddDir(d);
  }
}

void FakeNode::AddDir(const std::string& path) {
  FakeEntry e;
  e.type = FakeEntry::Type::kDir;
  e.mode = 0755;
  files[path] = e;
}

void FakeNode::AddFile(const std::string& path, const std::string& content, int mode) {
  FakeEntry e;
  e.content = content;
  e.mode = mode;
  files[path] = e;
}

FakeNode& FakeTransport::Node(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_[name];
}

void FakeTransport::On(const std::string& command,
                       std::function<transport::ExecResult(FakeNode&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_[command] = std::move(handler);
}

Result<ExecResult> FakeTransport::Exec(const transport::Endpoint& node,
                                       const transport::ExecRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  FakeNode& n = nodes_[node.node];
  n.commands.push_back(request.command);
  if (n.unreachable || n.down_for > 0) {
    if (n.down_for > 0) --n.down_for;
    return Error(ErrorCode::kUnreachable, node.node + " (" + node.address + "): cannot connect");
  }
  auto h = handlers_.find(request.command);
  if (h != handlers_.end()) return h->second(n);
  return Interpret(n, request.command);
}

ExecResult FakeTransport::Interpret(FakeNode& n, const std::string& command) {
  auto split = internal::SplitWords(command);
  if (!split.ok() || split->empty()) return Exit(2, "", "sh: syntax error\n");
  std::vector<std::string> w = *split;
  if (w[0] == "DEBIAN_FRONTEND=noninteractive") w.erase(w.begin());
  auto changed = [&] { n.changes.push_back(command); };
  auto missing = [&](const std::string& p) {
    return Exit(1, "", w[0] + ": cannot access '" + p + "': No such file or directory\n");
  };
  const std::string& cmd = w[0];
  size_t argc = w.size();
  if (cmd == "stat" && argc == 5 && w[3] == "--") {
    auto it = n.files.find(w[4]);
    if (it == n.files.end()) return missing(w[4]);
    const FakeEntry& e = it->second;
    char mode[16];
    std::snprintf(mode, sizeof mode, "%o", e.mode);
    return Exit(0, TypeName(e.type, e.content) + "|" + mode + "|" + e.owner + "|" + e.group + "\n");
  }
  if (cmd == "mkdir" && argc == 4 && w[1] == "-p" && w[2] == "--") {
    std::string p;
    size_t pos = 1;
    while (pos <= w[3].size()) {
      size_t slash = w[3].find('/', pos);
      if (slash == std::string::npos) slash = w[3].size();
      p = w[3].substr(0, slash);
      if (!n.Exists(p)) n.AddDir(p);
      pos = slash + 1;
    }
    changed();
    return Exit(0);
  }
  if ((cmd == "chmod" || cmd == "chown" || cmd == "chgrp") && argc == 4 && w[2] == "--") {
    auto it = n.files.find(w[3]);
    if (it == n.files.end()) return missing(w[3]);
    if (cmd == "chmod") it->second.mode = std::stoi(w[1], nullptr, 8);
    if (cmd == "chown") it->second.owner = w[1];
    if (cmd == "chgrp") it->second.group = w[1];
    changed();
    return Exit(0);
  }
  if (cmd == "rm" && argc == 4 && w[1] == "-rf" && w[2] == "--") {
    for (auto it = n.files.begin(); it != n.files.end();) {
      bool under = it->first == w[3] || it->first.rfind(w[3] + "/", 0) == 0;
      it = under ? n.files.erase(it) : std::next(it);
    }
    changed();
    return Exit(0);
  }
  if (cmd == "touch" && argc == 3 && w[1] == "--") {
    if (!n.Exists(Parent(w[2]))) return missing(w[2]);
    if (!n.Exists(w[2])) n.AddFile(w[2], "");
    changed();
    return Exit(0);
  }
  if (cmd == "ln" && argc == 5 && w[1] == "-sfn" && w[2] == "--") {
    FakeEntry e;
    e.type = FakeEntry::Type::kLink;
    e.content = w[3];
    e.mode = 0777;
    n.files[w[4]] = e;
    changed();
    return Exit(0);
  }
  if (cmd == "readlink" && argc == 3) {
    auto it = n.files.find(w[2]);
    if (it == n.files.end() || it->second.type != FakeEntry::Type::kLink) return Exit(1);
    return Exit(0, it->second.content + "\n");
  }
  if (cmd == "test" && argc == 3 && w[1] == "-e") return Exit(n.Exists(w[2]) ? 0 : 1);
  if (cmd == "cat" && argc == 2) {
    if (w[1] == "/proc/sys/kernel/random/boot_id") return Exit(0, n.boot_id + "\n");
    auto it = n.files.find(w[1]);
    if (it == n.files.end()) return missing(w[1]);
    return Exit(0, it->second.content);
  }
  if (cmd == "command" && argc == 3 && w[1] == "-v") {
    bool apt = n.package_manager == "apt" && w[2] == "apt-get";
    bool dnf = n.package_manager == "dnf" && w[2] == "dnf";
    return Exit(apt || dnf ? 0 : 1, apt || dnf ? "/usr/bin/" + w[2] + "\n" : "");
  }
  if ((cmd == "dpkg-query" && argc == 4) || (cmd == "rpm" && argc == 5)) {
    auto it = n.installed.find(w.back());
    bool dpkg = cmd == "dpkg-query";
    if (it == n.installed.end()) {
      return Exit(1, "", dpkg ? "dpkg-query: no packages found matching " + w.back() + "\n"
                              : "package " + w.back() + " is not installed\n");
    }
    return Exit(0, dpkg ? "install ok installed|" + it->second : it->second);
  }
  if ((cmd == "apt-get" && n.package_manager == "apt") ||
      (cmd == "dnf" && n.package_manager == "dnf")) {
    if (argc >= 2 && w[1] == "update") return Exit(0, "Reading package lists...\n");
    bool install = argc >= 2 && w[1] == "install";
    bool remove = argc >= 2 && w[1] == "remove";
    if (!install && !remove) return Exit(100, "", "E: unsupported in the fake\n");
    for (size_t i = 2; i < argc; ++i) {
      std::string spec = w[i];
      if (spec[0] == '-') {
        if (spec == "-o") ++i;
        continue;
      }
      std::string name = spec, version;
      size_t sep = spec.find('=');
      if (cmd == "dnf") {  // name-version: the first '-' followed by a digit
        sep = std::string::npos;
        for (size_t k = 0; k + 1 < spec.size(); ++k) {
          if (spec[k] == '-' && std::isdigit(static_cast<unsigned char>(spec[k + 1]))) {
            sep = k;
            break;
          }
        }
      }
      if (sep != std::string::npos) {
        name = spec.substr(0, sep);
        version = spec.substr(sep + 1);
        if (!version.empty() && version.back() == '*') version.pop_back();
      }
      if (remove) {
        n.installed.erase(name);
        continue;
      }
      auto av = n.available.find(name);
      if (av == n.available.end() || av->second.rfind(version, 0) != 0) {
        return Exit(100, "", "E: Unable to locate package " + spec + "\n");
      }
      n.installed[name] = av->second;
    }
    changed();
    return Exit(0);
  }
  if (cmd == "systemctl" && argc == 2 && w[1] == "daemon-reload") return Exit(0);
  if (cmd == "systemctl" && argc == 3) {
    auto it = n.services.find(w[2]);
    const std::string& verb = w[1];
    if (it == n.services.end()) {
      if (verb == "is-enabled") return Exit(1, "not-found\n");
      if (verb == "is-active") return Exit(3, "inactive\n");
      return Exit(5, "", "Failed to " + verb + " " + w[2] + ": Unit " + w[2] + " not found.\n");
    }
    FakeService& s = it->second;
    if (verb == "is-enabled") return Exit(s.enabled ? 0 : 1, s.enabled ? "enabled\n" : "disabled\n");
    if (verb == "is-active") return Exit(s.active ? 0 : 3, s.active ? "active\n" : "inactive\n");
    if (verb == "enable") s.enabled = true;
    if (verb == "disable") s.enabled = false;
    if (verb == "start" || verb == "restart" || verb == "reload") s.active = true;
    if (verb == "stop") s.active = false;
    changed();
    return Exit(0);
  }
  if (cmd == "mountpoint" && argc == 3) return Exit(n.mounted.count(w[2]) ? 0 : 1);
  if (cmd == "mount" && (argc == 2 || (argc == 4 && w[2] == "remount"))) {
    const std::string& target = w.back();
    bool in_fstab = false;
    auto fstab = n.files.find("/etc/fstab");
    if (fstab != n.files.end()) {
      in_fstab = fstab->second.content.find(" " + target + " ") != std::string::npos;
    }
    if (!in_fstab) return Exit(1, "", "mount: " + target + ": can't find in /etc/fstab.\n");
    if (!n.Exists(target)) return Exit(32, "", "mount: " + target + ": mount point does not exist.\n");
    n.mounted.insert(target);
    changed();
    return Exit(0);
  }
  if (cmd == "umount" && argc == 2) {
    if (!n.mounted.erase(w[1])) return Exit(32, "", "umount: " + w[1] + ": not mounted.\n");
    changed();
    return Exit(0);
  }
  if (cmd == "nohup" && argc >= 4 && w[1] == "sh" && w[2] == "-c" &&
      w[3].find("systemctl reboot") != std::string::npos) {
    ++n.reboots;
    char id[64];
    std::snprintf(id, sizeof id, "22222222-aaaa-bbbb-cccc-%012d", n.reboots);
    n.boot_id = id;
    n.down_for = n.down_after_reboot;
    n.mounted.clear();
    changed();
    return Exit(0);
  }
  return Exit(127, "", "sh: 1: " + cmd + ": not found (fake transport)\n");
}

Status FakeTransport::Upload(const transport::Endpoint& node,
                             const transport::UploadRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  FakeNode& n = nodes_[node.node];
  if (n.unreachable) return Error(ErrorCode::kUnreachable, node.node + ": cannot connect");
  auto parent = n.files.find(Parent(request.remote_path));
  if (parent == n.files.end() || parent->second.type != FakeEntry::Type::kDir) {
    return IoError(node.node + ": cannot upload " + request.remote_path + ": no such folder");
  }
  FakeEntry e;
  e.content = request.content;
  e.mode = request.mode;
  n.files[request.remote_path] = e;
  n.changes.push_back("upload " + request.remote_path);
  return Status::Ok();
}

Result<std::string> FakeTransport::Download(const transport::Endpoint& node,
                                            const std::string& remote_path) {
  std::lock_guard<std::mutex> lock(mu_);
  FakeNode& n = nodes_[node.node];
  if (n.unreachable) return Error(ErrorCode::kUnreachable, node.node + ": cannot connect");
  auto it = n.files.find(remote_path);
  if (it == n.files.end() || it->second.type != FakeEntry::Type::kFile) {
    return IoError(node.node + ": cannot download " + remote_path + ": no such file");
  }
  return it->second.content;
}

void FakeTransport::Disconnect(const std::string&) {
  std::lock_guard<std::mutex> lock(mu_);
  ++disconnects_;
}

}  // namespace racksmith::playbook::testing
