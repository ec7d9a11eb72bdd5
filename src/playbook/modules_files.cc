// File modules: copy, template, file, line_in_file, fetch. Each reads the node's file first
// and writes only when the content or attributes differ.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/encoding.h"
#include "playbook/internal.h"

namespace racksmith::playbook::internal {
namespace {

Result<std::string> ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsAbsolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

ModuleResult Failed(std::string msg) {
  ModuleResult r;
  r.failed = true;
  r.msg = std::move(msg);
  return r;
}

// A whole-file module's result, with the file's path and content hash when it now holds
// `content`.
ModuleResult Owned(const ModuleContext& ctx, const std::string& path, const std::string& content,
                   ModuleResult r) {
  if (!r.failed && !ctx.check) r.written.emplace_back(path, Sha256Hex(content));
  return r;
}

// ---------------------------------------------------------------------------------------
// copy

void ValidateCopy(const Json& args, const std::string& dir, TemplateCache&,
                  std::vector<Error>* problems) {
  bool has_src = args.contains("src"), has_content = args.contains("content");
  if (has_src == has_content) problems->push_back(InvalidInput("needs exactly one of src, content"));
  std::string dest = ArgString(args, "dest");
  if (!IsTemplated(dest) && !IsAbsolute(dest)) {
    problems->push_back(InvalidInput("dest must be an absolute path, found \"" + dest + "\""));
  }
  if (has_src && args["src"].is_string()) {
    std::string src = args["src"].get<std::string>();
    if (!IsTemplated(src)) {
      std::string path = ResolveLocal(dir, src, "files");
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        problems->push_back(NotFound("src \"" + src + "\" is not a file (looked in " + dir +
                                     "/files, " + dir + "/../files and " + dir + ")"));
      }
    }
  }
}

ModuleResult RunCopy(ModuleContext& ctx, const Json& args) {
  std::string dest = ArgString(args, "dest");
  if (!IsAbsolute(dest)) return Failed("dest must be an absolute path, found \"" + dest + "\"");
  std::string content;
  if (args.contains("content")) {
    content = ArgString(args, "content");
  } else {
    std::string src = ResolveLocal(ctx.playbook.dir, ArgString(args, "src"), "files");
    auto data = ReadLocal(src);
    if (!data.ok()) return Failed(data.error().message());
    content = std::move(data).value();
    if (dest.back() == '/') dest += std::filesystem::path(src).filename().string();
  }
  return Owned(ctx, dest, content, WriteFileIfChanged(ctx, dest, content, ArgAttrs(args)));
}

// ---------------------------------------------------------------------------------------
// template

void ValidateTemplate(const Json& args, const std::string& dir, TemplateCache& cache,
                      std::vector<Error>* problems) {
  std::string dest = ArgString(args, "dest");
  if (!IsTemplated(dest) && !IsAbsolute(dest)) {
    problems->push_back(InvalidInput("dest must be an absolute path, found \"" + dest + "\""));
  }
  std::string src = ArgString(args, "src");
  if (src.empty() || IsTemplated(src)) return;
  std::string path = ResolveLocal(dir, src, "templates");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    problems->push_back(NotFound("src \"" + src + "\" is not a file (looked in " + dir +
                                 "/templates, " + dir + "/../templates and " + dir + ")"));
    return;
  }
  auto t = CompileFile(cache, path);
  if (!t.ok()) problems->push_back(t.error());  // keeps the template's own file:line:col
}

ModuleResult RunTemplate(ModuleContext& ctx, const Json& args) {
  std::string dest = ArgString(args, "dest");
  if (!IsAbsolute(dest)) return Failed("dest must be an absolute path, found \"" + dest + "\"");
  std::string src = ResolveLocal(ctx.playbook.dir, ArgString(args, "src"), "templates");
  auto t = CompileFile(*ctx.playbook.templates, src);
  if (!t.ok()) return Failed(t.error().ToString());
  auto text = (*t)->Render(ctx.vars);
  if (!text.ok()) return Failed(text.error().ToString());
  return Owned(ctx, dest, *text, WriteFileIfChanged(ctx, dest, *text, ArgAttrs(args)));
}

// ---------------------------------------------------------------------------------------
// file

void ValidateFile(const Json& args, const std::string&, TemplateCache&,
                  std::vector<Error>* problems) {
  std::string state = ArgString(args, "state", "file");
  if (state == "link" && !args.contains("src")) {
    problems->push_back(InvalidInput("state: link needs src (the link's target)"));
  }
  std::string path = ArgString(args, "path");
  if (!IsTemplated(path) && !IsAbsolute(path)) {
    problems->push_back(InvalidInput("path must be an absolute path, found \"" + path + "\""));
  }
}

