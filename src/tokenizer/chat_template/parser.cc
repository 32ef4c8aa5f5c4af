#include "tokenizer/chat_template/parser.h"

#include <string_view>

#include "tokenizer/chat_template/parser_impl.h"

namespace pareto::chat_template {

Body Parser::parse_body(std::initializer_list<const char*> end_names) {
  DepthGuard guard(*this);
  Body body;
  while (true) {
    const Token& t = cur();
    if (t.type == TokenType::kEof) {
      if (end_names.size() != 0) {
        const char* closing = *end_names.begin();
        for (const char* name : end_names) {
          if (std::string_view(name).substr(0, 3) == "end") closing = name;
        }
        error(t, std::string("unexpected end of template, expected '") + closing + "'");
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
void Parser::take_tag(const char* name) {
  next();  // {%
  if (!accept_name(name)) error(cur(), std::string("expected '") + name + "'");
}

StmtPtr Parser::parse_statement() {
  const Token& tag = next();
  auto s = std::make_unique<Stmt>();
  s->offset = tag.offset;
  const std::string& n = tag.text;
  if (n == "if") {
    s->kind = Stmt::Kind::kIf;
    s->conditions.push_back(parse_expression(false));
    expect_body_start();
    while (true) {
      s->bodies.push_back(parse_body({"elif", "else", "endif"}));
      const std::string which = peek().text;
      take_tag(which.c_str());
      if (which == "elif") {
        s->conditions.push_back(parse_expression(false));
        expect_body_start();
      } else if (which == "else") {
        expect_body_start();
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
    expect_body_start();
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"});
    --loop_depth_;
    if (is_name(peek(), "else")) {
      take_tag("else");
      expect_body_start();
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
      expect_body_start();
      s->body = parse_body({"endset"});
      take_tag("endset");
      expect_block_end();
    }
  } else if (n == "macro") {
    s->kind = Stmt::Kind::kMacro;
    s->text = expect_name();
    s->params = parse_params();
    expect_body_start();
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
    expect_body_start();
    s->body = parse_body({"endcall"});
    take_tag("endcall");
    expect_block_end();
  } else if (n == "filter") {
    s->kind = Stmt::Kind::kFilterBlock;
    s->expr = parse_filter_chain(make(Expr::Kind::kBlockInput, s->offset), false);
    expect_body_start();
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
    expect_body_start();
    s->body = parse_body({n == "block" ? "endblock" : "endgeneration"});
    take_tag(n == "block" ? "endblock" : "endgeneration");
    if (cur().type == TokenType::kName) next();
    expect_block_end();
  } else {
    error(tag, "unknown or unsupported tag '" + n + "'");
  }
  return s;
}

Target Parser::parse_target(bool allow_attr) {
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

std::vector<MacroParam> Parser::parse_params() {
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

Body parse(const std::vector<Token>& tokens, const SourceMap& map) {
  return Parser(tokens, map).parse_template();
}

}  // namespace pareto::chat_template
