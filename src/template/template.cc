#include "template/template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "template/renderer.h"

namespace racksmith::tmpl {
namespace {

Error ToError(const RenderError& e, const std::string& file) {
  return Error(e.code, e.message, SourceLoc{file, e.line, e.col});
}

}  // namespace

Result<Template> Template::Compile(std::string_view source, std::string name,
                                   TemplateOptions options) {
  try {
    return Template(CompileProgram(source, name, options, std::make_shared<IncludeCache>()));
  } catch (const RenderError& e) {
    return ToError(e, name);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("template engine: ") + e.what(),
                 SourceLoc{name});
  }
}

Result<Template> Template::Load(const std::string& path, TemplateOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open template '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read template '" + path + "'");
  std::string dir = std::filesystem::path(path).parent_path().string();
  options.search_path.push_back(dir.empty() ? "." : dir);
  return Compile(ss.str(), path, std::move(options));
}

Result<std::string> Template::Render(const nlohmann::ordered_json& context) const {
  try {
    Renderer r(*program_, context);
    return r.Run();
  } catch (const RenderError& e) {
    return ToError(e, program_->name);
  } catch (const std::exception& e) {
    // nlohmann or std throws only on an engine bug; report instead of crashing.
    return Error(ErrorCode::kInternal, std::string("template engine: ") + e.what(),
                 SourceLoc{program_->name});
  }
}

Result<std::string> Template::Render(const nlohmann::json& context) const {
  return Render(nlohmann::ordered_json::parse(context.dump()));
}

const std::string& Template::name() const { return program_->name; }

Result<std::string> RenderFile(const std::string& path, const nlohmann::ordered_json& context,
                               TemplateOptions options) {
  auto t = Template::Load(path, std::move(options));
  if (!t.ok()) return t.error();
  return t->Render(context);
}

}  // namespace racksmith::tmpl
