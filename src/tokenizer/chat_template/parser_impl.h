// The parser's class, shared by parser.cc (statements) and parse_expression.cc (expressions).
// Internal to the chat-template interpreter.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "tokenizer/chat_template/parser.h"

namespace pareto::chat_template {

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
  // The end of a tag that opens a body: Jinja2 allows a colon first (`{% if x: %}`).
  void expect_body_start() {
    accept_op(":");
    expect_block_end();
  }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case TokenType::kText:
        return "template data";
      case TokenType::kVarBegin:
        return "'{{'";
      case TokenType::kVarEnd:
        return "end of print statement";
      case TokenType::kBlockBegin:
        return "'{%'";
      case TokenType::kBlockEnd:
        return "end of statement block";
      case TokenType::kString:
        return "string";
      case TokenType::kInt:
      case TokenType::kFloat:
        return "number";
      case TokenType::kEof:
        return "end of template";
      default:
        return "'" + t.text + "'";
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

  // ---- statements (parser.cc) ----
  Body parse_body(std::initializer_list<const char*> end_names);
  // At `{%` NAME of an expected end tag: consumes `{% name`.
  void take_tag(const char* name);
  StmtPtr parse_statement();
  Target parse_target(bool allow_attr);
  std::vector<MacroParam> parse_params();

  // ---- expressions (parse_expression.cc) ----
  // expr [, expr ...] : several make a tuple. `with_condexpr` false: no top-level `x if c else y`.
  ExprPtr parse_tuple(bool with_condexpr = true);
  bool starts_expression(const Token& t) const;
  ExprPtr parse_expression(bool with_condexpr);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, size_t offset);
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr obj, size_t offset);
  // ( args, name=value ) into e.args (after what it already holds) and e.kwargs.
  void parse_call_args(Expr& e);
  // Filters `| name(args)` and tests `is [not] name args`; `require_pipe` false for
  // {% filter name %} where the first filter has no pipe.
  ExprPtr parse_filter_chain(ExprPtr node, bool require_pipe = true);
  bool starts_test_arg(const Token& t) const;
  const std::vector<Token>& toks_;
  const SourceMap& map_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace pareto::chat_template
