// ClusterDriver, the steps done on the node over SSH: waiting for a new boot, the image and
// component markers, the shipped playbooks (driver, CUDA, Slurm, mounts) and packages.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "base/text.h"
#include "exec/cluster_driver_internal.h"

namespace racksmith::exec {
namespace {

using playbook::Json;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t start = s.find_first_not_of(" \t\n");
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool AllOf(const std::string& s, const char* extra) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr(extra, c) != nullptr;
  });
}

std::string Short(const std::string& hash) { return hash.substr(0, 12); }

StepOutcome SshFailed(StepRun& run, const Error& e, const std::string& what) {
  if (auto why = run.Stopped()) return run.Fail(*why);
  return run.FromError(e, what, IsTransientSshError(e));
}

// Runs a loaded playbook on this node; nullopt when every task succeeded.
std::optional<StepOutcome> RunLoaded(StepRun& run, const playbook::Playbook& pb,
                                     const std::string& label, const Json& vars) {
  Result<transport::Endpoint> endpoint = run.Endpoint();
  if (!endpoint.ok()) return run.Fail(endpoint.error().message());
  Result<transport::Transport*> ssh = run.Ssh();
  if (!ssh.ok()) return run.Fail(ssh.error().message());
  playbook::Target target;
  target.endpoint = *endpoint;
  target.node = Json(inventory::NodeContext(run.d.inventory, run.node));
  playbook::RunOptions o;
  o.fanout = 1;
  o.globals = run.d.Globals();
  o.extra_vars =
      run.d.options.playbook_vars.is_object() ? run.d.options.playbook_vars : Json::object();
  for (const auto& [k, v] : vars.items()) o.extra_vars[k] = v;
  o.sleep = [&run](std::chrono::milliseconds ms) { run.Sleep(ms.count()); };
  playbook::RunReport report = playbook::RunPlaybook(pb, {target}, **ssh, o);
  if (report.nodes.empty()) return run.Fail(label + ": the playbook ran on no node");
  const playbook::NodeReport& n = report.nodes.front();
  for (const auto& r : n.results) {
    if (r.status == playbook::TaskStatus::kChanged) run.Say("changed: " + r.task);
    for (const auto& [path, sha] : r.files) run.files_written[path] = sha;
  }
  run.Say(label + ": ok=" + std::to_string(n.ok) + " changed=" + std::to_string(n.changed) +
          " failed=" + std::to_string(n.failed) + " skipped=" + std::to_string(n.skipped) +
          " unreachable=" + std::to_string(n.unreachable));
  if (n.Succeeded()) return std::nullopt;
  if (auto why = run.Stopped()) return run.Fail(*why + " (during " + label + ")");
  for (const auto& r : n.results) {
    if (r.ignored) continue;
    std::string where = label + ": task '" + r.task + "'";
    std::string msg = r.msg.empty() ? FirstLines(r.stderr_text) : r.msg;
    if (r.status == playbook::TaskStatus::kUnreachable) {
      return run.Transient(where + ": node unreachable: " + msg);
    }
    if (r.status == playbook::TaskStatus::kFailed) return run.Fail(where + " failed: " + msg);
  }
  return run.Fail(label + " failed");
}

std::optional<StepOutcome> RunPlaybookFile(StepRun& run, const std::string& file,
                                           const Json& vars) {
  std::string path = run.d.options.playbooks_dir + "/" + file;
  playbook::LoadOutcome loaded = playbook::LoadPlaybookAll(path);
  if (!loaded.ok()) {
    std::string errors;
    for (size_t i = 0; i < loaded.errors.size() && i < 3; ++i) {
      errors += (i ? "; " : "") + loaded.errors[i].ToString();
    }
    return run.Fail("playbook " + path + ": " + errors);
  }
  return RunLoaded(run, loaded.playbook, "playbook " + file, vars);
}

