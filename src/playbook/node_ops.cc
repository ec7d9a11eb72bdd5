// Reading and changing a node's files over the transport, for the modules. Every command
// here is one simple POSIX command with quoted arguments (the fake transport in
// tests/playbook interprets exactly these).
#include <sys/stat.h>

#include <filesystem>

#include "playbook/internal.h"

namespace racksmith::playbook::internal {

std::string ShellQuote(std::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Result<std::vector<std::string>> SplitWords(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\'') {
      size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return InvalidInput("unterminated ' quote");
      cur.append(line.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      ++i;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() &&
            std::string_view("$`\"\\\n").find(line[i + 1]) != std::string_view::npos) {
          ++i;
        }
        cur += line[i];
      }
      if (i >= line.size()) return InvalidInput("unterminated \" quote");
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      cur += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

Result<transport::ExecResult> Run(ModuleContext& ctx, const std::string& command) {
  transport::ExecRequest req;
  req.command = command;
  return ctx.transport.Exec(ctx.endpoint, req);
}

Status RunOk(ModuleContext& ctx, const std::string& command) {
  auto r = Run(ctx, command);
  if (!r.ok()) return r.error();
  if (r->exit_status != 0) {
    std::string err = r->stderr_text;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Error(ErrorCode::kRefused, "`" + command + "` exited " +
                                          std::to_string(r->exit_status) +
                                          (err.empty() ? "" : ": " + err));
  }
  return Status::Ok();
}

Result<FileInfo> StatPath(ModuleContext& ctx, const std::string& path) {
  auto r = Run(ctx, "stat -c '%F|%a|%U|%G' -- " + ShellQuote(path));
  if (!r.ok()) return r.error();
  FileInfo info;
  if (r->exit_status != 0) {
    if (r->stderr_text.find("No such file") != std::string::npos ||
        r->stderr_text.find("Not a directory") != std::string::npos) {
      return info;
    }
    return Error(ErrorCode::kRefused, "cannot stat " + path + ": " + r->stderr_text);
  }
  std::string line = r->stdout_text;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t bar = line.find('|', pos);
    parts.push_back(line.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos));
    if (bar == std::string::npos) break;
    pos = bar + 1;
  }
  if (parts.size() != 4) return Internal("unexpected stat output for " + path + ": " + line);
  info.exists = true;
  const std::string& t = parts[0];
  info.type = t.find("regular") != std::string::npos ? "file"
              : t == "directory"                     ? "directory"
              : t == "symbolic link"                 ? "link"
                                                     : "other";
  try {
    info.mode = std::stoi(parts[1], nullptr, 8);
  } catch (...) {
    return Internal("unexpected stat mode for " + path + ": " + parts[1]);
  }
  info.owner = parts[2];
  info.group = parts[3];
  return info;
}

Result<std::optional<std::string>> ReadFile(ModuleContext& ctx, const std::string& path) {
  auto info = StatPath(ctx, path);
  if (!info.ok()) return info.error();
  if (!info->exists) return std::optional<std::string>();
  if (info->type == "directory") {
    return Error(ErrorCode::kRefused, path + " is a directory, expected a file");
  }
  auto content = ctx.transport.Download(ctx.endpoint, path);
  if (!content.ok()) return content.error();
  return std::optional<std::string>(std::move(content).value());
}

Result<std::string> ApplyAttrs(ModuleContext& ctx, const std::string& path, const FileInfo& have,
                               const Attrs& want) {
  std::string changes;
  auto note = [&](const std::string& s) { changes += (changes.empty() ? "" : ", ") + s; };
  if (want.mode && (have.mode & 07777) != *want.mode) {
    note("mode " + FormatMode(have.mode & 07777) + " -> " + FormatMode(*want.mode));
    if (!ctx.check) {
      Status s = RunOk(ctx, "chmod " + FormatMode(*want.mode) + " -- " + ShellQuote(path));
      if (!s.ok()) return s.error();
    }
  }
  if (!want.owner.empty() && have.owner != want.owner) {
    note("owner " + have.owner + " -> " + want.owner);
    if (!ctx.check) {
      Status s = RunOk(ctx, "chown " + ShellQuote(want.owner) + " -- " + ShellQuote(path));
      if (!s.ok()) return s.error();
    }
  }
  if (!want.group.empty() && have.group != want.group) {
    note("group " + have.group + " -> " + want.group);
    if (!ctx.check) {
      Status s = RunOk(ctx, "chgrp " + ShellQuote(want.group) + " -- " + ShellQuote(path));
      if (!s.ok()) return s.error();
    }
  }
  return changes;
}

Attrs ArgAttrs(const Json& args) {
  Attrs a;
  auto m = ArgMode(args, "mode");
  if (m && *m >= 0) a.mode = *m;
  a.owner = ArgString(args, "owner");
  a.group = ArgString(args, "group");
  return a;
}

ModuleResult FromError(const Error& error) {
  ModuleResult r;
  r.failed = true;
  r.unreachable = error.code() == ErrorCode::kUnreachable || error.code() == ErrorCode::kConflict;
  r.msg = error.message();
  return r;
}

ModuleResult WriteFileIfChanged(ModuleContext& ctx, const std::string& path,
                                const std::string& content, const Attrs& want) {
  ModuleResult r;
  auto info = StatPath(ctx, path);
  if (!info.ok()) return FromError(info.error());
  std::optional<std::string> before;
  if (info->exists) {
    if (info->type == "directory") {
      r.failed = true;
      r.msg = path + " is a directory, expected a file";
      return r;
    }
    auto current = ctx.transport.Download(ctx.endpoint, path);
    if (!current.ok()) return FromError(current.error());
    before = std::move(current).value();
  }
  if (!before || *before != content) {
    r.changed = true;
    r.msg = before ? "content changed" : "created";
    r.diff = UnifiedDiff(before.value_or(""), content, before ? "before: " + path : "/dev/null",
                         "after: " + path);
    if (!ctx.check) {
      transport::UploadRequest up;
      up.remote_path = path;
      up.content = content;
      up.mode = want.mode ? *want.mode : (info->exists ? (info->mode & 07777) : 0644);
      Status s = ctx.transport.Upload(ctx.endpoint, up);
      if (!s.ok()) return FromError(s.error());
      auto after = StatPath(ctx, path);
      if (!after.ok()) return FromError(after.error());
      Attrs owners = want;
      owners.mode.reset();
      auto changed = ApplyAttrs(ctx, path, *after, owners);
      if (!changed.ok()) return FromError(changed.error());
    }
    return r;
  }
  auto changed = ApplyAttrs(ctx, path, *info, want);
  if (!changed.ok()) return FromError(changed.error());
  if (!changed->empty()) {
    r.changed = true;
    r.msg = *changed;
  }
  return r;
}

std::string ResolveLocal(const std::string& dir, const std::string& path, const char* kind) {
  if (path.empty() || path[0] == '/') return path;
  std::error_code ec;
  for (const std::string& c : {dir + "/" + kind + "/" + path, dir + "/../" + kind + "/" + path,
                               dir + "/" + path}) {
    if (std::filesystem::is_regular_file(c, ec)) return c;
  }
  return dir + "/" + path;
}

}  // namespace racksmith::playbook::internal
