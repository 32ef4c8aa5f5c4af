// The syntax tree of a parsed template: expressions and statements. Built once by the parser,
// read-only afterwards (a ChatTemplate can render from several threads at once).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template/value.h"

namespace pareto::chat_template {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Expr {
  enum class Kind {
    kLiteral,     // literal (a scalar Value)
    kName,        // name
    kList,        // [args...]
    kTuple,       // (args...)
    kDict,        // {args[0]: args[1], ...} (keys and values interleaved)
    kGetAttr,     // args[0].name
    kGetItem,     // args[0][args[1]]
    kSlice,       // args[0][args[1]:args[2]:args[3]] (missing parts are null)
    kCall,        // args[0](args[1..], kwargs)
    kFilter,      // args[0] | name(args[1..], kwargs)
    kTest,        // args[0] is [not] name(args[1..], kwargs); negated
    kNeg,         // -args[0]
    kPos,         // +args[0]
    kNot,         // not args[0]
    kBinary,      // args[0] op args[1] for + - * / // % ** ~
    kAnd,         // args[0] and args[1]
    kOr,          // args[0] or args[1]
    kCompare,     // args[0] ops[0] args[1] ops[1] args[2] ... (== != < <= > >= in notin)
    kCondition,   // args[1] if args[0] else args[2] (args[2] may be null)
    kBlockInput,  // the rendered body of a {% filter %} block
  };
  Kind kind;
  size_t offset = 0;  // into the normalized source, for messages
  Value literal;
  std::string name;  // name, attribute, filter or test name, binary operator
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // kCompare
  bool negated = false;          // kTest
};

// A target of set/for: a plain name, a tuple of names, or namespace.attr.
struct Target {
  std::vector<std::string> names;  // one name, or several for tuple unpacking
  bool is_tuple = false;
  std::string attr;  // non-empty for `ns.attr`: names[0] is the namespace
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // conditions[i] -> bodies[i]; else_body
    kFor,          // for target in expr [if cond]: body; else_body
    kSet,          // target = expr
    kSetBlock,     // {% set target %}body{% endset %}, optional filter (expr with kBlockInput)
    kMacro,        // name(params): body
    kCallBlock,    // {% call(params) expr %}body{% endcall %}
    kFilterBlock,  // {% filter ... %}body{% endfilter %}: expr applied to the body
    kDo,           // {% do expr %}
    kBreak,
    kContinue,
    kScope,  // a body rendered as is ({% generation %})
  };
  Kind kind;
  size_t offset = 0;
  std::string text;  // kText; macro name
  ExprPtr expr;      // output, for iterable, set value, call, filter, do
  ExprPtr cond;      // for ... if cond
  Target target;
  std::vector<ExprPtr> conditions;  // kIf
  std::vector<Body> bodies;         // kIf
  Body body;
  Body else_body;
  std::vector<MacroParam> params;  // kMacro, kCallBlock (caller params)
};

}  // namespace pareto::chat_template
