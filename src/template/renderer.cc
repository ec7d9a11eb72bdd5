#include "template/renderer.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "template/lexer.h"
#include "template/parser.h"

namespace racksmith::tmpl {

std::shared_ptr<const Program> CompileProgram(std::string_view source, std::string name,
                                              const TemplateOptions& options,
                                              std::shared_ptr<IncludeCache> includes) {
  auto p = std::make_shared<Program>();
  p->name = std::move(name);
  p->options = options;
  p->source = NormalizeSource(source, options.keep_trailing_newline);
  p->includes = std::move(includes);
  std::vector<Token> tokens = Tokenize(p->source, options);
  p->body = Parse(tokens, p->source, options.max_nesting);
  return p;
}

Renderer::Renderer(const Program& program, const Json& context)
    : program_(&program), context_(context) {}

std::string Renderer::Run() {
  globals_frame_ = PushFrame(-1);
  RenderBody(program_->body);
  PopFrame();
  return std::move(out_);
}

void Renderer::CheckItems(size_t n, const Expr& at) const {
  if (n > options().max_items)
    Fail("sequence of " + std::to_string(n) + " items exceeds the limit of " +
             std::to_string(options().max_items),
         at.line, at.col);
}

void Renderer::Append(const std::string& s) {
  if (out_.size() + s.size() > options().max_output_bytes)
    Fail("output exceeds the limit of " + std::to_string(options().max_output_bytes) + " bytes");
  out_ += s;
}

int Renderer::PushFrame(int parent) {
  if (frame_count_ == static_cast<int>(frames_.size())) frames_.emplace_back();
  Frame& f = frames_[frame_count_];
  f.vars.clear();
  f.parent = parent;
  current_ = frame_count_++;
  return current_;
}

void Renderer::PopFrame() {
  --frame_count_;
  frames_[frame_count_].vars.clear();
  current_ = frame_count_ - 1;
}

void Renderer::SetVar(const std::string& name, Value v) {
  auto& vars = frames_[current_].vars;
  for (auto& [k, val] : vars) {
    if (k == name) {
      val = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

const Value* Renderer::Lookup(const std::string& name) const {
  for (int i = current_; i >= 0; i = frames_[i].parent) {
    for (const auto& [k, v] : frames_[i].vars)
      if (k == name) return &v;
  }
  return nullptr;
}

void Renderer::RenderBody(const Body& body) {
  for (const auto& n : body) RenderNode(*n);
}

namespace {

// Adds the tag text and location to errors raised while evaluating a node.
[[noreturn]] void Rethrow(RenderError& e, const Node& n) {
  if (e.line == 0) {
    e.line = n.line;
    e.col = n.col;
  }
  if (!n.tag.empty() && e.message.find(" in `") == std::string::npos)
    e.message += " in `" + n.tag + "`";
  throw e;
}

void Unpack(const std::vector<std::string>& targets, const Value& v,
            const std::function<void(const std::string&, Value)>& set, const Node& n) {
  if (targets.size() == 1) {
    set(targets[0], v);
    return;
  }
  const Json& j = RequireJson(v, *n.expr);
  if (!j.is_array() && !j.is_string())
    Fail("cannot unpack non-iterable " + TypeName(j) + " object", n.line, n.col);
  if (j.size() != targets.size())
    Fail("cannot unpack " + std::to_string(j.size()) + " values into " +
             std::to_string(targets.size()) + " names",
         n.line, n.col);
  for (size_t i = 0; i < targets.size(); ++i) set(targets[i], v.Child(j[i]));
}

}  // namespace

void Renderer::RenderNode(const Node& n) {
  try {
    switch (n.kind) {
      case NodeKind::kText:
        Append(n.text);
        return;
      case NodeKind::kOutput: {
        Value v = Eval(*n.expr);
        if (v.is_json() && v.seq == SeqKind::kPlain && v.json().is_string()) {
          Append(v.json().get_ref<const std::string&>());
        } else {
          Append(PyStr(v));
        }
        return;
      }
      case NodeKind::kIf:
        if (Truthy(Eval(*n.expr))) {
          RenderBody(n.body);
        } else {
          RenderBody(n.else_body);
        }
        return;
      case NodeKind::kFor:
        RenderFor(n);
        return;
      case NodeKind::kSet: {
        Value v = Eval(*n.expr);
        Unpack(
            n.targets, v, [this](const std::string& k, Value val) { SetVar(k, std::move(val)); },
            n);
        return;
      }
      case NodeKind::kSetBlock: {
        std::string saved;
        saved.swap(out_);
        RenderBody(n.body);
        saved.swap(out_);
        SetVar(n.targets[0], Value::Of(Json(std::move(saved))));
        return;
      }
      case NodeKind::kSetAttr: {
        const Value* ns = Lookup(n.targets[0]);
        if (!ns || ns->kind() != ValueKind::kNamespace)
          Fail("cannot assign attribute on non-namespace object '" + n.targets[0] + "'", n.line,
               n.col);
        Value v = Eval(*n.expr);
        (*ns->ns())[n.text] = ToJson(v, *n.expr);
        return;
      }
      case NodeKind::kInclude:
        RenderInclude(n);
        return;
      case NodeKind::kMacro: {
        auto def = std::make_shared<MacroDef>();
        def->node = &n;
        def->globals_frame = globals_frame_;
        SetVar(n.text, Value::Macro(def));
        return;
      }
      case NodeKind::kWith: {
        std::vector<Value> vals;
        for (const auto& e : n.with_values) vals.push_back(Eval(*e));
        PushFrame(current_);
        for (size_t i = 0; i < vals.size(); ++i) SetVar(n.targets[i], vals[i]);
        RenderBody(n.body);
        PopFrame();
        return;
      }
      case NodeKind::kCallExpr:
        Eval(*n.expr);
        return;
    }
  } catch (RenderError& e) {
    Rethrow(e, n);
  }
}

void Renderer::RenderFor(const Node& n) {
  Value iterable = Eval(*n.expr);
  std::shared_ptr<const Json> items = Iterate(iterable, *n.expr);
  if (n.filter) {
    // Jinja2 filters before counting, so loop.length and loop.last see only kept items.
    auto kept = std::make_shared<Json>(Json::array());
    int saved = current_;
    for (const auto& item : *items) {
      PushFrame(saved);
      Unpack(
          n.targets, Value::ChildOf(items, item),
          [this](const std::string& k, Value val) { SetVar(k, std::move(val)); }, n);
      bool keep = Truthy(Eval(*n.filter));
      PopFrame();
      current_ = saved;
      if (keep) kept->push_back(item);
    }
    items = kept;
  }
  if (items->empty()) {
    RenderBody(n.else_body);
    return;
  }
  auto loop = std::make_shared<LoopState>();
  loop->items = items;
  loop->length = items->size();
  Value loop_value = Value::Loop(loop);
  bool tuples = iterable.seq == SeqKind::kDictItems || iterable.seq == SeqKind::kTupleList;
  int saved = current_;
  for (size_t i = 0; i < items->size(); ++i) {
    loop->index0 = i;
    PushFrame(saved);
    Value item = Value::ChildOf(items, (*items)[i]);
    if (tuples && item.json().is_array()) item.seq = SeqKind::kTuple;
    Unpack(
        n.targets, item, [this](const std::string& k, Value val) { SetVar(k, std::move(val)); }, n);
    SetVar("loop", loop_value);
    RenderBody(n.body);
    PopFrame();
    current_ = saved;
  }
}

void Renderer::RenderInclude(const Node& n) {
  Value name_v = Eval(*n.expr);
  const Json& name_j = RequireJson(name_v, *n.expr);
  if (!name_j.is_string()) Unsupported("include of a non-string name", n.line, n.col);
  const std::string& name = name_j.get_ref<const std::string&>();
  if (call_depth_ >= options().max_call_depth)
    Fail("include/macro nesting deeper than " + std::to_string(options().max_call_depth) +
             " (recursive include?)",
         n.line, n.col);
  std::shared_ptr<const Program> prog;
  {
    IncludeCache& cache = *program_->includes;
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.by_path.find(name);
    if (it != cache.by_path.end()) prog = it->second;
  }
  if (!prog) {
    std::string found;
    for (const auto& dir : options().search_path) {
      std::error_code ec;
      std::string candidate = (std::filesystem::path(dir) / name).string();
      if (!name.empty() && std::filesystem::is_regular_file(candidate, ec)) {
        found = candidate;
        break;
      }
    }
    if (found.empty()) {
      if (n.ignore_missing) return;
      throw RenderError{ErrorCode::kNotFound, "included template '" + name + "' not found", n.line,
                        n.col};
    }
    std::ifstream in(found, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof())
      throw RenderError{ErrorCode::kIo, "cannot read included template '" + found + "'", n.line,
                        n.col};
    try {
      prog = CompileProgram(ss.str(), found, options(), program_->includes);
    } catch (RenderError& e) {
      e.message =
          found + ":" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": " + e.message;
      e.line = n.line;
      e.col = n.col;
      throw;
    }
    std::lock_guard<std::mutex> lock(program_->includes->mu);
    program_->includes->by_path.emplace(name, prog);
  }
  const Program* saved_prog = program_;
  int saved_globals = globals_frame_;
  int saved_current = current_;
  ++call_depth_;
  program_ = prog.get();
  globals_frame_ = PushFrame(current_);
  try {
    RenderBody(prog->body);
  } catch (RenderError& e) {
    if (e.message.rfind(prog->name, 0) != 0)
      e.message = prog->name + ":" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": " +
                  e.message;
    e.line = n.line;
    e.col = n.col;
    program_ = saved_prog;
    throw;
  }
  PopFrame();
  current_ = saved_current;
  globals_frame_ = saved_globals;
  program_ = saved_prog;
  --call_depth_;
}

Value Renderer::CallMacro(const Value& m, CallArgs& args, const Expr& at) {
  const MacroDef& def = *m.macro();
  const Node& n = *def.node;
  if (args.pos.size() > n.params.size())
    Fail("macro '" + n.text + "' takes not more than " + std::to_string(n.params.size()) +
             " argument(s)",
         at.line, at.col);
  if (call_depth_ >= options().max_call_depth)
    Fail("macro calls nested deeper than " + std::to_string(options().max_call_depth) +
             " (unbounded recursion?)",
         at.line, at.col);
  for (const auto& [k, v] : args.kw) {
    bool known = false;
    for (const auto& p : n.params) known |= p == k;
    if (!known)
      Fail("macro '" + n.text + "' takes no keyword argument '" + k + "'", at.line, at.col);
  }
  int saved_current = current_;
  int saved_globals = globals_frame_;
  ++call_depth_;
  PushFrame(def.globals_frame);
  globals_frame_ = def.globals_frame;
  std::string saved_out;
  saved_out.swap(out_);
  try {
    for (size_t i = 0; i < n.params.size(); ++i) {
      const std::string& p = n.params[i];
      const Value* given = i < args.pos.size() ? &args.pos[i] : nullptr;
      for (const auto& [k, v] : args.kw)
        if (k == p) given = &v;
      if (given) {
        SetVar(p, *given);
      } else if (n.defaults[i]) {
        SetVar(p, Eval(*n.defaults[i]));
      } else {
        SetVar(p, Value::Undefined("'" + p + "' is undefined"));
      }
    }
    RenderBody(n.body);
  } catch (RenderError&) {
    saved_out.swap(out_);
    throw;
  }
  saved_out.swap(out_);
  PopFrame();
  current_ = saved_current;
  globals_frame_ = saved_globals;
  --call_depth_;
  return Value::Of(Json(std::move(saved_out)));
}

}  // namespace racksmith::tmpl
