// System modules: package (apt or dnf, detected on the node), service (systemd), mount
// (fstab + mount). Each queries the node first and acts only on a difference.
#include <sstream>

#include "playbook/internal.h"

namespace racksmith::playbook::internal {
namespace {

ModuleResult Failed(std::string msg) {
  ModuleResult r;
  r.failed = true;
  r.msg = std::move(msg);
  return r;
}

std::string Chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// ---------------------------------------------------------------------------------------
// package

Result<std::string> DetectPackageManager(ModuleContext& ctx) {
  for (const char* tool : {"apt-get", "dnf"}) {
    auto r = Run(ctx, std::string("command -v ") + tool);
    if (!r.ok()) return r.error();
    if (r->exit_status == 0) return std::string(tool == std::string("apt-get") ? "apt" : "dnf");
  }
  return Error(ErrorCode::kUnsupported, "neither apt-get nor dnf is on the node");
}

// The installed version, or "" when the package is not installed.
Result<std::string> InstalledVersion(ModuleContext& ctx, const std::string& manager,
                                     const std::string& name) {
  if (manager == "apt") {
    auto r = Run(ctx, "dpkg-query -W -f='${Status}|${Version}' " + ShellQuote(name));
    if (!r.ok()) return r.error();
    if (r->exit_status != 0) return std::string();
    std::string out = Chomp(r->stdout_text);
    size_t bar = out.find('|');
    if (bar == std::string::npos) return std::string();
    std::string status = out.substr(0, bar);
    if (status.size() < 10 || status.compare(status.size() - 10, 10, " installed") != 0) {
      return std::string();
    }
    return out.substr(bar + 1);
  }
  auto r = Run(ctx, "rpm -q --qf '%{VERSION}-%{RELEASE}' " + ShellQuote(name));
  if (!r.ok()) return r.error();
  if (r->exit_status != 0) return std::string();
  return Chomp(r->stdout_text);
}

// A version matches when it equals the wanted one or starts with it followed by a
// separator: "550.127.05" matches "550.127.05-0ubuntu1", "550" matches "550.127.05-1".
bool VersionMatches(const std::string& have, const std::string& want) {
  if (want.empty()) return true;
  if (have.rfind(want, 0) != 0) return false;
  if (have.size() == want.size()) return true;
  char next = have[want.size()];
  return next == '.' || next == '-' || next == '+' || next == '~' || next == ':';
}

ModuleResult RunPackage(ModuleContext& ctx, const Json& args) {
  std::vector<std::string> names = ArgList(args, "name");
  std::string state = ArgString(args, "state", "present");
  std::string version = ArgString(args, "version");
  std::string manager = ArgString(args, "use", "auto");
  if (manager == "auto") {
    auto m = DetectPackageManager(ctx);
    if (!m.ok()) return FromError(m.error());
    manager = *m;
  }
  std::vector<std::string> todo, shown;
  for (const auto& name : names) {
    auto have = InstalledVersion(ctx, manager, name);
    if (!have.ok()) return FromError(have.error());
    bool installed = !have->empty();
    if (state == "absent") {
      if (installed) {
        todo.push_back(name);
        shown.push_back(name + " " + *have);
      }
    } else if (!installed || !VersionMatches(*have, version)) {
      std::string spec = name;
      if (!version.empty()) spec += manager == "apt" ? "=" + version + "*" : "-" + version;
      todo.push_back(spec);
      shown.push_back(installed ? name + " " + *have + " -> " + version : name);
    }
  }
  ModuleResult r;
  if (todo.empty()) return r;
  r.changed = true;
  std::string list;
  for (const auto& s : shown) list += (list.empty() ? "" : ", ") + s;
  r.msg = (state == "absent" ? "remove " : "install ") + list + " (" + manager + ")";
  if (ctx.check) return r;
  std::string words;
  for (const auto& t : todo) words += " " + ShellQuote(t);
  std::vector<std::string> commands;
  if (manager == "apt") {
    const std::string env = "DEBIAN_FRONTEND=noninteractive ";
    if (state != "absent" && ArgBool(args, "update_cache", false)) {
      commands.push_back(env + "apt-get update -q");
    }
    commands.push_back(state == "absent"
                           ? env + "apt-get remove -y -q" + words
                           : env + "apt-get install -y -q -o Dpkg::Options::=--force-confold" +
                                 words);
  } else {
    commands.push_back((state == "absent" ? "dnf remove -y -q" : "dnf install -y -q") + words);
  }
  for (const auto& c : commands) {
    auto res = Run(ctx, c);
    if (!res.ok()) return FromError(res.error());
    r.rc = res->exit_status;
    r.stdout_text += res->stdout_text;
    r.stderr_text += res->stderr_text;
    if (res->exit_status != 0) {
      r.failed = true;
      r.msg = "`" + c + "` exited " + std::to_string(res->exit_status);
      return r;
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// service (systemd)

ModuleResult RunService(ModuleContext& ctx, const Json& args) {
  std::string name = ArgString(args, "name");
  std::string q = ShellQuote(name);
  ModuleResult r;
  std::vector<std::string> did;
  auto act = [&](const std::string& verb) -> bool {
    did.push_back(verb);
    r.changed = true;
    if (ctx.check) return true;
    Status s = RunOk(ctx, "systemctl " + verb + " " + q);
    if (!s.ok()) r = FromError(s.error());
    return s.ok();
  };
  if (ArgBool(args, "daemon_reload", false) && !ctx.check) {
    Status s = RunOk(ctx, "systemctl daemon-reload");
    if (!s.ok()) return FromError(s.error());
  }
  if (args.contains("enabled")) {
    bool want = ArgBool(args, "enabled", true);
    auto res = Run(ctx, "systemctl is-enabled " + q);
    if (!res.ok()) return FromError(res.error());
    std::string now = Chomp(res->stdout_text);
    bool enabled = now == "enabled" || now == "enabled-runtime" || now == "static" ||
                   now == "alias" || now == "indirect" || now == "generated";
    if (now.empty() || now == "not-found") {
      return Failed("service " + name + " is not known to systemd");
    }
    if (want != enabled && !act(want ? "enable" : "disable")) return r;
  }
  std::string state = ArgString(args, "state");
  if (!state.empty()) {
    auto res = Run(ctx, "systemctl is-active " + q);
    if (!res.ok()) return FromError(res.error());
    bool active = Chomp(res->stdout_text) == "active";
    if (state == "started" && !active && !act("start")) return r;
    if (state == "stopped" && active && !act("stop")) return r;
    if (state == "restarted" && !act("restart")) return r;
    if (state == "reloaded" && !act(active ? "reload" : "start")) return r;
  }
  for (const auto& d : did) r.msg += (r.msg.empty() ? "" : ", ") + d;
  return r;
}

// ---------------------------------------------------------------------------------------
// mount: the fstab line first, then the mount itself.

void ValidateMount(const Json& args, const std::string&, TemplateCache&,
                   std::vector<Error>* problems) {
  std::string state = ArgString(args, "state", "mounted");
  if ((state == "mounted" || state == "present") &&
      (!args.contains("src") || !args.contains("fstype"))) {
    problems->push_back(InvalidInput("state: " + state + " needs src and fstype"));
  }
}

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> f;
  for (std::string w; in >> w;) f.push_back(w);
  return f;
}

ModuleResult RunMount(ModuleContext& ctx, const Json& args) {
  std::string path = ArgString(args, "path");
  std::string state = ArgString(args, "state", "mounted");
  std::string fstab = ArgString(args, "fstab", "/etc/fstab");
  if (path.empty() || path[0] != '/') return Failed("path must be absolute, found \"" + path + "\"");
  // Templates can render them empty (an inventory mount without a source): that would write
  // an fstab line with fields missing, which breaks every later line's parsing at boot.
  if ((state == "mounted" || state == "present") &&
      (ArgString(args, "src").empty() || ArgString(args, "fstype").empty())) {
    return Failed("state: " + state + " needs a non-empty src and fstype for " + path);
  }
  std::string opts;
  for (const auto& o : ArgList(args, "opts")) opts += (opts.empty() ? "" : ",") + o;
  if (opts.empty()) opts = "defaults";
  std::string want_line = ArgString(args, "src") + " " + path + " " + ArgString(args, "fstype") +
                          " " + opts + " " + ArgString(args, "dump", "0") + " " +
                          ArgString(args, "passno", "0");

  auto current = ReadFile(ctx, fstab);
  if (!current.ok()) return FromError(current.error());
  std::string before = current->value_or("");
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < before.size();) {
    size_t nl = before.find('\n', pos);
    if (nl == std::string::npos) nl = before.size();
    lines.push_back(before.substr(pos, nl - pos));
    pos = nl + 1;
  }
  bool found = false;
  // The line this one replaces: a remount applies new options, but never a new source or
  // file system type (the kernel keeps what is mounted), so those need a fresh mount.
  bool new_source = false;
  std::vector<std::string> out;
  for (const auto& l : lines) {
    auto f = Fields(l);
    bool ours = f.size() >= 2 && f[0][0] != '#' && f[1] == path;
    if (!ours) {
      out.push_back(l);
    } else if (state != "absent" && state != "unmounted" && !found) {
      // Same fields, maybe different spacing: keep the admin's formatting.
      auto want = Fields(want_line);
      out.push_back(f == want ? l : want_line);
      new_source = f[0] != want[0] || f.size() < 3 || f[2] != want[2];
      found = true;
    } else if (state == "unmounted") {
      out.push_back(l);
    }
  }
  if (!found && (state == "mounted" || state == "present")) out.push_back(want_line);
  std::string after;
  for (const auto& l : out) after += l + "\n";
  if (out.empty()) after.clear();

  ModuleResult r;
  bool fstab_changed = after != before && !(after == before + "\n");
  if (fstab_changed) {
    r = WriteFileIfChanged(ctx, fstab, after, Attrs{});
    if (r.failed) return r;
    r.msg = "fstab updated";
  }
  if (state == "present") return r;
  auto mounted_res = Run(ctx, "mountpoint -q " + ShellQuote(path));
  if (!mounted_res.ok()) return FromError(mounted_res.error());
  bool mounted = mounted_res->exit_status == 0;
  auto act = [&](const std::string& command, const std::string& what) -> bool {
    r.changed = true;
    r.msg += (r.msg.empty() ? "" : ", ") + what;
    if (ctx.check) return true;
    Status s = RunOk(ctx, command);
    if (!s.ok()) {
      r = FromError(s.error());
      return false;
    }
    return true;
  };
  const std::string q = ShellQuote(path);
  if (state == "mounted") {
    if (!mounted) {
      if (!act("mkdir -p -- " + q, "created " + path)) return r;
      act("mount " + q, "mounted");
    } else if (fstab_changed && new_source) {
      if (act("umount " + q, "unmounted"))
        act("mount " + q, "mounted from " + ArgString(args, "src"));
    } else if (fstab_changed) {
      act("mount -o remount " + q, "remounted");
    }
  } else if ((state == "unmounted" || state == "absent") && mounted) {
    act("umount " + q, "unmounted");
  }
  return r;
}

}  // namespace

void AddSystemModules(std::vector<ModuleSpec>* out) {
  out->push_back({"package",
                  {"apt", "dnf", "yum"},
                  {{"name", ArgType::kStringOrList, true},
                   {"state", ArgType::kString, false, {"present", "installed", "absent"}},
                   {"version", ArgType::kString},
                   {"use", ArgType::kString, false, {"auto", "apt", "dnf"}},
                   {"update_cache", ArgType::kBool}},
                  nullptr,
                  nullptr,
                  RunPackage});
  out->push_back({"service",
                  {"systemd"},
                  {{"name", ArgType::kString, true},
                   {"state", ArgType::kString, false, {"started", "stopped", "restarted", "reloaded"}},
                   {"enabled", ArgType::kBool},
                   {"daemon_reload", ArgType::kBool}},
                  nullptr,
                  nullptr,
                  RunService});
  out->push_back({"mount",
                  {},
                  {{"path", ArgType::kString, true}, {"src", ArgType::kString},
                   {"fstype", ArgType::kString}, {"opts", ArgType::kStringOrList},
                   {"state", ArgType::kString, false, {"mounted", "present", "unmounted", "absent"}},
                   {"dump", ArgType::kAny}, {"passno", ArgType::kAny},
                   {"fstab", ArgType::kString}},
                  nullptr,
                  ValidateMount,
                  RunMount});
}

}  // namespace racksmith::playbook::internal