ModuleResult RunFile(ModuleContext& ctx, const Json& args) {
  std::string path = ArgString(args, "path");
  std::string state = ArgString(args, "state", "file");
  if (!IsAbsolute(path) || path == "/") return Failed("refusing path \"" + path + "\"");
  auto info = StatPath(ctx, path);
  if (!info.ok()) return FromError(info.error());
  ModuleResult r;
  auto act = [&](const std::string& command) -> bool {
    if (ctx.check) return true;
    Status s = RunOk(ctx, command);
    if (!s.ok()) r = FromError(s.error());
    return s.ok();
  };
  const std::string q = ShellQuote(path);
  if (state == "absent") {
    if (info->exists) {
      r.changed = true;
      r.msg = "removed " + info->type;
      act("rm -rf -- " + q);
    }
    return r;
  }
  if (state == "link") {
    std::string src = ArgString(args, "src");
    if (info->exists && info->type == "link") {
      auto target = Run(ctx, "readlink -- " + q);
      if (!target.ok()) return FromError(target.error());
      std::string t = target->stdout_text;
      while (!t.empty() && t.back() == '\n') t.pop_back();
      if (t == src) return r;
    } else if (info->exists && info->type == "directory") {
      return Failed(path + " is a directory; refusing to replace it with a link");
    }
    r.changed = true;
    r.msg = "link -> " + src;
    act("ln -sfn -- " + ShellQuote(src) + " " + q);
    return r;
  }
  Attrs want = ArgAttrs(args);
  if (state == "directory") {
    if (info->exists && info->type != "directory") {
      return Failed(path + " exists and is a " + info->type + ", expected a directory");
    }
    if (!info->exists) {
      r.changed = true;
      r.msg = "created directory";
      if (!act("mkdir -p -- " + q)) return r;
      if (ctx.check) return r;
      info = StatPath(ctx, path);
      if (!info.ok()) return FromError(info.error());
    }
  } else if (state == "touch") {
    if (info->exists && info->type == "directory") {
      return Failed(path + " is a directory, expected a file");
    }
    if (!info->exists) {
      r.changed = true;
      r.msg = "created file";
      if (!act("touch -- " + q)) return r;
      if (ctx.check) return r;
      info = StatPath(ctx, path);
      if (!info.ok()) return FromError(info.error());
    }
  } else {  // file: must exist already; only attributes change
    if (!info->exists) return Failed(path + " does not exist (state: file never creates)");
    if (info->type == "directory") return Failed(path + " is a directory, expected a file");
  }
  auto changed = ApplyAttrs(ctx, path, *info, want);
  if (!changed.ok()) return FromError(changed.error());
  if (!changed->empty()) {
    r.changed = true;
    r.msg += (r.msg.empty() ? "" : ", ") + *changed;
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// line_in_file

Result<std::regex> CompileRegex(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return InvalidInput("invalid regular expression \"" + pattern + "\": " + e.what());
  }
}

void ValidateLineInFile(const Json& args, const std::string&, TemplateCache&,
                        std::vector<Error>* problems) {
  std::string state = ArgString(args, "state", "present");
  if (state == "present" && !args.contains("line")) {
    problems->push_back(InvalidInput("state: present needs line"));
  }
  if (state == "absent" && !args.contains("line") && !args.contains("regexp")) {
    problems->push_back(InvalidInput("state: absent needs line or regexp"));
  }
  if (args.contains("insertafter") && args.contains("insertbefore")) {
    problems->push_back(InvalidInput("give insertafter or insertbefore, not both"));
  }
  for (const char* key : {"regexp", "insertafter", "insertbefore"}) {
    std::string p = ArgString(args, key);
    if (p.empty() || IsTemplated(p) || p == "EOF" || p == "BOF") continue;
    auto re = CompileRegex(p);
    if (!re.ok()) problems->push_back(re.error());
  }
}

ModuleResult RunLineInFile(ModuleContext& ctx, const Json& args) {
  std::string path = ArgString(args, "path");
  std::string state = ArgString(args, "state", "present");
  std::string line = ArgString(args, "line");
  auto current = ReadFile(ctx, path);
  if (!current.ok()) return FromError(current.error());
  if (!current->has_value()) {
    if (state == "absent") return {};
    if (!ArgBool(args, "create", false)) {
      return Failed(path + " does not exist (set create: true to create it)");
    }
  }
  std::string before = current->value_or("");
  std::vector<std::string> lines;
  {
    size_t pos = 0;
    while (pos < before.size()) {
      size_t nl = before.find('\n', pos);
      if (nl == std::string::npos) nl = before.size();
      lines.push_back(before.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  std::optional<std::regex> re;
  if (args.contains("regexp")) {
    auto r = CompileRegex(ArgString(args, "regexp"));
    if (!r.ok()) return Failed(r.error().message());
    re = std::move(r).value();
  }
  auto matches = [&](const std::string& l) {
    return re ? std::regex_search(l, *re) : l == line;
  };
  if (state == "absent") {
    std::erase_if(lines, matches);
  } else {
    // The last line the regexp matches is replaced (Ansible's rule); else the line is added
    // unless it is already there.
    std::optional<size_t> hit;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (matches(lines[i])) hit = i;
    }
    if (hit) {
      lines[*hit] = line;
    } else if (std::find(lines.begin(), lines.end(), line) == lines.end()) {
      std::string after = ArgString(args, "insertafter", "EOF");
      std::string before_pat = ArgString(args, "insertbefore");
      size_t at = lines.size();
      if (!before_pat.empty()) {
        if (before_pat == "BOF") {
          at = 0;
        } else {
          auto br = CompileRegex(before_pat);
          if (!br.ok()) return Failed(br.error().message());
          for (size_t i = 0; i < lines.size(); ++i) {
            if (std::regex_search(lines[i], *br)) at = i;  // before the last match
          }
        }
      } else if (after != "EOF") {
        auto ar = CompileRegex(after);
        if (!ar.ok()) return Failed(ar.error().message());
        for (size_t i = 0; i < lines.size(); ++i) {
          if (std::regex_search(lines[i], *ar)) at = i + 1;  // after the last match
        }
      }
      lines.insert(lines.begin() + static_cast<long>(at), line);
    }
  }
  std::string after;
  for (const auto& l : lines) after += l + "\n";
  if (current->has_value() && after == before) {
    // Attributes may still differ.
    auto info = StatPath(ctx, path);
    if (!info.ok()) return FromError(info.error());
    auto changed = ApplyAttrs(ctx, path, *info, ArgAttrs(args));
    if (!changed.ok()) return FromError(changed.error());
    ModuleResult r;
    r.changed = !changed->empty();
    r.msg = *changed;
    return r;
  }
  if (current->has_value() && !before.empty() && before.back() != '\n' &&
      after == before + "\n") {
    return {};  // only the missing final newline differs: leave the file alone
  }
  return WriteFileIfChanged(ctx, path, after, ArgAttrs(args));
}

// ---------------------------------------------------------------------------------------
// fetch

ModuleResult RunFetch(ModuleContext& ctx, const Json& args) {
  std::string src = ArgString(args, "src");
  std::string dest = ArgString(args, "dest");
  bool flat = ArgBool(args, "flat", false);
  std::string local = flat ? dest : dest + "/" + ctx.endpoint.node + src;
  if (flat && !dest.empty() && dest.back() == '/') {
    local = dest + std::filesystem::path(src).filename().string();
  }
  auto content = ReadFile(ctx, src);
  if (!content.ok()) return FromError(content.error());
  if (!content->has_value()) {
    if (ArgBool(args, "fail_on_missing", true)) return Failed(src + " does not exist on the node");
    return {};
  }
  ModuleResult r;
  auto existing = ReadLocal(local);
  if (existing.ok() && *existing == **content) return r;
  r.changed = true;
  r.msg = "fetched to " + local;
  if (ctx.check) return r;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(local).parent_path(), ec);
  std::ofstream out(local, std::ios::binary | std::ios::trunc);
  out << **content;
  if (!out) return Failed("cannot write " + local);
  return r;
}

}  // namespace

void AddFileModules(std::vector<ModuleSpec>* out) {
  const ArgSpec mode{"mode", ArgType::kMode}, owner{"owner", ArgType::kString},
      group{"group", ArgType::kString};
  out->push_back({"template",
                  {},
                  {{"src", ArgType::kString, true}, {"dest", ArgType::kString, true}, mode, owner,
                   group},
                  nullptr,
                  ValidateTemplate,
                  RunTemplate});
  out->push_back({"copy",
                  {},
                  {{"src", ArgType::kString}, {"content", ArgType::kString},
                   {"dest", ArgType::kString, true}, mode, owner, group},
                  nullptr,
                  ValidateCopy,
                  RunCopy});
  out->push_back({"file",
                  {},
                  {{"path", ArgType::kString, true},
                   {"state", ArgType::kString, false, {"file", "directory", "link", "absent", "touch"}},
                   {"src", ArgType::kString}, mode, owner, group},
                  nullptr,
                  ValidateFile,
                  RunFile});
  out->push_back({"line_in_file",
                  {"lineinfile"},
                  {{"path", ArgType::kString, true}, {"line", ArgType::kString},
                   {"regexp", ArgType::kString},
                   {"state", ArgType::kString, false, {"present", "absent"}},
                   {"insertafter", ArgType::kString}, {"insertbefore", ArgType::kString},
                   {"create", ArgType::kBool}, mode, owner, group},
                  nullptr,
                  ValidateLineInFile,
                  RunLineInFile});
  out->push_back({"fetch",
                  {},
                  {{"src", ArgType::kString, true}, {"dest", ArgType::kString, true},
                   {"flat", ArgType::kBool}, {"fail_on_missing", ArgType::kBool}},
                  nullptr,
                  nullptr,
                  RunFetch});
}

}  // namespace racksmith::playbook::internal