// Package install or removal through the playbook `package` module (apt or dnf, detected).
std::optional<StepOutcome> RunPackages(StepRun& run, const std::vector<std::string>& names,
                                       const std::string& version, bool present) {
  std::string list;
  for (const std::string& n : names) {
    if (!AllOf(n, ".+-_:")) return run.Fail("'" + n + "' is not a package name");
    list += (list.empty() ? "" : ", ") + Json(n).dump();
  }
  if (!version.empty() && !AllOf(version, "._+~-:")) {
    return run.Fail("'" + version + "' is not a package version");
  }
  std::string yaml = "name: racksmith packages\ntasks:\n  - name: " +
                     Json(run.step.component + (present ? " installed" : " removed")).dump() +
                     "\n    package:\n      name: [" + list +
                     "]\n      state: " + (present ? "present" : "absent") + "\n";
  if (present && !version.empty()) yaml += "      version: " + Json(version).dump() + "\n";
  playbook::LoadOutcome loaded =
      playbook::LoadPlaybookFromStringAll(yaml, run.d.options.playbooks_dir + "/(packages)");
  if (!loaded.ok()) return run.Fail("package task: " + loaded.errors.front().ToString());
  return RunLoaded(run, loaded.playbook, std::string(present ? "install " : "remove ") + list,
                   Json::object());
}

std::vector<std::string> PackagesOf(StepRun& run, const std::string& version) {
  const std::string& c = run.step.component;
  if (c == "nvidia_driver" && !version.empty()) {
    return {"nvidia-driver-" + version.substr(0, version.find('.'))};
  }
  if (c == "cuda" && !version.empty()) {
    std::string v = version;
    std::replace(v.begin(), v.end(), '.', '-');
    return {"cuda-toolkit-" + v};
  }
  auto it = run.d.options.packages.find(c);
  if (it != run.d.options.packages.end()) return it->second;
  std::string name = c;
  std::replace(name.begin(), name.end(), '_', '-');
  return {name};
}

std::string ComponentMarker(const plan::Step& step,
                            const std::map<std::string, std::string>& files) {
  std::string marker = "# racksmith: what this node has of " + step.component +
                       " (written after the step succeeded; do not edit)\ncomponent=" +
                       step.component + "\nversion=" + step.to_version + "\nhash=" + step.hash +
                       "\n";
  // The files the step's playbooks own, as they left them: `plan --refresh` compares.
  for (const auto& [path, sha] : files) {
    if (path.find_first_of(" \t\n") == std::string::npos) {
      marker += "file=" + path + " sha256=" + sha + "\n";
    }
  }
  return marker;
}

StepOutcome WriteComponentMarker(StepRun& run) {
  Result<std::string> path = ComponentMarkerPath(run.step.component);
  if (!path.ok()) return run.Fail(path.error().message());
  if (Status s = WriteMarker(run, *path, ComponentMarker(run.step, run.files_written)); !s.ok()) {
    return SshFailed(run, s.error(), "writing " + *path);
  }
  return run.Ok("marker " + *path + " holds " + Short(run.step.hash));
}

GuardResult GuardHash(StepRun& run, const std::string& path, bool want_absent) {
  Result<std::optional<std::string>> marker = ReadMarker(run, path);
  if (!marker.ok()) return {GuardVerdict::kUnknown, marker.error().message()};
  if (!marker->has_value()) {
    return {want_absent ? GuardVerdict::kDone : GuardVerdict::kNotDone, path + " is absent"};
  }
  if (want_absent) return {GuardVerdict::kNotDone, path + " is present"};
  std::string have = MarkerHash(**marker);
  if (!run.step.hash.empty() && have == run.step.hash) {
    return {GuardVerdict::kDone, path + " holds this hash (" + Short(have) + ")"};
  }
  return {GuardVerdict::kNotDone, path + " holds " + (have.empty() ? "no hash" : Short(have)) +
                                      ", not " + Short(run.step.hash)};
}

}  // namespace

