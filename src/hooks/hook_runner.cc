// Finding hooks in <dir>/<event>.d/ and running them in order (hooks.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "hooks/hook_process.h"
#include "hooks/hooks.h"

namespace racksmith::hooks {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Variables of racksmith's own environment a hook may see: where programs are, whose account
// it is, language and time zone. Nothing else (so no *_PASSWORD, tokens or keys) is passed.
constexpr const char* kPassedVariables[] = {
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Why a folder entry is not a hook by its name alone; nullptr when it may be one.
const char* SkippedName(std::string_view name) {
  if (name.empty() || name[0] == '.') return "a dotfile";
  if (EndsWith(name, "~") || (name.front() == '#' && name.back() == '#')) {
    return "an editor backup";
  }
  if (name.find(".dpkg-") != std::string_view::npos || EndsWith(name, ".rpmnew") ||
      EndsWith(name, ".rpmsave")) {
    return "a package manager's leftover";
  }
  for (std::string_view s : {".bak", ".orig", ".swp", ".tmp"}) {
    if (EndsWith(name, s)) return "a backup or temporary file";
  }
  return nullptr;
}

// Why racksmith must not run what `st` describes with its own rights; empty when it may.
std::string Unsafe(const struct stat& st) {
  std::vector<std::string> why;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    why.push_back(fmt::format("mode {:04o} lets {} write it", st.st_mode & 07777,
                              (st.st_mode & S_IWOTH) != 0 ? "everyone" : "its group"));
  }
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    why.push_back(fmt::format("it belongs to uid {}, not to this user (uid {}) or root", st.st_uid,
                              geteuid()));
  }
  std::string out;
  for (const std::string& w : why) out += (out.empty() ? "" : "; ") + w;
  return out;
}

std::string Seconds(int64_t ms) { return fmt::format("{:g}", static_cast<double>(ms) / 1000.0); }

}  // namespace

const char* HookEventName(HookEvent event) {
  switch (event) {
    case HookEvent::kPreApply:
      return "pre-apply";
    case HookEvent::kPostApply:
      return "post-apply";
    case HookEvent::kPreNodeStep:
      return "pre-node-step";
    case HookEvent::kPostNodeStep:
      return "post-node-step";
    case HookEvent::kNodeStateChange:
      return "node-state-change";
    case HookEvent::kPreRetire:
      return "pre-retire";
    case HookEvent::kPostBurnin:
      return "post-burnin";
  }
  return "unknown";
}

std::optional<HookEvent> ParseHookEvent(std::string_view name) {
  for (HookEvent e : kAllHookEvents) {
    if (name == HookEventName(e)) return e;
  }
  return std::nullopt;
}

bool CanVeto(HookEvent event) {
  return event == HookEvent::kPreApply || event == HookEvent::kPreNodeStep ||
         event == HookEvent::kPreRetire;
}

std::string HookResult::Describe(int64_t timeout_ms) const {
  if (!start_error.empty()) return "cannot start: " + start_error;
  if (timed_out) return "timed out after " + Seconds(timeout_ms) + " s";
  if (exit_code < 0) {
    const char* sig = strsignal(-exit_code);
    return fmt::format("killed by signal {} ({})", -exit_code, sig != nullptr ? sig : "?");
  }
  return fmt::format("exited with status {}", exit_code);
}

