#include "template/parser.h"

#include <set>

#include "template/renderer.h"

namespace racksmith::tmpl {
namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& toks, const std::string& src, int max_nesting)
      : t_(toks), src_(src), max_nesting_(max_nesting) {}

  Body ParseTemplate() {
    Body body;
    std::string end = ParseBody(body, {});
    if (!end.empty()) Error(Cur(), "unexpected '{% " + end + " %}'");
    return body;
  }

 private:
  // --- token helpers --------------------------------------------------------------------
  const Token& Cur() const { return t_[pos_]; }
  const Token& Peek(size_t n = 1) const { return t_[std::min(pos_ + n, t_.size() - 1)]; }
  const Token& Next() { return t_[pos_ < t_.size() - 1 ? pos_++ : pos_]; }
  bool IsOp(const char* op) const { return Cur().type == Tok::kOp && Cur().text == op; }
  bool IsName(const char* n) const { return Cur().type == Tok::kName && Cur().text == n; }
  bool AcceptOp(const char* op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool AcceptName(const char* n) {
    if (!IsName(n)) return false;
    Next();
    return true;
  }

  static std::string Describe(const Token& t) {
    switch (t.type) {
      case Tok::kData:
        return "template text";
      case Tok::kVarBegin:
        return "'{{'";
      case Tok::kVarEnd:
        return "end of print statement '}}'";
      case Tok::kBlockBegin:
        return "'{%'";
      case Tok::kBlockEnd:
        return "end of statement block '%}'";
      case Tok::kEof:
        return "end of template";
      case Tok::kString:
        return "string";
      case Tok::kInt:
      case Tok::kFloat:
        return "number " + t.text;
      default:
        return "'" + t.text + "'";
    }
  }

  [[noreturn]] void Error(const Token& t, const std::string& msg) { Fail(msg, t.line, t.col); }
  void ExpectOp(const char* op) {
    if (!AcceptOp(op)) Error(Cur(), std::string("expected '") + op + "', found " + Describe(Cur()));
  }
  std::string ExpectName(const char* what) {
    if (Cur().type != Tok::kName)
      Error(Cur(), std::string("expected ") + what + ", found " + Describe(Cur()));
    return Next().text;
  }
  void ExpectBlockEnd() {
    if (Cur().type != Tok::kBlockEnd)
      Error(Cur(), "expected end of statement block '%}', found " + Describe(Cur()));
    Next();
  }

  struct Depth {
    Depth(Parser* p, const Token& t) : p_(p) {
      if (++p_->depth_ > p_->max_nesting_)
        p_->Error(t, "nesting deeper than " + std::to_string(p_->max_nesting_) + " levels");
    }
    ~Depth() { --p_->depth_; }
    Parser* p_;
  };

  ExprPtr Make(ExprKind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->col = at.col;
    return e;
  }

  // --- statements -----------------------------------------------------------------------
  // Parses nodes until one of `ends` (a block keyword) starts a tag; returns that keyword
  // with the position on it, or "" at end of input.
  std::string ParseBody(Body& body, const std::set<std::string>& ends) {
    while (true) {
      const Token& t = Cur();
      if (t.type == Tok::kEof) {
        if (!ends.empty()) {
          std::string want;
          for (const auto& e : ends) want += (want.empty() ? "'" : " or '") + e + "'";
          Error(t, "unexpected end of template: expected " + want);
        }
        return "";
      }
      if (t.type == Tok::kData) {
        auto n = std::make_unique<Node>();
        n->kind = NodeKind::kText;
        n->line = t.line;
        n->col = t.col;
        n->text = t.text;
        body.push_back(std::move(n));
        Next();
      } else if (t.type == Tok::kVarBegin) {
        Next();
        auto n = NewNode(NodeKind::kOutput, t);
        n->expr = ParseTuple(true);
        if (Cur().type != Tok::kVarEnd)
          Error(Cur(), "expected end of print statement '}}', found " + Describe(Cur()));
        SetTag(*n, t, Cur());
        Next();
        body.push_back(std::move(n));
      } else if (t.type == Tok::kBlockBegin) {
        const Token& kw = Peek();
        if (kw.type != Tok::kName) Error(kw, "expected a statement name, found " + Describe(kw));
        if (ends.count(kw.text)) {
          Next();
          return kw.text;
        }
        body.push_back(ParseStatement());
      } else {
        Error(t, "unexpected " + Describe(t));
      }
    }
  }

  NodePtr NewNode(NodeKind k, const Token& at) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->line = at.line;
    n->col = at.col;
    return n;
  }

  void SetTag(Node& n, const Token& begin, const Token& end) {
    size_t e = std::min<size_t>(end.offset + end.text.size(), src_.size());
    n.tag = src_.substr(begin.offset, e - begin.offset);
    if (n.tag.size() > 200) n.tag = n.tag.substr(0, 197) + "...";
  }

  // The current token is the keyword ending the previous body; consume "kw ... %}".
  void EndTag(const char* kw) {
    if (!AcceptName(kw))
      Error(Cur(), std::string("expected '") + kw + "', found " + Describe(Cur()));
    ExpectBlockEnd();
  }

  NodePtr ParseStatement() {
    const Token& begin = Next();  // {%
    const Token& kw = Next();
    Depth d(this, kw);
    const std::string& k = kw.text;
    NodePtr n;
    if (k == "if") {
      n = ParseIf(begin);
    } else if (k == "for") {
      n = ParseFor(begin);
    } else if (k == "set") {
      n = ParseSet(begin);
    } else if (k == "include") {
      n = ParseInclude(begin);
    } else if (k == "macro") {
      n = ParseMacro(begin);
    } else if (k == "with") {
      n = ParseWith(begin);
    } else if (k == "do") {
      n = NewNode(NodeKind::kCallExpr, begin);
      n->expr = ParseTuple(true);
      SetTag(*n, begin, Cur());
      ExpectBlockEnd();
    } else {
      static const std::set<std::string> kKnown = {"extends",    "block",  "import",    "from",
                                                   "call",       "filter", "break",     "continue",
                                                   "autoescape", "trans",  "pluralize", "debug"};
      if (kKnown.count(k)) Unsupported("{% " + k + " %}", kw.line, kw.col);
      Error(kw, "unknown tag '" + k + "'");
    }
    return n;
  }

  NodePtr ParseIf(const Token& begin) {
    auto n = NewNode(NodeKind::kIf, begin);
    n->expr = ParseTuple(true);
    SetTag(*n, begin, Cur());
    ExpectBlockEnd();
    std::string end = ParseBody(n->body, {"elif", "else", "endif"});
    if (end == "elif") {
      const Token& b2 = t_[pos_ - 1];
      Next();  // elif
      n->else_body.push_back(ParseIf(b2));
      return n;
    }
    if (end == "else") {
      EndTag("else");
      end = ParseBody(n->else_body, {"endif"});
    }
    EndTag("endif");
    return n;
  }

  std::vector<std::string> ParseTargets() {
    std::vector<std::string> names;
    bool paren = AcceptOp("(");
    do {
      names.push_back(ExpectName("a variable name"));
      if (IsOp(".")) Unsupported("assignment to an attribute here", Cur().line, Cur().col);
    } while (AcceptOp(","));
    if (paren) ExpectOp(")");
    return names;
  }

  NodePtr ParseFor(const Token& begin) {
    auto n = NewNode(NodeKind::kFor, begin);
    n->targets = ParseTargets();
    if (!AcceptName("in")) Error(Cur(), "expected 'in', found " + Describe(Cur()));
    n->expr = ParseTuple(false);
    if (AcceptName("if")) n->filter = ParseTuple(true);
    if (IsName("recursive")) Unsupported("recursive for loops", Cur().line, Cur().col);
    SetTag(*n, begin, Cur());
    ExpectBlockEnd();
    std::string end = ParseBody(n->body, {"else", "endfor"});
    if (end == "else") {
      EndTag("else");
      ParseBody(n->else_body, {"endfor"});
    }
    EndTag("endfor");
    return n;
  }

  NodePtr ParseSet(const Token& begin) {
    const Token& first = Cur();
    if (first.type == Tok::kName && Peek().type == Tok::kOp && Peek().text == ".") {
      auto n = NewNode(NodeKind::kSetAttr, begin);
      n->targets.push_back(Next().text);
      Next();  // .
      n->text = ExpectName("an attribute name");
      ExpectOp("=");
      n->expr = ParseTuple(true);
      SetTag(*n, begin, Cur());
      ExpectBlockEnd();
      return n;
    }
    std::vector<std::string> targets = ParseTargets();
    if (Cur().type == Tok::kBlockEnd) {
      auto n = NewNode(NodeKind::kSetBlock, begin);
      if (targets.size() != 1) Error(first, "a block {% set %} takes one name");
      n->targets = targets;
      SetTag(*n, begin, Cur());
      ExpectBlockEnd();
      ParseBody(n->body, {"endset"});
      EndTag("endset");
      return n;
    }
    if (IsOp("|")) Unsupported("filtered block {% set x | filter %}", Cur().line, Cur().col);
    auto n = NewNode(NodeKind::kSet, begin);
    n->targets = targets;
    ExpectOp("=");
    n->expr = ParseTuple(true);
    SetTag(*n, begin, Cur());
    ExpectBlockEnd();
    return n;
  }

  NodePtr ParseInclude(const Token& begin) {
    auto n = NewNode(NodeKind::kInclude, begin);
    n->expr = ParseExpression(true);
    if (IsName("ignore") && Peek().type == Tok::kName && Peek().text == "missing") {
      Next();
      Next();
      n->ignore_missing = true;
    }
    if ((IsName("with") || IsName("without")) && Peek().type == Tok::kName &&
        Peek().text == "context") {
      if (IsName("without")) Unsupported("include without context", Cur().line, Cur().col);
      Next();
      Next();
    }
    SetTag(*n, begin, Cur());
    ExpectBlockEnd();
    return n;
  }

  NodePtr ParseMacro(const Token& begin) {
    auto n = NewNode(NodeKind::kMacro, begin);
    n->text = ExpectName("a macro name");
    ExpectOp("(");
    bool seen_default = false;
    while (!IsOp(")")) {
      if (!n->params.empty()) ExpectOp(",");
      if (IsOp(")")) break;
      const Token& pt = Cur();
      n->params.push_back(ExpectName("a parameter name"));
      if (AcceptOp("=")) {
        n->defaults.push_back(ParseExpression(true));
        seen_default = true;
      } else {
        if (seen_default) Error(pt, "non-default argument follows default argument");
        n->defaults.push_back(nullptr);
      }
    }
    ExpectOp(")");
    SetTag(*n, begin, Cur());
    ExpectBlockEnd();
    ParseBody(n->body, {"endmacro"});
    if (!AcceptName("endmacro")) Error(Cur(), "expected 'endmacro'");
    if (Cur().type == Tok::kName) Next();  // {% endmacro name %}
    ExpectBlockEnd();
    return n;
  }

  NodePtr ParseWith(const Token& begin) {
    auto n = NewNode(NodeKind::kWith, begin);
    while (Cur().type != Tok::kBlockEnd) {
      if (!n->targets.empty()) ExpectOp(",");
      n->targets.push_back(ExpectName("a variable name"));
      ExpectOp("=");
      n->with_values.push_back(ParseExpression(true));
    }
    SetTag(*n, begin, Cur());
    ExpectBlockEnd();
    ParseBody(n->body, {"endwith"});
    EndTag("endwith");
    return n;
  }

  // --- expressions ----------------------------------------------------------------------
  ExprPtr ParseTuple(bool with_cond) {
    const Token& at = Cur();
    ExprPtr first = ParseExpression(with_cond);
    if (!IsOp(",")) return first;
    auto tup = Make(ExprKind::kTuple, at);
    tup->args.push_back(std::move(first));
    while (AcceptOp(",")) {
      if (Cur().type == Tok::kBlockEnd || Cur().type == Tok::kVarEnd || IsOp(")") || IsOp("=") ||
          IsName("in"))
        break;
      tup->args.push_back(ParseExpression(with_cond));
    }
    return tup;
  }

  ExprPtr ParseExpression(bool with_cond) {
    Depth d(this, Cur());
    if (!with_cond) return ParseOr();
    const Token& at = Cur();
    ExprPtr expr = ParseOr();
    while (IsName("if")) {
      Next();
      auto c = Make(ExprKind::kCond, at);
      c->args.push_back(ParseOr());  // condition
      c->args.push_back(std::move(expr));
      c->args.push_back(AcceptName("else") ? ParseExpression(true) : nullptr);
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr ParseOr() {
    ExprPtr left = ParseAnd();
    while (IsName("or")) {
      auto e = Make(ExprKind::kOr, Next());
      e->args.push_back(std::move(left));
      e->args.push_back(ParseAnd());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr ParseAnd() {
    ExprPtr left = ParseNot();
    while (IsName("and")) {
      auto e = Make(ExprKind::kAnd, Next());
      e->args.push_back(std::move(left));
      e->args.push_back(ParseNot());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr ParseNot() {
    if (IsName("not")) {
      Depth d(this, Cur());
      auto e = Make(ExprKind::kUnary, Next());
      e->name = "not";
      e->args.push_back(ParseNot());
      return e;
    }
    return ParseCompare();
  }

  ExprPtr ParseCompare() {
    const Token& at = Cur();
    ExprPtr first = ParseMath1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (Cur().type == Tok::kOp &&
          (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" || Cur().text == ">" ||
           Cur().text == "<=" || Cur().text == ">=")) {
        op = Next().text;
      } else if (IsName("in")) {
        Next();
        op = "in";
      } else if (IsName("not") && Peek().type == Tok::kName && Peek().text == "in") {
        Next();
        Next();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = Make(ExprKind::kCompare, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(ParseMath1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr Binary(const Token& at, std::string op, ExprPtr l, ExprPtr r) {
    auto e = Make(ExprKind::kBinary, at);
    e->name = std::move(op);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  ExprPtr ParseMath1() {
    ExprPtr left = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      const Token& op = Next();
      left = Binary(op, op.text, std::move(left), ParseConcat());
    }
    return left;
  }

  ExprPtr ParseConcat() {
    ExprPtr left = ParseMath2();
    while (IsOp("~")) {
      const Token& op = Next();
      left = Binary(op, "~", std::move(left), ParseMath2());
    }
    return left;
  }

  ExprPtr ParseMath2() {
    ExprPtr left = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token& op = Next();
      left = Binary(op, op.text, std::move(left), ParsePow());
    }
    return left;
  }

  ExprPtr ParsePow() {
    ExprPtr left = ParseUnary(true);
    while (IsOp("**")) {
      const Token& op = Next();
      left = Binary(op, "**", std::move(left), ParseUnary(true));
    }
    return left;
  }

  ExprPtr ParseUnary(bool with_filter) {
    Depth d(this, Cur());
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      const Token& op = Next();
      node = Make(ExprKind::kUnary, op);
      node->name = op.text;
      node->args.push_back(ParseUnary(false));
    } else {
      node = ParsePostfix(ParsePrimary());
    }
    if (with_filter) node = ParseFilterExpr(std::move(node));
    return node;
  }

  ExprPtr ParsePrimary() {
    const Token& t = Cur();
    switch (t.type) {
      case Tok::kName: {
        Next();
        if (t.text == "true" || t.text == "True") return Literal(t, Json(true));
        if (t.text == "false" || t.text == "False") return Literal(t, Json(false));
        if (t.text == "none" || t.text == "None") return Literal(t, Json(nullptr));
        auto e = Make(ExprKind::kName, t);
        e->name = t.text;
        return e;
      }
      case Tok::kString: {
        std::string s = Next().text;
        while (Cur().type == Tok::kString) s += Next().text;
        return Literal(t, Json(s));
      }
      case Tok::kInt:
        Next();
        return Literal(t, Json(t.int_value));
      case Tok::kFloat:
        Next();
        return Literal(t, Json(t.float_value));
      case Tok::kOp:
        if (t.text == "(") {
          Next();
          if (AcceptOp(")")) return Make(ExprKind::kTuple, t);
          ExprPtr inner = ParseExpression(true);
          if (IsOp(",")) {
            auto tup = Make(ExprKind::kTuple, t);
            tup->args.push_back(std::move(inner));
            while (AcceptOp(",")) {
              if (IsOp(")")) break;
              tup->args.push_back(ParseExpression(true));
            }
            inner = std::move(tup);
          }
          ExpectOp(")");
          return inner;
        }
        if (t.text == "[") {
          Next();
          auto list = Make(ExprKind::kList, t);
          while (!IsOp("]")) {
            if (!list->args.empty()) ExpectOp(",");
            if (IsOp("]")) break;
            list->args.push_back(ParseExpression(true));
          }
          ExpectOp("]");
          return list;
        }
        if (t.text == "{") {
          Next();
          auto dict = Make(ExprKind::kDict, t);
          while (!IsOp("}")) {
            if (!dict->args.empty()) ExpectOp(",");
            if (IsOp("}")) break;
            dict->args.push_back(ParseExpression(true));
            ExpectOp(":");
            dict->args.push_back(ParseExpression(true));
          }
          ExpectOp("}");
          return dict;
        }
        break;
      default:
        break;
    }
    Error(t, "expected an expression, found " + Describe(t));
  }

  ExprPtr Literal(const Token& t, Json j) {
    auto e = Make(ExprKind::kLiteral, t);
    e->lit = Value::Of(std::move(j));
    return e;
  }

  ExprPtr ParsePostfix(ExprPtr node) {
    while (true) {
      if (IsOp(".")) {
        const Token& dot = Next();
        if (Cur().type == Tok::kName) {
          auto e = Make(ExprKind::kGetAttr, Cur());
          e->name = Next().text;
          e->args.push_back(std::move(node));
          node = std::move(e);
        } else if (Cur().type == Tok::kInt) {
          auto e = Make(ExprKind::kGetItem, Cur());
          e->args.push_back(std::move(node));
          e->args.push_back(Literal(Cur(), Json(Cur().int_value)));
          Next();
          node = std::move(e);
        } else {
          Error(dot, "expected an attribute name after '.', found " + Describe(Cur()));
        }
      } else if (IsOp("[")) {
        node = ParseSubscript(std::move(node));
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr ParseSubscript(ExprPtr node) {
    const Token& at = Next();  // [
    ExprPtr parts[3];
    int colons = 0;
    while (!IsOp("]")) {
      if (AcceptOp(":")) {
        if (++colons > 2) Error(Cur(), "too many ':' in slice");
        continue;
      }
      if (parts[colons]) Error(Cur(), "expected ']' or ':', found " + Describe(Cur()));
      parts[colons] = ParseExpression(true);
      if (IsOp(",")) Unsupported("tuple subscripts", Cur().line, Cur().col);
    }
    Next();
    if (colons == 0) {
      if (!parts[0]) Error(at, "expected a subscript");
      auto e = Make(ExprKind::kGetItem, at);
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    auto e = Make(ExprKind::kSlice, at);
    e->args.push_back(std::move(node));
    for (auto& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  void ParseArgs(Expr& call) {
    ExpectOp("(");
    while (!IsOp(")")) {
      if (IsOp("*") || IsOp("**")) Unsupported("*args/**kwargs in calls", Cur().line, Cur().col);
      if (Cur().type == Tok::kName && Peek().type == Tok::kOp && Peek().text == "=") {
        std::string key = Next().text;
        Next();
        call.kwargs.emplace_back(key, ParseExpression(true));
      } else {
        if (!call.kwargs.empty()) Error(Cur(), "positional argument follows keyword argument");
        call.args.push_back(ParseExpression(true));
      }
      if (!AcceptOp(",")) break;
    }
    ExpectOp(")");
  }

  ExprPtr ParseCall(ExprPtr node) {
    auto e = Make(ExprKind::kCall, Cur());
    e->args.push_back(std::move(node));
    ParseArgs(*e);
    return e;
  }

  ExprPtr ParseFilterExpr(ExprPtr node) {
    while (true) {
      if (IsOp("|")) {
        Next();
        const Token& nt = Cur();
        auto f = Make(ExprKind::kFilter, nt);
        f->name = ExpectName("a filter name");
        while (IsOp(".")) {
          Next();
          f->name += "." + ExpectName("a filter name");
        }
        // Jinja2 rejects unknown filters and tests when compiling, even in untaken branches.
        if (!IsKnownFilter(f->name)) Unsupported("filter '" + f->name + "'", nt.line, nt.col);
        f->args.push_back(std::move(node));
        if (IsOp("(")) ParseArgs(*f);
        node = std::move(f);
      } else if (IsName("is")) {
        Next();
        auto test = Make(ExprKind::kTest, Cur());
        if (AcceptName("not")) test->negate = true;
        test->name = ExpectName("a test name");
        while (IsOp(".")) {
          Next();
          test->name += "." + ExpectName("a test name");
        }
        if (!IsKnownTest(test->name))
          Unsupported("test '" + test->name + "'", test->line, test->col);
        test->args.push_back(std::move(node));
        if (IsOp("(")) {
          ParseArgs(*test);
        } else if ((Cur().type == Tok::kName || Cur().type == Tok::kString ||
                    Cur().type == Tok::kInt || Cur().type == Tok::kFloat || IsOp("(") ||
                    IsOp("[") || IsOp("{")) &&
                   !IsName("else") && !IsName("or") && !IsName("and")) {
          if (IsName("is")) Error(Cur(), "You cannot chain multiple tests with is");
          test->args.push_back(ParsePostfix(ParsePrimary()));
        }
        node = std::move(test);
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        return node;
      }
    }
  }

  const std::vector<Token>& t_;
  const std::string& src_;
  size_t pos_ = 0;
  int depth_ = 0;
  int max_nesting_;
};

}  // namespace

Body Parse(const std::vector<Token>& tokens, const std::string& source, int max_nesting) {
  return Parser(tokens, source, max_nesting).ParseTemplate();
}

}  // namespace racksmith::tmpl
