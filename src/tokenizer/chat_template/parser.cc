#include "tokenizer/chat_template/parser.h"

#include <algorithm>
#include <initializer_list>

#include "base/error.h"

namespace pareto::chat_template {

namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const SourceMap& map) : toks_(tokens), map_(map) {}

  Body parse_template() {
    Body body = parse_body({});
    if (cur().type != TokenType::kEof) error(cur(), "unexpected " + describe(cur()));
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_op(const Token& t, const char* op) const {
    return t.type == TokenType::kOperator && t.text == op;
  }
  bool is_name(const Token& t, const char* name) const {
    return t.type == TokenType::kName && t.text == name;
  }
  bool accept_op(const char* op) {
    if (!is_op(cur(), op)) return false;
    next();
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(cur(), name)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) error(cur(), std::string("expected '") + op + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName) error(cur(), "expected a name, got " + describe(cur()));
    return next().text;
  }
  void expect_block_end() {
    if (cur().type != TokenType::kBlockEnd) {
      error(cur(), "expected end of statement block, got " + describe(cur()));
    }
    next();
  }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case TokenType::kText: return "template data";
      case TokenType::kVarBegin: return "'{{'";
      case TokenType::kVarEnd: return "end of print statement";
      case TokenType::kBlockBegin: return "'{%'";
      case TokenType::kBlockEnd: return "end of statement block";
      case TokenType::kString: return "string";
      case TokenType::kInt:
      case TokenType::kFloat: return "number";
      case TokenType::kEof: return "end of template";
      default: return "'" + t.text + "'";
    }
  }
  [[noreturn]] void error(const Token& t, const std::string& message) const {
    throw Error("chat template: " + map_.where(t.offset) + ": " + message);
  }

  struct DepthGuard {
    DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxParseDepth) p_.error(p_.cur(), "template nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  ExprPtr make(Expr::Kind kind, size_t offset) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    return e;
  }

  // ---- statements ----
  Body parse_body(std::initializer_list<const char*> end_names) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kEof) {
        if (end_names.size() != 0) {
          error(t, std::string("unexpected end of template, expected '") + *end_names.begin() +
                       "'");
        }
        return body;
      }
      if (t.type == TokenType::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->offset = t.offset;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
        continue;
      }
      if (t.type == TokenType::kVarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->offset = t.offset;
        s->expr = parse_tuple();
        if (cur().type != TokenType::kVarEnd) {
          error(cur(), "expected end of print statement, got " + describe(cur()));
        }
        next();
        body.push_back(std::move(s));
        continue;
      }
      if (t.type != TokenType::kBlockBegin) error(t, "unexpected " + describe(t));
      const Token& tag = peek();
      if (tag.type != TokenType::kName) error(tag, "expected a tag name, got " + describe(tag));
      for (const char* end : end_names) {
        if (tag.text == end) return body;
      }
      const std::string& n = tag.text;
      if (n.rfind("end", 0) == 0 || n == "elif" || n == "else") {
        error(tag, "unexpected '" + n + "'");
      }
      next();
      body.push_back(parse_statement());
    }
  }

  // At `{%` NAME of an expected end tag: consumes `{% name`.
  void take_tag(const char* name) {
    next();  // {%
    if (!accept_name(name)) error(cur(), std::string("expected '") + name + "'");
  }

  StmtPtr parse_statement() {
    const Token& tag = next();
    auto s = std::make_unique<Stmt>();
    s->offset = tag.offset;
    const std::string& n = tag.text;
    if (n == "if") {
      s->kind = Stmt::Kind::kIf;
      s->conditions.push_back(parse_expression(false));
      expect_block_end();
      while (true) {
        s->bodies.push_back(parse_body({"elif", "else", "endif"}));
        const std::string which = peek().text;
        take_tag(which.c_str());
        if (which == "elif") {
          s->conditions.push_back(parse_expression(false));
          expect_block_end();
        } else if (which == "else") {
          expect_block_end();
          s->else_body = parse_body({"endif"});
          take_tag("endif");
          expect_block_end();
          break;
        } else {
          expect_block_end();
          break;
        }
      }
    } else if (n == "for") {
      s->kind = Stmt::Kind::kFor;
      s->target = parse_target(false);
      if (!accept_name("in")) error(cur(), "expected 'in', got " + describe(cur()));
      s->expr = parse_tuple(false);
      if (accept_name("if")) s->cond = parse_expression(true);
      if (is_name(cur(), "recursive")) error(cur(), "recursive loops are not supported");
      expect_block_end();
      ++loop_depth_;
      s->body = parse_body({"endfor", "else"});
      --loop_depth_;
      if (is_name(peek(), "else")) {
        take_tag("else");
        expect_block_end();
        s->else_body = parse_body({"endfor"});
      }
      take_tag("endfor");
      expect_block_end();
    } else if (n == "set") {
      s->target = parse_target(true);
      if (accept_op("=")) {
        s->kind = Stmt::Kind::kSet;
        s->expr = parse_tuple();
        expect_block_end();
      } else {
        s->kind = Stmt::Kind::kSetBlock;
        if (s->target.is_tuple || !s->target.attr.empty()) {
          error(cur(), "a block set assigns a single name");
        }
        if (is_op(cur(), "|")) s->expr = parse_filter_chain(make(Expr::Kind::kBlockInput, s->offset));
        expect_block_end();
        s->body = parse_body({"endset"});
        take_tag("endset");
        expect_block_end();
      }
    } else if (n == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->text = expect_name();
      s->params = parse_params();
      expect_block_end();
      const int saved = loop_depth_;
      loop_depth_ = 0;
      s->body = parse_body({"endmacro"});
      loop_depth_ = saved;
      take_tag("endmacro");
      if (cur().type == TokenType::kName) next();
      expect_block_end();
    } else if (n == "call") {
      s->kind = Stmt::Kind::kCallBlock;
      if (is_op(cur(), "(")) s->params = parse_params();
      s->expr = parse_expression(true);
      if (s->expr->kind != Expr::Kind::kCall) error(tag, "expected a call after 'call'");
      expect_block_end();
      s->body = parse_body({"endcall"});
      take_tag("endcall");
      expect_block_end();
    } else if (n == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      s->expr = parse_filter_chain(make(Expr::Kind::kBlockInput, s->offset), false);
      expect_block_end();
      s->body = parse_body({"endfilter"});
      take_tag("endfilter");
      expect_block_end();
    } else if (n == "do") {
      s->kind = Stmt::Kind::kDo;
      s->expr = parse_tuple();
      expect_block_end();
    } else if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) error(tag, "'" + n + "' outside of a loop");
      s->kind = n == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      expect_block_end();
    } else if (n == "generation" || n == "block") {
      s->kind = Stmt::Kind::kScope;
      if (n == "block") expect_name();
      expect_block_end();
      s->body = parse_body({n == "block" ? "endblock" : "endgeneration"});
      take_tag(n == "block" ? "endblock" : "endgeneration");
      if (cur().type == TokenType::kName) next();
      expect_block_end();
    } else {
      error(tag, "unknown or unsupported tag '" + n + "'");
    }
    return s;
  }

  Target parse_target(bool allow_attr) {
    Target t;
    const bool paren = accept_op("(");
    t.names.push_back(expect_name());
    if (allow_attr && !paren && accept_op(".")) {
      t.attr = expect_name();
      return t;
    }
    while (accept_op(",")) {
      t.is_tuple = true;
      if (cur().type != TokenType::kName) break;
      t.names.push_back(expect_name());
    }
    if (paren) expect_op(")");
    return t;
  }

  std::vector<MacroParam> parse_params() {
    std::vector<MacroParam> params;
    expect_op("(");
    while (!is_op(cur(), ")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(cur(), ")")) break;
      MacroParam p;
      p.name = expect_name();
      if (accept_op("=")) p.default_value = parse_expression(true);
      params.push_back(std::move(p));
    }
    expect_op(")");
    return params;
  }

  // ---- expressions ----
  // expr [, expr ...] : several make a tuple. `with_condexpr` false: no top-level `x if c else y`.
  ExprPtr parse_tuple(bool with_condexpr = true) {
    const size_t offset = cur().offset;
    ExprPtr first = parse_expression(with_condexpr);
    if (!is_op(cur(), ",")) return first;
    auto tuple = make(Expr::Kind::kTuple, offset);
    tuple->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (!starts_expression(cur())) break;
      tuple->args.push_back(parse_expression(with_condexpr));
    }
    return tuple;
  }

  bool starts_expression(const Token& t) const {
    switch (t.type) {
      case TokenType::kName:
      case TokenType::kString:
      case TokenType::kInt:
      case TokenType::kFloat: return true;
      case TokenType::kOperator:
        return t.text == "(" || t.text == "[" || t.text == "{" || t.text == "-" || t.text == "+";
      default: return false;
    }
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    if (!with_condexpr) return parse_or();
    ExprPtr expr = parse_or();
    while (is_name(cur(), "if")) {
      auto cond = make(Expr::Kind::kCondition, next().offset);
      cond->args.push_back(parse_or());
      cond->args.push_back(std::move(expr));
      cond->args.push_back(accept_name("else") ? parse_expression(true) : nullptr);
      expr = std::move(cond);
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name(cur(), "or")) {
      auto e = make(Expr::Kind::kOr, next().offset);
      e->args.push_back(std::move(left));
      e->args.push_back(parse_and());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name(cur(), "and")) {
      auto e = make(Expr::Kind::kAnd, next().offset);
      e->args.push_back(std::move(left));
      e->args.push_back(parse_not());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name(cur(), "not")) {
      DepthGuard guard(*this);
      auto e = make(Expr::Kind::kNot, next().offset);
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const size_t offset = cur().offset;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      const Token& t = cur();
      if (t.type == TokenType::kOperator &&
          (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" ||
           t.text == ">=")) {
        op = t.text;
        next();
      } else if (is_name(t, "in")) {
        op = "in";
        next();
      } else if (is_name(t, "not") && is_name(peek(), "in")) {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Kind::kCompare, offset);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, size_t offset) {
    auto e = make(Expr::Kind::kBinary, offset);
    e->name = op;
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op(cur(), "+") || is_op(cur(), "-")) {
      const Token& op = next();
      left = binary(op.text, std::move(left), parse_concat(), op.offset);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op(cur(), "~")) {
      const Token& op = next();
      left = binary("~", std::move(left), parse_math2(), op.offset);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op(cur(), "*") || is_op(cur(), "/") || is_op(cur(), "//") || is_op(cur(), "%")) {
      const Token& op = next();
      left = binary(op.text, std::move(left), parse_pow(), op.offset);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op(cur(), "**")) {
      const Token& op = next();
      left = binary("**", std::move(left), parse_unary(true), op.offset);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (is_op(cur(), "-") || is_op(cur(), "+")) {
      const Token& op = next();
      node = make(op.text == "-" ? Expr::Kind::kNeg : Expr::Kind::kPos, op.offset);
      node->args.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_chain(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case TokenType::kName: {
        next();
        auto e = make(Expr::Kind::kLiteral, t.offset);
        if (t.text == "true" || t.text == "True") {
          e->literal = Value(true);
        } else if (t.text == "false" || t.text == "False") {
          e->literal = Value(false);
        } else if (t.text == "none" || t.text == "None") {
          e->literal = Value::none();
        } else {
          e->kind = Expr::Kind::kName;
          e->name = t.text;
        }
        return e;
      }
      case TokenType::kString: {
        auto e = make(Expr::Kind::kLiteral, t.offset);
        std::string s;
        while (cur().type == TokenType::kString) s += next().text;
        e->literal = Value(std::move(s));
        return e;
      }
      case TokenType::kInt: {
        next();
        auto e = make(Expr::Kind::kLiteral, t.offset);
        e->literal = Value(t.int_value);
        return e;
      }
      case TokenType::kFloat: {
        next();
        auto e = make(Expr::Kind::kLiteral, t.offset);
        e->literal = Value(t.float_value);
        return e;
      }
      case TokenType::kOperator:
        if (t.text == "(") {
          next();
          if (accept_op(")")) return make(Expr::Kind::kTuple, t.offset);
          ExprPtr inner = parse_expression(true);
          if (is_op(cur(), ",")) {
            auto tuple = make(Expr::Kind::kTuple, t.offset);
            tuple->args.push_back(std::move(inner));
            while (accept_op(",")) {
              if (is_op(cur(), ")")) break;
              tuple->args.push_back(parse_expression(true));
            }
            inner = std::move(tuple);
          }
          expect_op(")");
          return inner;
        }
        if (t.text == "[") {
          next();
          auto e = make(Expr::Kind::kList, t.offset);
          while (!is_op(cur(), "]")) {
            if (!e->args.empty()) expect_op(",");
            if (is_op(cur(), "]")) break;
            e->args.push_back(parse_expression(true));
          }
          expect_op("]");
          return e;
        }
        if (t.text == "{") {
          next();
          auto e = make(Expr::Kind::kDict, t.offset);
          while (!is_op(cur(), "}")) {
            if (!e->args.empty()) expect_op(",");
            if (is_op(cur(), "}")) break;
            e->args.push_back(parse_expression(true));
            expect_op(":");
            e->args.push_back(parse_expression(true));
          }
          expect_op("}");
          return e;
        }
        break;
      default: break;
    }
    error(t, "unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const Token& t = cur();
      if (is_op(t, ".")) {
        next();
        if (cur().type == TokenType::kInt) {
          auto e = make(Expr::Kind::kGetItem, t.offset);
          auto idx = make(Expr::Kind::kLiteral, cur().offset);
          idx->literal = Value(next().int_value);
          e->args.push_back(std::move(node));
          e->args.push_back(std::move(idx));
          node = std::move(e);
        } else {
          auto e = make(Expr::Kind::kGetAttr, t.offset);
          e->name = expect_name();
          e->args.push_back(std::move(node));
          node = std::move(e);
        }
      } else if (is_op(t, "[")) {
        next();
        node = parse_subscript(std::move(node), t.offset);
      } else if (is_op(t, "(")) {
        auto e = make(Expr::Kind::kCall, t.offset);
        e->args.push_back(std::move(node));
        parse_call_args(*e);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj, size_t offset) {
    ExprPtr parts[3];
    int colons = 0;
    if (!is_op(cur(), ":")) parts[0] = parse_expression(true);
    while (colons < 2 && accept_op(":")) {
      ++colons;
      if (!is_op(cur(), ":") && !is_op(cur(), "]")) parts[colons] = parse_expression(true);
    }
    expect_op("]");
    auto e = make(colons == 0 ? Expr::Kind::kGetItem : Expr::Kind::kSlice, offset);
    e->args.push_back(std::move(obj));
    if (colons == 0) {
      e->args.push_back(std::move(parts[0]));
    } else {
      for (auto& p : parts) e->args.push_back(std::move(p));
    }
    return e;
  }

  // ( args, name=value ) into e.args (after what it already holds) and e.kwargs.
  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(cur(), ")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(cur(), ")")) break;
      if (is_op(cur(), "*") || is_op(cur(), "**")) error(cur(), "*args and **kwargs are not supported");
      if (cur().type == TokenType::kName && is_op(peek(), "=")) {
        std::string key = next().text;
        next();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!e.kwargs.empty()) error(cur(), "positional argument after keyword argument");
        e.args.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  // Filters `| name(args)` and tests `is [not] name args`; `require_pipe` false for
  // {% filter name %} where the first filter has no pipe.
  ExprPtr parse_filter_chain(ExprPtr node, bool require_pipe = true) {
    bool first = true;
    while (true) {
      const Token& t = cur();
      if ((!require_pipe && first) || is_op(t, "|")) {
        if (require_pipe || !first) next();
        first = false;
        auto e = make(Expr::Kind::kFilter, t.offset);
        e->name = expect_name();
        while (accept_op(".")) e->name += "." + expect_name();
        e->args.push_back(std::move(node));
        if (is_op(cur(), "(")) parse_call_args(*e);
        node = std::move(e);
      } else if (is_name(t, "is")) {
        next();
        auto e = make(Expr::Kind::kTest, t.offset);
        e->negated = accept_name("not");
        e->name = expect_name();
        e->args.push_back(std::move(node));
        if (is_op(cur(), "(")) {
          parse_call_args(*e);
        } else if (starts_test_arg(cur())) {
          e->args.push_back(parse_postfix(parse_primary()));
        }
        node = std::move(e);
      } else if (is_op(t, "(")) {
        auto e = make(Expr::Kind::kCall, t.offset);
        e->args.push_back(std::move(node));
        parse_call_args(*e);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  bool starts_test_arg(const Token& t) const {
    if (t.type == TokenType::kName) {
      return t.text != "else" && t.text != "or" && t.text != "and" && t.text != "is" &&
             t.text != "if" && t.text != "in" && t.text != "not";
    }
    if (t.type == TokenType::kString || t.type == TokenType::kInt || t.type == TokenType::kFloat) {
      return true;
    }
    return is_op(t, "[") || is_op(t, "{");
  }

  const std::vector<Token>& toks_;
  const SourceMap& map_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const SourceMap& map) {
  return Parser(tokens, map).parse_template();
}

}  // namespace pareto::chat_template