std::string OneLine(std::string_view text, size_t max_bytes) {
  std::string out;
  std::string line;
  auto flush = [&] {
    size_t b = line.find_first_not_of(' ');
    size_t e = line.find_last_not_of(' ');
    if (b != std::string::npos) {
      if (!out.empty()) out += "; ";
      out += line.substr(b, e - b + 1);
    }
    line.clear();
  };
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r') {
      flush();
    } else if (c == '\t') {
      line += ' ';
    } else if (u < 0x20 || u == 0x7f) {
      line += '?';  // no terminal control sequences in a reason shown on a terminal
    } else {
      line += c;
    }
  }
  flush();
  if (out.size() > max_bytes) {
    size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string DefaultHooksDir(const std::string& inventory_path) {
  std::string p = inventory_path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  fs::path parent = fs::path(p).parent_path();
  return parent.empty() ? std::string("hooks") : (parent / "hooks").string();
}

bool HookRunner::Empty() const {
  return std::all_of(hooks_.begin(), hooks_.end(), [](const auto& h) { return h.empty(); });
}

Result<HookRunner> HookRunner::Open(HookOptions options) {
  HookRunner runner;
  if (options.dir.empty()) {
    runner.options_ = std::move(options);
    return runner;
  }
  struct stat st {};
  if (stat(options.dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return IoError(fmt::format("hooks folder {}: {}", options.dir, std::strerror(errno)));
    }
    spdlog::debug("hooks: no folder {}: no hooks run", options.dir);
    runner.options_ = std::move(options);
    return runner;
  }
  if (!S_ISDIR(st.st_mode)) {
    return InvalidInput(fmt::format("hooks folder {}: not a folder", options.dir));
  }
  std::error_code ec;
  fs::path dir = fs::absolute(options.dir, ec);
  if (ec) return IoError(fmt::format("hooks folder {}: {}", options.dir, ec.message()));
  options.dir = dir.lexically_normal().string();
  while (options.dir.size() > 1 && options.dir.back() == '/') options.dir.pop_back();

  // Folders others may write matter only when there is a hook in them to run (a checkout made
  // under umask 002 without hooks must not stop an apply); hooks others may write always do.
  std::vector<std::string> unsafe_dirs, unsafe;
  if (std::string why = Unsafe(st); !why.empty()) unsafe_dirs.push_back(options.dir + ": " + why);
  // A folder named like an event but misspelt would silently never run: say so.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (EndsWith(name, ".d") && !ParseHookEvent(name.substr(0, name.size() - 2))) {
      spdlog::warn(
          "hooks: {} is not a hook event folder (pre-apply.d, post-apply.d, "
          "pre-node-step.d, post-node-step.d, node-state-change.d, pre-retire.d, "
          "post-burnin.d): nothing in it runs",
          it->path().string());
    }
  }
  if (ec) return IoError(fmt::format("hooks folder {}: {}", options.dir, ec.message()));

  for (HookEvent event : kAllHookEvents) {
    fs::path folder = dir / (std::string(HookEventName(event)) + ".d");
    struct stat fst {};
    if (stat(folder.c_str(), &fst) != 0) continue;  // no hooks for this event
    if (!S_ISDIR(fst.st_mode)) {
      return InvalidInput(fmt::format("hooks: {} is not a folder", folder.string()));
    }
    if (std::string why = Unsafe(fst); !why.empty()) {
      unsafe_dirs.push_back(folder.string() + ": " + why);
    }
    std::vector<std::string> names;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return IoError(fmt::format("hooks folder {}: {}", folder.string(), ec.message()));
    std::sort(names.begin(), names.end());  // byte order, whatever the locale
    for (const std::string& name : names) {
      std::string path = (folder / name).string();
      if (const char* why = SkippedName(name)) {
        spdlog::debug("hooks: skipping {}: {}", path, why);
        continue;
      }
      struct stat hst {};
      if (stat(path.c_str(), &hst) != 0) {
        spdlog::debug("hooks: skipping {}: {}", path, std::strerror(errno));
        continue;
      }
      if (!S_ISREG(hst.st_mode)) {
        spdlog::debug("hooks: skipping {}: not a regular file", path);
        continue;
      }
      if (access(path.c_str(), X_OK) != 0) {
        spdlog::debug("hooks: skipping {}: not executable", path);
        continue;
      }
      if (std::string why = Unsafe(hst); !why.empty()) {
        unsafe.push_back(path + ": " + why);
        continue;
      }
      runner.hooks_[Index(event)].push_back(path);
    }
  }
  if (!unsafe.empty() || !runner.Empty())
    unsafe.insert(unsafe.begin(), unsafe_dirs.begin(), unsafe_dirs.end());
  if (!unsafe.empty()) {
    std::string msg =
        "hooks: refusing to run hooks that others can change (racksmith runs them "
        "with its own rights):";
    for (const std::string& u : unsafe) msg += "\n  " + u;
    return InvalidInput(msg);
  }
  runner.options_ = std::move(options);
  return runner;
}

