// Internal: helpers shared by the filter implementations (filters.cc, filters_seq.cc).
#pragma once

#include <string>
#include <vector>

#include "template/renderer.h"

namespace racksmith::tmpl {

// Binds a filter's positional and keyword arguments to its named parameters, the way
// Python binds a call, so that `indent(2, first=true)` and `indent(width=2)` both work.
class FilterArgs {
 public:
  FilterArgs(const std::string& filter, CallArgs& args, std::vector<std::string> params,
             const Expr& at);
  const Value* Get(size_t i) const { return set_[i] ? &slots_[i] : nullptr; }
  bool Has(size_t i) const { return set_[i]; }
  const Json& JsonAt(size_t i) const;
  bool Bool(size_t i, bool dflt) const;
  int64_t Int(size_t i, int64_t dflt) const;
  std::string Str(size_t i, const std::string& dflt) const;  // str() of the argument
  std::string OptStr(size_t i) const;                        // "" when absent or None

 private:
  std::string filter_;
  std::vector<Value> slots_;
  std::vector<bool> set_;
  const Expr& at_;
};

// The item's attribute (dotted "a.b", digits as indices) as make_attrgetter does.
Value GetAttrPath(Renderer& r, const Value& item, const std::string& path, const Expr& at);
// Elements of a sequence as Values, tuples where Python would have tuples.
std::vector<Value> Elements(Renderer& r, const Value& v, const Expr& at);
Value Generator(Json items);

Value SequenceFilter(Renderer& r, const std::string& name, const Value& v, CallArgs& args,
                     const Expr& at, bool* handled);

}  // namespace racksmith::tmpl
