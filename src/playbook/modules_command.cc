// Modules that run commands or wait: command, shell, assert, wait_for, reboot.
#include <thread>

#include "playbook/internal.h"

namespace racksmith::playbook::internal {
namespace {

void Sleep(const ModuleContext& ctx, std::chrono::milliseconds d) {
  if (ctx.options.sleep) {
    ctx.options.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

// ---------------------------------------------------------------------------------------
// command / shell

void ValidateCommand(const Json& args, const std::string&, TemplateCache&,
                     std::vector<Error>* problems) {
  if (args.contains("cmd") == args.contains("argv")) {
    problems->push_back(InvalidInput("needs exactly one of cmd (or a free-form command), argv"));
  }
}

// Ansible's command module runs without a shell: `|`, `>`, `$X` are plain arguments. The
// transport always goes through the node's shell, so every word is quoted.
Result<std::string> CommandLine(const Json& args, bool shell) {
  if (args.contains("argv")) {
    std::string line;
    for (const auto& w : ArgList(args, "argv")) line += (line.empty() ? "" : " ") + ShellQuote(w);
    return line;
  }
  std::string cmd = ArgString(args, "cmd");
  if (shell) return cmd;
  auto words = SplitWords(cmd);
  if (!words.ok()) return words.error();
  std::string line;
  for (const auto& w : *words) line += (line.empty() ? "" : " ") + ShellQuote(w);
  return line;
}

ModuleResult RunCommandLike(ModuleContext& ctx, const Json& args, bool shell) {
  ModuleResult r;
  for (const char* key : {"creates", "removes"}) {
    std::string path = ArgString(args, key);
    if (path.empty()) continue;
    auto info = StatPath(ctx, path);
    if (!info.ok()) return FromError(info.error());
    bool creates = std::string(key) == "creates";
    if (info->exists == creates) {
      r.msg = "skipped: " + path + (creates ? " exists" : " does not exist");
      r.extra["skipped_by"] = key;
      return r;
    }
  }
  auto line = CommandLine(args, shell);
  if (!line.ok()) {
    r.failed = true;
    r.msg = line.error().message();
    return r;
  }
  std::string command = *line;
  std::string chdir = ArgString(args, "chdir");
  if (!chdir.empty()) command = "cd " + ShellQuote(chdir) + " && " + command;
  r.changed = true;
  if (ctx.check) {
    r.msg = "would run: " + command;
    return r;
  }
  transport::ExecRequest req;
  req.command = command;
  auto res = ctx.transport.Exec(ctx.endpoint, req);
  if (!res.ok()) return FromError(res.error());
  r.rc = res->exit_status;
  r.stdout_text = res->stdout_text;
  r.stderr_text = res->stderr_text;
  if (r.rc != 0) {
    r.failed = true;
    r.msg = "non-zero exit " + std::to_string(r.rc);
  }
  return r;
}

ModuleResult RunCommand(ModuleContext& ctx, const Json& args) {
  return RunCommandLike(ctx, args, false);
}
ModuleResult RunShell(ModuleContext& ctx, const Json& args) {
  return RunCommandLike(ctx, args, true);
}

// ---------------------------------------------------------------------------------------
// assert: `that` expressions, evaluated on the controller with the node's variables.

void ValidateAssert(const Json& args, const std::string&, TemplateCache& cache,
                    std::vector<Error>* problems) {
  for (const auto& expr : ArgItems(args, "that")) {
    auto t = CompileExpression(cache, expr);
    if (!t.ok()) problems->push_back(InvalidInput("in `that`: " + t.error().message()));
  }
}

ModuleResult RunAssert(ModuleContext& ctx, const Json& args) {
  ModuleResult r;
  for (const auto& expr : ArgItems(args, "that")) {
    auto v = EvaluateExpression(*ctx.playbook.templates, expr, ctx.vars);
    if (!v.ok()) {
      r.failed = true;
      r.msg = "assertion `" + expr + "` could not be evaluated: " + v.error().message();
      return r;
    }
    if (!Truthy(*v)) {
      r.failed = true;
      std::string custom = ArgString(args, "fail_msg", ArgString(args, "msg"));
      r.msg = custom.empty() ? "assertion failed: " + expr : custom;
      r.extra["assertion"] = expr;
      return r;
    }
  }
  r.msg = ArgString(args, "success_msg", "all assertions passed");
  return r;
}

// ---------------------------------------------------------------------------------------
// wait_for: a path or a TCP port on the node, polled through the transport.

void ValidateWaitFor(const Json& args, const std::string&, TemplateCache&,
                     std::vector<Error>* problems) {
  if (args.contains("path") == args.contains("port")) {
    problems->push_back(InvalidInput("needs exactly one of path, port"));
  }
}

ModuleResult RunWaitFor(ModuleContext& ctx, const Json& args) {
  ModuleResult r;
  std::string state = ArgString(args, "state", "present");
  bool want_present = state == "present" || state == "started";
  std::string probe;
  std::string what;
  if (args.contains("path")) {
    std::string path = ArgString(args, "path");
    probe = "test -e " + ShellQuote(path);
    what = path;
  } else {
    std::string host = ArgString(args, "host", "127.0.0.1");
    std::string port = ArgString(args, "port");
    probe = "timeout 2 bash -c " + ShellQuote("exec 3<>/dev/tcp/" + host + "/" + port);
    what = host + ":" + port;
  }
  int64_t timeout_s = ArgInt(args, "timeout", 300);
  int64_t delay_s = ArgInt(args, "delay", 0);
  int64_t sleep_s = std::max<int64_t>(1, ArgInt(args, "sleep", 1));
  if (ctx.check) {
    r.msg = "would wait for " + what;
    return r;
  }
  if (delay_s > 0) Sleep(ctx, std::chrono::seconds(delay_s));
  int64_t attempts = std::max<int64_t>(1, timeout_s / sleep_s);
  for (int64_t i = 0; i < attempts; ++i) {
    auto res = Run(ctx, probe);
    if (!res.ok()) return FromError(res.error());
    if ((res->exit_status == 0) == want_present) {
      r.msg = what + (want_present ? " is there" : " is gone");
      return r;
    }
    if (i + 1 < attempts) Sleep(ctx, std::chrono::seconds(sleep_s));
  }
  r.failed = true;
  r.msg = "timed out after " + std::to_string(timeout_s) + " s waiting for " + what + " to be " +
          state;
  return r;
}

// ---------------------------------------------------------------------------------------
// reboot: asks the node to reboot, then waits until SSH answers with a new boot id.

constexpr const char* kBootIdPath = "/proc/sys/kernel/random/boot_id";

Result<std::string> BootId(ModuleContext& ctx) {
  auto r = Run(ctx, std::string("cat ") + kBootIdPath);
  if (!r.ok()) return r.error();
  if (r->exit_status != 0) {
    return Error(ErrorCode::kRefused, std::string("cannot read ") + kBootIdPath + ": " +
                                          r->stderr_text);
  }
  std::string id = r->stdout_text;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

ModuleResult RunReboot(ModuleContext& ctx, const Json& args) {
  ModuleResult r;
  r.changed = true;
  if (ctx.check) {
    r.msg = "would reboot";
    return r;
  }
  auto before = BootId(ctx);
  if (!before.ok()) return FromError(before.error());
  // Detached, delayed, so that this command's channel closes cleanly before the node goes.
  std::string command = ArgString(args, "reboot_command", "systemctl reboot");
  auto sent = Run(ctx, "nohup sh -c " + ShellQuote("sleep 1; " + command) +
                           " >/dev/null 2>&1 &");
  if (!sent.ok()) return FromError(sent.error());
  ctx.transport.Disconnect(ctx.endpoint.node);
  int64_t timeout_s = ArgInt(args, "reboot_timeout", 600);
  int64_t interval_s = 2;
  Sleep(ctx, std::chrono::seconds(ArgInt(args, "pre_reboot_delay", 2)));
  for (int64_t waited = 0; waited < timeout_s; waited += interval_s) {
    auto now = BootId(ctx);
    if (now.ok() && *now != *before) {
      r.msg = "rebooted (boot id " + before->substr(0, 8) + " -> " + now->substr(0, 8) + ")";
      r.extra["boot_id"] = *now;
      return r;
    }
    if (!now.ok()) ctx.transport.Disconnect(ctx.endpoint.node);
    Sleep(ctx, std::chrono::seconds(interval_s));
  }
  r.failed = true;
  r.msg = "the node did not come back with a new boot id within " + std::to_string(timeout_s) +
          " s";
  return r;
}

}  // namespace

void AddCommandModules(std::vector<ModuleSpec>* out) {
  std::vector<ArgSpec> cmd_args = {{"cmd", ArgType::kString},      {"argv", ArgType::kList},
                                   {"chdir", ArgType::kString},    {"creates", ArgType::kString},
                                   {"removes", ArgType::kString}};
  out->push_back({"command", {}, cmd_args, "cmd", ValidateCommand, RunCommand});
  out->push_back({"shell", {}, cmd_args, "cmd", ValidateCommand, RunShell});
  out->push_back({"assert",
                  {},
                  {{"that", ArgType::kStringOrList, true}, {"fail_msg", ArgType::kString},
                   {"msg", ArgType::kString}, {"success_msg", ArgType::kString}},
                  nullptr,
                  ValidateAssert,
                  RunAssert});
  out->push_back({"wait_for",
                  {},
                  {{"path", ArgType::kString}, {"port", ArgType::kInt},
                   {"host", ArgType::kString},
                   {"state", ArgType::kString, false, {"present", "started", "absent", "stopped"}},
                   {"timeout", ArgType::kInt}, {"delay", ArgType::kInt}, {"sleep", ArgType::kInt}},
                  nullptr,
                  ValidateWaitFor,
                  RunWaitFor});
  out->push_back({"reboot",
                  {},
                  {{"reboot_timeout", ArgType::kInt}, {"pre_reboot_delay", ArgType::kInt},
                   {"reboot_command", ArgType::kString}},
                  nullptr,
                  nullptr,
                  RunReboot});
}

}  // namespace racksmith::playbook::internal