HookOutcome HookRunner::Run(HookEvent event, const nlohmann::json& document,
                            const HookCall& call) const {
  HookOutcome outcome;
  const std::vector<std::string>& hooks = hooks_[Index(event)];
  if (hooks.empty()) return outcome;

  std::map<std::string, std::string> env;
  for (const char* name : kPassedVariables) {
    if (const char* v = std::getenv(name); v != nullptr) env[name] = v;
  }
  if (env.count("PATH") == 0) env["PATH"] = kDefaultPath;
  for (const auto& [k, v] : options_.env) env[k] = v;
  env["RACKSMITH_VERSION"] = RACKSMITH_VERSION;
  env["RACKSMITH_HOOKS_DIR"] = options_.dir;
  env["RACKSMITH_HOOK_EVENT"] = HookEventName(event);
  env["RACKSMITH_HOOK_TIMEOUT"] = Seconds(options_.timeout_ms);
  if (call.run_id > 0) env["RACKSMITH_RUN_ID"] = std::to_string(call.run_id);
  if (!call.node.empty()) env["RACKSMITH_NODE"] = call.node;
  if (!call.step.empty()) env["RACKSMITH_STEP"] = call.step;

  // Drivers' and tools' output may not be valid UTF-8; JSON must be.
  const std::string input =
      document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string folder = std::string(HookEventName(event)) + ".d/";
  for (const std::string& path : hooks) {
    HookResult r;
    r.path = path;
    r.name = folder + fs::path(path).filename().string();
    env["RACKSMITH_HOOK_NAME"] = r.name;
    internal::ProcessResult p = internal::RunProcess(
        path, input, env, options_.dir, options_.timeout_ms, options_.max_capture_bytes);
    r.exit_code = p.exit_code;
    r.timed_out = p.timed_out;
    r.start_error = std::move(p.start_error);
    r.out = std::move(p.out);
    r.err = std::move(p.err);
    r.duration_ms = p.duration_ms;
    std::string where =
        call.node.empty() ? "" : " for " + (call.step.empty() ? call.node : call.step);
    if (!r.out.empty()) spdlog::debug("hook {}{}: stdout: {}", r.name, where, OneLine(r.out, 2000));
    if (!r.err.empty()) spdlog::debug("hook {}{}: stderr: {}", r.name, where, OneLine(r.err, 2000));
    if (r.ok()) {
      spdlog::debug("hook {}{}: ok in {} ms", r.name, where, r.duration_ms);
      outcome.results.push_back(std::move(r));
      continue;
    }
    std::string said = OneLine(r.err, 1000);
    if (CanVeto(event)) {
      std::string reason;
      if (r.timed_out || !r.start_error.empty() || r.exit_code < 0) {
        reason = r.Describe(options_.timeout_ms) + (said.empty() ? "" : " (" + said + ")");
      } else {
        reason =
            said.empty() ? r.Describe(options_.timeout_ms) + " and wrote nothing on stderr" : said;
      }
      outcome.vetoed = true;
      outcome.veto = "vetoed by hook " + r.name + ": " + reason;
      spdlog::info("hook {}{} vetoes: {}", r.name, where, reason);
      outcome.results.push_back(std::move(r));
      break;
    }
    spdlog::warn("hook {}{} {}{} (a {} hook cannot stop anything; racksmith goes on)", r.name,
                 where, r.Describe(options_.timeout_ms), said.empty() ? "" : ": " + said,
                 HookEventName(event));
    outcome.results.push_back(std::move(r));
  }
  return outcome;
}

}  // namespace racksmith::hooks
