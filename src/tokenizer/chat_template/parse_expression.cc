// Expressions: Jinja2's precedence climbing, postfix access, calls, filters and tests.
#include "tokenizer/chat_template/parser_impl.h"

namespace pareto::chat_template {

// expr [, expr ...] : several make a tuple. `with_condexpr` false: no top-level `x if c else y`.
ExprPtr Parser::parse_tuple(bool with_condexpr) {
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

bool Parser::starts_expression(const Token& t) const {
  switch (t.type) {
    case TokenType::kName:
    case TokenType::kString:
    case TokenType::kInt:
    case TokenType::kFloat:
      return true;
    case TokenType::kOperator:
      return t.text == "(" || t.text == "[" || t.text == "{" || t.text == "-" || t.text == "+";
    default:
      return false;
  }
}

ExprPtr Parser::parse_expression(bool with_condexpr) {
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

ExprPtr Parser::parse_or() {
  ExprPtr left = parse_and();
  while (is_name(cur(), "or")) {
    auto e = make(Expr::Kind::kOr, next().offset);
    e->args.push_back(std::move(left));
    e->args.push_back(parse_and());
    left = std::move(e);
  }
  return left;
}

ExprPtr Parser::parse_and() {
  ExprPtr left = parse_not();
  while (is_name(cur(), "and")) {
    auto e = make(Expr::Kind::kAnd, next().offset);
    e->args.push_back(std::move(left));
    e->args.push_back(parse_not());
    left = std::move(e);
  }
  return left;
}

ExprPtr Parser::parse_not() {
  if (is_name(cur(), "not")) {
    DepthGuard guard(*this);
    auto e = make(Expr::Kind::kNot, next().offset);
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  const size_t offset = cur().offset;
  ExprPtr first = parse_math1();
  ExprPtr cmp;
  while (true) {
    std::string op;
    const Token& t = cur();
    if (t.type == TokenType::kOperator && (t.text == "==" || t.text == "!=" || t.text == "<" ||
                                           t.text == "<=" || t.text == ">" || t.text == ">=")) {
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

ExprPtr Parser::binary(const std::string& op, ExprPtr left, ExprPtr right, size_t offset) {
  auto e = make(Expr::Kind::kBinary, offset);
  e->name = op;
  e->args.push_back(std::move(left));
  e->args.push_back(std::move(right));
  return e;
}

ExprPtr Parser::parse_math1() {
  ExprPtr left = parse_concat();
  while (is_op(cur(), "+") || is_op(cur(), "-")) {
    const Token& op = next();
    left = binary(op.text, std::move(left), parse_concat(), op.offset);
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  ExprPtr left = parse_math2();
  while (is_op(cur(), "~")) {
    const Token& op = next();
    left = binary("~", std::move(left), parse_math2(), op.offset);
  }
  return left;
}

ExprPtr Parser::parse_math2() {
  ExprPtr left = parse_pow();
  while (is_op(cur(), "*") || is_op(cur(), "/") || is_op(cur(), "//") || is_op(cur(), "%")) {
    const Token& op = next();
    left = binary(op.text, std::move(left), parse_pow(), op.offset);
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  ExprPtr left = parse_unary(true);
  while (is_op(cur(), "**")) {
    const Token& op = next();
    left = binary("**", std::move(left), parse_unary(true), op.offset);
  }
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_primary() {
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
    default:
      break;
  }
  error(t, "unexpected " + describe(t));
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
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

ExprPtr Parser::parse_subscript(ExprPtr obj, size_t offset) {
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
void Parser::parse_call_args(Expr& e) {
  expect_op("(");
  bool first = true;
  while (!is_op(cur(), ")")) {
    if (!first) expect_op(",");
    first = false;
    if (is_op(cur(), ")")) break;
    if (is_op(cur(), "*") || is_op(cur(), "**"))
      error(cur(), "*args and **kwargs are not supported");
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
ExprPtr Parser::parse_filter_chain(ExprPtr node, bool require_pipe) {
  bool first = true;
  while (true) {
    const Token& t = cur();
    if ((!require_pipe && first) || is_op(t, "|")) {
      if (require_pipe || !first) next();
      first = false;
      auto e = make(Expr::Kind::kFilter, t.offset);
      e->name = expect_name();
      while (accept_op(".")) {
        e->name += '.';
        e->name += expect_name();
      }
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

bool Parser::starts_test_arg(const Token& t) const {
  if (t.type == TokenType::kName) {
    return t.text != "else" && t.text != "or" && t.text != "and" && t.text != "is" &&
           t.text != "if" && t.text != "in" && t.text != "not";
  }
  if (t.type == TokenType::kString || t.type == TokenType::kInt || t.type == TokenType::kFloat) {
    return true;
  }
  return is_op(t, "[") || is_op(t, "{");
}

}  // namespace pareto::chat_template
