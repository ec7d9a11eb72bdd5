// Internal: executes a parsed template against a context. One Renderer per Render() call;
// it owns the variable frames, the output buffer and the recursion counters.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "template/ast.h"
#include "template/template.h"

namespace racksmith::tmpl {

struct IncludeCache;

struct Program {
  std::string name;    // file name for error locations
  std::string source;  // normalized source
  Body body;
  TemplateOptions options;
  std::shared_ptr<IncludeCache> includes;
};

// Templates reached by {% include %}, parsed once and shared by all renders.
struct IncludeCache {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const Program>> by_path;
};

// Compiles source into a Program (throws RenderError).
std::shared_ptr<const Program> CompileProgram(std::string_view source, std::string name,
                                              const TemplateOptions& options,
                                              std::shared_ptr<IncludeCache> includes);

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

class Renderer {
 public:
  Renderer(const Program& program, const Json& context);
  std::string Run();

  Value Eval(const Expr& e);
  const TemplateOptions& options() const { return program_->options; }

  // Attribute and item access with Jinja2's rules (attribute first for `.`, item first
  // for `[]`); missing members give an Undefined value.
  Value GetAttr(const Value& obj, const std::string& name, const Expr& at);
  Value GetItem(const Value& obj, const Value& key, const Expr& at);

  // Filters and tests by name, for map(), select() and friends.
  Value Filter(const std::string& name, const Value& input, CallArgs& args, const Expr& at);
  bool Test(const std::string& name, const Value& input, CallArgs& args, const Expr& at);

  // Items of anything iterable, as JSON (strings give characters, dicts keys).
  std::shared_ptr<const Json> Iterate(const Value& v, const Expr& at);

  // Fails past max_items; used by anything that builds large sequences.
  void CheckItems(size_t n, const Expr& at) const;

 private:
  struct Frame {
    std::vector<std::pair<std::string, Value>> vars;
    int parent = -1;
  };

  void RenderBody(const Body& body);
  void RenderNode(const Node& n);
  void RenderFor(const Node& n);
  void RenderInclude(const Node& n);
  void Append(const std::string& s);

  int PushFrame(int parent);
  void PopFrame();
  void SetVar(const std::string& name, Value v);
  const Value* Lookup(const std::string& name) const;

  Value EvalName(const Expr& e);
  Value EvalCall(const Expr& e);
  Value EvalBinary(const Expr& e);
  Value EvalCompare(const Expr& e);
  Value EvalFilter(const Expr& e);
  Value EvalTest(const Expr& e);
  Value EvalSequence(const Expr& e);
  Value CallMacro(const Value& m, CallArgs& args, const Expr& at);
  Value CallGlobal(const std::string& name, CallArgs& args, const Expr& at);
  void EvalArgs(const Expr& e, size_t first, CallArgs& out);
  Value LoopAttr(const LoopState& l, const std::string& name, const Expr& at);

  const Program* program_;
  const Json& context_;
  std::vector<Frame> frames_;
  int frame_count_ = 0;
  int current_ = -1;
  std::string out_;
  int call_depth_ = 0;
  int globals_frame_ = 0;
};

// Defined in methods.cc: str/dict methods called as obj.name(args).
Value CallMethod(Renderer& r, const Value& obj, const std::string& name, CallArgs& args,
                 const Expr& at);
// Defined in filters*.cc / tests.cc.
bool IsKnownFilter(const std::string& name);
bool IsKnownTest(const std::string& name);
Value ApplyFilter(Renderer& r, const std::string& name, const Value& input, CallArgs& args,
                  const Expr& at);
bool ApplyTest(Renderer& r, const std::string& name, const Value& input, CallArgs& args,
               const Expr& at);

// Helpers shared by the built-ins.
const Json& RequireJson(const Value& v, const Expr& at);
Json ToJson(const Value& v, const Expr& at);
// Python % formatting ("%s-%03d" % args).
std::string PercentFormat(const std::string& fmt, const std::vector<Value>& args, const Expr& at);

}  // namespace racksmith::tmpl