// ---- Boot id and markers ---------------------------------------------------------------------

Result<std::string> ReadBootId(StepRun& run) {
  Result<transport::ExecResult> r = run.Exec(std::string("cat ") + kBootIdPath, 30'000);
  if (!r.ok()) return r.error();
  if (r->exit_status != 0) {
    return Error(ErrorCode::kRefused,
                 std::string("cannot read ") + kBootIdPath + ": " + FirstLines(r->stderr_text));
  }
  std::string id = Trim(r->stdout_text);
  if (id.empty()) return Error(ErrorCode::kRefused, std::string(kBootIdPath) + " is empty");
  return id;
}

std::optional<StepOutcome> WaitForNewBoot(StepRun& run, const std::string& before,
                                          int64_t timeout_ms, std::string* boot_id) {
  std::string last = "no answer yet";
  std::string conflict;
  int64_t start = run.NowMs();
  // Without the boot id from before the reset, an answer may still come from the boot the
  // reset is about to end (it came up just before the reset, or the reset has not taken
  // effect yet): trust a boot id only once the node was seen down, or once it has answered
  // with the same id for a grace period.
  bool seen_down = !before.empty();
  const int64_t grace_ms = std::min<int64_t>(30'000, timeout_ms / 4);
  std::string first_id;
  int64_t first_at = 0;
  WaitEnd end = PollUntil(run, timeout_ms, [&] {
    run.Disconnect();  // a fresh connection: the pooled one died with the old boot
    Result<std::string> id = ReadBootId(run);
    if (!id.ok()) {
      if (id.error().code() == ErrorCode::kConflict) {
        conflict = id.error().message();
        return true;
      }
      last = id.error().message();
      seen_down = true;
      return false;
    }
    if (*id == before) {
      last = "still the boot from before (" + before.substr(0, 8) + ")";
      return false;
    }
    if (!seen_down) {
      if (*id != first_id) {
        first_id = *id;
        first_at = run.NowMs();
      }
      if (run.NowMs() - first_at < grace_ms) {
        last = "answering with boot " + id->substr(0, 8) + ", not yet seen down since the reset";
        return false;
      }
    }
    *boot_id = *id;
    return true;
  });
  if (!conflict.empty()) {
    return run.Fail("host key: " + conflict +
                    (run.d.options.forget_host_keys_on_reimage
                         ? ""
                         : " (if the image brings new host keys, let the driver forget them at "
                           "reimage)"));
  }
  if (end == WaitEnd::kDone) {
    run.Say("up after " + Seconds(run.NowMs() - start) + " with boot id " + boot_id->substr(0, 8));
    return std::nullopt;
  }
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped() + "; last seen: " + last);
  return run.Fail("no new boot within " + Seconds(timeout_ms) + ": " + last);
}

Result<std::optional<std::string>> ReadMarker(StepRun& run, const std::string& path) {
  Result<transport::ExecResult> r = run.Exec(
      "if [ -e " + Quote(path) + " ]; then cat " + Quote(path) + "; else exit 3; fi", 30'000);
  if (!r.ok()) return r.error();
  if (r->exit_status == 3) return std::optional<std::string>();
  if (r->exit_status != 0) {
    return IoError("reading " + path + " on " + run.node.name + ": " + FirstLines(r->stderr_text));
  }
  return std::optional<std::string>(r->stdout_text);
}

Status WriteMarker(StepRun& run, const std::string& path, const std::string& content) {
  std::string dir = path.substr(0, path.rfind('/'));
  Result<transport::ExecResult> r = run.Exec("mkdir -p " + Quote(dir), 30'000);
  if (!r.ok()) return r.error();
  if (r->exit_status != 0) {
    return IoError("mkdir " + dir + " on " + run.node.name + ": " + FirstLines(r->stderr_text));
  }
  Result<transport::Endpoint> e = run.Endpoint();
  if (!e.ok()) return e.error();
  Result<transport::Transport*> t = run.Ssh();
  if (!t.ok()) return t.error();
  transport::UploadRequest up;
  up.content = content;
  up.remote_path = path;
  up.mode = 0644;
  return (*t)->Upload(*e, up);
}

std::string MarkerHash(std::string_view marker) {
  size_t pos = 0;
  while (pos < marker.size()) {
    size_t end = marker.find('\n', pos);
    if (end == std::string_view::npos) end = marker.size();
    std::string_view line = marker.substr(pos, end - pos);
    if (line.rfind("hash=", 0) == 0) return Trim(std::string(line.substr(5)));
    pos = end + 1;
  }
  return {};
}

Result<std::string> ComponentMarkerPath(const std::string& component) {
  if (!IsPlainPathSegment(component)) {
    return InvalidInput("component '" + component + "' is not a name for a marker file");
  }
  return std::string(kComponentMarkerDir) + "/" + component;
}

// ---- image (after the new boot), install, remove, configure, mount ----------------------------

StepOutcome RunImageMarker(StepRun& run, const std::string& boot_id, bool sentinel) {
  std::string content =
      "# racksmith: the image this node was installed with (do not edit)\n"
      "image=" +
      run.node.image + "\nhash=" + run.step.hash + "\nboot_id=" + boot_id + "\n";
  // The node just answered; a failure now is retried here, not by imaging it again.
  std::optional<Error> error;
  std::optional<std::string> old_root;  // the sentinel, found after the new boot
  WaitEnd end = PollUntil(run, std::min<int64_t>(run.d.options.boot_timeout_ms, 120'000), [&] {
    Status s = Status::Ok();
    if (sentinel) {
      Result<std::optional<std::string>> left = ReadMarker(run, kReimageSentinel);
      if (left.ok() && left->has_value()) {
        old_root = **left;
        return true;
      }
      if (!left.ok()) s = left.error().WithContext("reading " + std::string(kReimageSentinel));
    }
    if (s.ok()) {
      s = WriteMarker(run, kImageMarker, content);
      if (!s.ok()) s = s.error().WithContext("writing " + std::string(kImageMarker));
    }
    if (s.ok()) {
      error.reset();
      return true;
    }
    error = s.error();
    if (!IsTransientSshError(*error)) return true;
    run.Disconnect();
    return false;
  });
  if (end == WaitEnd::kStopped) return run.Fail(*run.Stopped());
  if (old_root) {
    return run.Fail("the node came back with its old root, not a fresh image: " +
                    std::string(kReimageSentinel) +
                    ", left there before the reset, is still there; the network boot did not "
                    "install it (check the boot server and the BMC's boot override, then "
                    "apply again)");
  }
  if (error) return run.Fail(error->message());
  return run.Ok("image " + run.node.image + ": marker " + kImageMarker + " holds " +
                Short(run.step.hash));
}

// ---- live facts ------------------------------------------------------------------------------

void ReadLiveNode(StepRun& run, const std::vector<std::string>& components, plan::LiveFacts* out) {
  // One command: versions as the tools report them, every marker's hash, and for each file
  // a marker lists, what it should hold and what it holds now.
  const std::string command = std::string(R"SH(PATH=$PATH:/usr/local/cuda/bin
echo "driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n1)"
echo "cuda=$(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9.]*\).*/\1/p' | head -n1)"
for f in )SH") + kImageMarker + R"SH( /etc/racksmith/components/*; do
  [ -f "$f" ] || continue
  echo "marker=$f=$(sed -n 's/^hash=//p' "$f" | head -n1)"
  sed -n 's/^file=\([^ ]*\) sha256=\([0-9a-f]*\)$/\1 \2/p' "$f" | while read -r p h; do
    printf 'file\t%s\t%s\t%s\t%s\n' "$f" "$p" "$h" "$(sha256sum "$p" 2>/dev/null | cut -d' ' -f1)"
  done
done
true)SH";
  Result<transport::ExecResult> r = run.Exec(command, 60'000);
  if (!r.ok()) {
    out->unreadable.push_back("SSH: " + r.error().message());
    return;
  }
  if (r->exit_status != 0) {
    out->unreadable.push_back("SSH: reading versions and markers exited " +
                              std::to_string(r->exit_status) + ": " + FirstLines(r->stderr_text));
    return;
  }
  std::string driver, cuda;
  std::map<std::string, std::string> markers;  // path -> hash
  std::map<std::string, std::vector<std::string>> changed;  // marker path -> files changed
  size_t pos = 0;
  const std::string& text = r->stdout_text;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("driver=", 0) == 0) driver = Trim(line.substr(7));
    if (line.rfind("cuda=", 0) == 0) cuda = Trim(line.substr(5));
    if (line.rfind("marker=", 0) == 0) {
      size_t eq = line.find('=', 7);
      if (eq != std::string::npos) markers[line.substr(7, eq - 7)] = Trim(line.substr(eq + 1));
    }
    if (line.rfind("file\t", 0) == 0) {  // file TAB marker TAB path TAB written TAB now
      std::vector<std::string> f;
      for (size_t a = 5, b; a <= line.size(); a = b + 1) {
        b = line.find('\t', a);
        if (b == std::string::npos) b = line.size();
        f.push_back(line.substr(a, b - a));
      }
      if (f.size() == 4 && f[2] != Trim(f[3])) {
        std::string now = Trim(f[3]);
        changed[f[0]].push_back(f[1] + (now.empty() ? " (missing)"
                                                    : " (sha256 " + now.substr(0, 12) +
                                                          ", racksmith wrote " +
                                                          f[2].substr(0, 12) + ")"));
      }
    }
  }
  for (const std::string& c : components) {
    std::string path;
    if (c == "image") {
      path = kImageMarker;
    } else if (c != "hardware" && c != "burnin" && c != "bios" && c != "bmc_firmware" &&
               c.rfind("firmware_", 0) != 0) {
      Result<std::string> p = ComponentMarkerPath(c);
      if (!p.ok()) continue;
      path = *p;
    }
    if (path.empty() && c != "nvidia_driver" && c != "cuda") continue;
    plan::LiveComponent& live = out->components[c];
    std::vector<std::string> seen;
    if (c == "nvidia_driver") {
      if (driver.empty()) {
        live.missing = true;
        live.evidence = "nvidia-smi reports no driver";
        continue;
      }
      live.version = driver;
      seen.push_back("nvidia-smi");
    }
    if (c == "cuda" && !cuda.empty()) {
      live.version = cuda;
      seen.push_back("nvcc --version");
    }
    auto m = markers.find(path);
    if (m == markers.end()) {
      live.missing = true;
      live.evidence = "no " + path;
      continue;
    }
    live.hash = m->second;
    if (auto c = changed.find(path); c != changed.end()) live.changed_files = c->second;
    seen.push_back(path);
    for (const std::string& w : seen) live.evidence += (live.evidence.empty() ? "" : ", ") + w;
  }
}

StepOutcome RunInstall(StepRun& run) {
  const std::string& c = run.step.component;
  const std::string& version = run.step.to_version;
  std::optional<StepOutcome> failed;
  if (c == "nvidia_driver") {
    failed = RunPlaybookFile(run, "nvidia-driver.yaml", {{"driver_version", version}});
  } else if (c == "cuda") {
    failed = RunPlaybookFile(run, "cuda.yaml", {{"cuda_version", version}});
  } else {
    failed = RunPackages(run, PackagesOf(run, version), version, /*present=*/true);
  }
  if (failed) return *failed;
  return WriteComponentMarker(run);
}

StepOutcome RunRemove(StepRun& run) {
  const std::string& c = run.step.component;
  Result<std::string> path = ComponentMarkerPath(c);
  if (!path.ok()) return run.Fail(path.error().message());
  const bool software = c != "hardware" && c != "image" && c != "bios" && c != "bmc_firmware" &&
                        c.rfind("firmware_", 0) != 0 && c != "slurm" && c != "mounts" &&
                        c != "burnin";
  if (software) {
    if (auto failed = RunPackages(run, PackagesOf(run, run.step.from_version), "", false)) {
      return *failed;
    }
  } else {
    run.Say(c + " is no longer managed by racksmith; what it set up is left in place on the node");
  }
  Result<transport::ExecResult> r = run.Exec("rm -f " + Quote(*path), 30'000);
  if (!r.ok()) return SshFailed(run, r.error(), "removing " + *path);
  if (r->exit_status != 0) return run.Fail("rm " + *path + ": " + FirstLines(r->stderr_text));
  return run.Ok("marker " + *path + " removed");
}

StepOutcome RunConfigure(StepRun& run) {
  const std::string& c = run.step.component;
  std::optional<StepOutcome> failed;
  if (c == "slurm") {
    failed = RunPlaybookFile(run, "slurm.yaml", {{"slurm_version", run.step.to_version}});
  } else if (c == "mounts") {
    failed = RunPlaybookFile(run, "mounts.yaml", Json::object());
  } else {
    return run.Fail("no playbook configures '" + c + "'");
  }
  if (failed) return *failed;
  return WriteComponentMarker(run);
}

// A run killed during a reimage leaves the node booting: wait (up to the boot timeout) for
// SSH to answer before deciding, or the destructive step would be held as "cannot tell".
GuardResult GuardImage(StepRun& run) {
  GuardResult last;
  PollUntil(run, run.d.options.boot_timeout_ms, [&] {
    Result<transport::ExecResult> probe = run.Exec("true", 30'000);
    if (!probe.ok() && IsTransientSshError(probe.error())) {
      last = {GuardVerdict::kUnknown, "the node does not answer over SSH: " +
                                          probe.error().message()};
      run.Disconnect();
      return false;
    }
    if (probe.ok() && probe->exit_status != 0) {
      // sshd answers but the system behind it is not up yet (mid-install, root not there).
      last = {GuardVerdict::kUnknown, "the node answers SSH but cannot run a command yet: " +
                                          FirstLines(probe->stderr_text)};
      return false;
    }
    last = GuardHash(run, kImageMarker, false);
    if (last.verdict == GuardVerdict::kDone) {
      // The marker of an earlier image with this hash, in a root the reimage was meant to
      // replace: a network boot that fell back to the disk leaves both as they were.
      Result<std::optional<std::string>> left = ReadMarker(run, kReimageSentinel);
      if (!left.ok()) {
        last = {GuardVerdict::kUnknown, left.error().message()};
      } else if (left->has_value()) {
        last = {GuardVerdict::kNotDone,
                std::string(kImageMarker) + " holds this hash, but " + kReimageSentinel +
                    " is still there: the reimage started before did not happen"};
      }
    }
    // A marker that cannot be read yet is no verdict for a step that reimages: wait (up to
    // the boot timeout) for the node to settle rather than fail it.
    return last.verdict != GuardVerdict::kUnknown;
  });
  return last;
}

GuardResult GuardMarker(StepRun& run) {
  Result<std::string> path = ComponentMarkerPath(run.step.component);
  if (!path.ok()) return {GuardVerdict::kUnknown, path.error().message()};
  return GuardHash(run, *path, false);
}

GuardResult GuardRemove(StepRun& run) {
  Result<std::string> path = ComponentMarkerPath(run.step.component);
  if (!path.ok()) return {GuardVerdict::kUnknown, path.error().message()};
  return GuardHash(run, *path, true);
}

}  // namespace racksmith::exec
