// Internal: the parsed form of a template. Immutable after parsing, shared by every render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/value.h"

namespace racksmith::tmpl {

enum class ExprKind : uint8_t {
  kLiteral,  // lit
  kName,     // name
  kGetAttr,  // args[0].name
  kGetItem,  // args[0][args[1]]
  kSlice,    // args[0][args[1]:args[2]:args[3]] (null entries allowed)
  kCall,     // args[0](args[1..], kwargs)
  kFilter,   // args[0] | name(args[1..], kwargs)
  kTest,     // args[0] is [not] name(args[1..]); negate
  kUnary,    // name in {"-", "+", "not"}
  kBinary,   // name is the operator; args[0], args[1]
  kAnd,
  kOr,
  kCompare,  // args[0] ops[i] args[i+1] ...
  kCond,     // args[1] if args[0] else args[2] (args[2] may be null)
  kList,
  kTuple,
  kDict,  // args alternate key, value
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  int line = 0;
  int col = 0;
  std::string name;
  Value lit;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // kCompare
  bool negate = false;           // kTest
};

enum class NodeKind : uint8_t {
  kText,
  kOutput,
  kIf,
  kFor,
  kSet,       // targets = expr
  kSetBlock,  // targets[0] = rendered body
  kSetAttr,   // targets[0].attr = expr (namespace)
  kInclude,
  kMacro,
  kWith,
  kCallExpr,  // expression evaluated for its effect, output discarded ({% do %} style)
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  NodeKind kind;
  int line = 0;
  int col = 0;
  std::string text;  // kText; kSetAttr attribute name; kMacro name
  std::string tag;   // the source of the tag, quoted in error messages
  ExprPtr expr;      // output / condition / iterable / value / include name
  ExprPtr filter;    // for ... if filter
  std::vector<std::string> targets;
  Body body;
  Body else_body;  // if: elif chain as a nested kIf
  // kMacro
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // aligned with params; null when no default
  bool ignore_missing = false;
  // kWith: targets[i] = with_values[i]
  std::vector<ExprPtr> with_values;
};

struct MacroDef {
  const Node* node;
  int globals_frame;  // frame index of the defining template's top level
};

struct LoopState {
  std::shared_ptr<const Json> items;  // the sequence being iterated
  const Json* seq = nullptr;
  size_t index0 = 0;
  size_t length = 0;
};

}  // namespace racksmith::tmpl
