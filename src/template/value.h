// Internal: the runtime value of the template engine and its Python-compatible semantics
// (str(), repr(), truthiness, ==, <) so that output matches Jinja2 byte for byte.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::tmpl {

// Insertion-ordered, like Python dicts loaded from YAML or JSON.
using Json = nlohmann::ordered_json;

struct MacroDef;
struct LoopState;

// Thrown inside the engine only; Template converts it to an Error at its public boundary.
struct RenderError {
  ErrorCode code;
  std::string message;
  int line = 0;
  int col = 0;
};

[[noreturn]] void Fail(std::string message, int line = 0, int col = 0);
[[noreturn]] void Unsupported(const std::string& what, int line = 0, int col = 0);

// How a JSON array should print and behave: Python has tuples, dict views and generators
// where JSON has only arrays.
enum class SeqKind : uint8_t {
  kPlain,
  kTuple,
  kTupleList,   // a list of tuples (dictsort, items())
  kGenerator,   // map/select/reject/unique results: Jinja2 gives a one-shot generator
  kDictItems,   // dict.items()
  kDictKeys,    // dict.keys()
  kDictValues,  // dict.values()
};

enum class ValueKind : uint8_t { kJson, kUndefined, kMacro, kLoop, kNamespace };

class Value {
 public:
  Value() = default;
  static Value Undefined(std::string hint);
  // Borrows `j`: the caller guarantees it outlives every use (the render context does).
  static Value Ref(const Json& j) {
    return Value(std::shared_ptr<const Json>(std::shared_ptr<const Json>(), &j));
  }
  static Value Of(Json j) { return Value(std::make_shared<const Json>(std::move(j))); }
  static Value Shared(std::shared_ptr<const Json> j) { return Value(std::move(j)); }
  static Value Macro(std::shared_ptr<const MacroDef> m);
  static Value Loop(std::shared_ptr<LoopState> l);
  static Value Namespace(std::shared_ptr<Json> ns);

  static Value ChildOf(const std::shared_ptr<const Json>& owner, const Json& member) {
    return Value(std::shared_ptr<const Json>(owner, &member));
  }
  // A member of this value's JSON, sharing its lifetime.
  Value Child(const Json& member) const {
    return Value(std::shared_ptr<const Json>(json_, &member));
  }

  ValueKind kind() const { return kind_; }
  bool is_json() const { return kind_ == ValueKind::kJson; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  const Json& json() const { return *json_; }
  const std::shared_ptr<const Json>& json_ptr() const { return json_; }
  const std::string& undefined_hint() const { return *hint_; }
  const std::shared_ptr<const MacroDef>& macro() const { return macro_; }
  const std::shared_ptr<LoopState>& loop() const { return loop_; }
  const std::shared_ptr<Json>& ns() const { return ns_; }

  SeqKind seq = SeqKind::kPlain;

 private:
  explicit Value(std::shared_ptr<const Json> j) : kind_(ValueKind::kJson), json_(std::move(j)) {}

  ValueKind kind_ = ValueKind::kUndefined;
  std::shared_ptr<const Json> json_;
  std::shared_ptr<const std::string> hint_;
  std::shared_ptr<const MacroDef> macro_;
  std::shared_ptr<LoopState> loop_;
  std::shared_ptr<Json> ns_;
};

// Python type name of a value, as Jinja2 error messages print it ("dict object").
std::string TypeName(const Value& v);
std::string TypeName(const Json& j);

// Python str() and repr().
void AppendStr(std::string& out, const Json& j);
void AppendRepr(std::string& out, const Json& j);
std::string PyStr(const Value& v);  // fails on undefined, generators, loops
std::string PyStr(const Json& j);
std::string PyRepr(const Json& j);
std::string FloatRepr(double d);

// Python truthiness; fails on undefined.
bool Truthy(const Value& v);
bool Truthy(const Json& j);

bool IsNumber(const Json& j);  // int, float or bool (a Python int subclass)
double AsDouble(const Json& j);
bool PyEquals(const Json& a, const Json& b);
// Python ordering: <0, 0, >0; fails on incomparable types (as Python's TypeError).
int PyCompare(const Json& a, const Json& b);

// UTF-8 helpers: Python counts code points, not bytes.
size_t CodePoints(std::string_view s);
std::vector<std::string> SplitCodePoints(std::string_view s);
// Python str.splitlines() (every Unicode line break), without the breaks.
std::vector<std::string> SplitLines(std::string_view s);
bool IsPySpace(unsigned char c);

}  // namespace racksmith::tmpl
