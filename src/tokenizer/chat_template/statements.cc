// Statements: output, if, for (loop variables, filters, else), set (names, tuples, namespace
// attributes, blocks), macros and call blocks, filter blocks, do, break and continue.
#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/interpreter.h"

namespace pareto::chat_template {

Interpreter::Flow Interpreter::exec_body(const Body& body, Scope& scope, std::string& out) {
  for (const auto& s : body) {
    const Flow flow = exec(*s, scope, out);
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, Scope& scope, std::string& out) {
  charge(1);
  pos_ = s.offset;
  switch (s.kind) {
    case Stmt::Kind::kText:
      append(out, s.text);
      break;
    case Stmt::Kind::kOutput: {
      const Value v = eval(*s.expr, scope);
      if (v.is_string()) {
        append(out, v.as_string());
      } else {
        append(out, to_str(v));
      }
      break;
    }
    case Stmt::Kind::kIf:
      for (size_t i = 0; i < s.conditions.size(); ++i) {
        if (eval(*s.conditions[i], scope).truthy()) return exec_body(s.bodies[i], scope, out);
      }
      return exec_body(s.else_body, scope, out);
    case Stmt::Kind::kFor:
      exec_for(s, scope, out);
      break;
    case Stmt::Kind::kSet:
      exec_set(s, scope);
      break;
    case Stmt::Kind::kSetBlock: {
      std::string text;
      exec_body(s.body, scope, text);
      Value v(std::move(text));
      if (s.expr) {
        const Value* saved = block_input_;
        block_input_ = &v;
        Value filtered = eval(*s.expr, scope);
        block_input_ = saved;
        v = std::move(filtered);
      }
      assign(s.target, std::move(v), scope);
      break;
    }
    case Stmt::Kind::kMacro:
      define_macro(s, scope);
      break;
    case Stmt::Kind::kCallBlock:
      exec_call_block(s, scope, out);
      break;
    case Stmt::Kind::kFilterBlock: {
      std::string text;
      exec_body(s.body, scope, text);
      const Value v(std::move(text));
      const Value* saved = block_input_;
      block_input_ = &v;
      const Value filtered = eval(*s.expr, scope);
      block_input_ = saved;
      append(out, to_str(filtered));
      break;
    }
    case Stmt::Kind::kDo:
      eval(*s.expr, scope);
      break;
    case Stmt::Kind::kBreak:
      return Flow::kBreak;
    case Stmt::Kind::kContinue:
      return Flow::kContinue;
    case Stmt::Kind::kScope:
      return exec_body(s.body, scope, out);
  }
  return Flow::kNormal;
}

void Interpreter::exec_for(const Stmt& s, Scope& scope, std::string& out) {
  std::vector<Value> items = iterate(eval(*s.expr, scope));
  if (s.cond) {
    std::vector<Value> kept;
    for (auto& item : items) {
      charge(1);
      Scope test{&scope, {}};
      assign(s.target, item, test);
      if (eval(*s.cond, test).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec_body(s.else_body, scope, out);
    return;
  }
  const int64_t n = static_cast<int64_t>(items.size());
  Dict* loop = new_dict();
  int64_t current = 0;
  Callable* cycle = new_callable("cycle", [&current](Interpreter& in, CallArgs& args) -> Value {
    if (args.positional.empty()) in.fail("no items for cycling given");
    return args.positional[static_cast<size_t>(current) % args.positional.size()];
  });
  // Fixed entries first, then the per-iteration ones, updated in place by position.
  loop->set(Value("length"), Value(n));
  loop->set(Value("depth"), Value(1));
  loop->set(Value("depth0"), Value(0));
  loop->set(Value("cycle"), Value(cycle));
  const size_t first_slot = loop->size();
  for (const char* key :
       {"index", "index0", "revindex", "revindex0", "first", "last", "previtem", "nextitem"}) {
    loop->set(Value(key), Value());
  }
  for (int64_t i = 0; i < n; ++i) {
    charge(1);
    current = i;
    loop->value_at(first_slot + 0) = Value(i + 1);
    loop->value_at(first_slot + 1) = Value(i);
    loop->value_at(first_slot + 2) = Value(n - i);
    loop->value_at(first_slot + 3) = Value(n - i - 1);
    loop->value_at(first_slot + 4) = Value(i == 0);
    loop->value_at(first_slot + 5) = Value(i == n - 1);
    loop->value_at(first_slot + 6) =
        i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item");
    loop->value_at(first_slot + 7) =
        i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item");
    Scope iter{&scope, {}};
    iter.set("loop", Value(loop));
    assign(s.target, items[static_cast<size_t>(i)], iter);
    if (exec_body(s.body, iter, out) == Flow::kBreak) break;
  }
  // The loop ends here: a stored loop.cycle must not reach back into this frame.
  cycle->fn = [](Interpreter& in, CallArgs&) -> Value {
    in.fail("loop.cycle used after its loop");
  };
}

void Interpreter::exec_set(const Stmt& s, Scope& scope) {
  assign(s.target, eval(*s.expr, scope), scope);
}

void Interpreter::assign(const Target& target, Value value, Scope& scope) {
  if (!target.attr.empty()) {
    const Value ns = lookup(target.names[0], scope);
    if (!ns.is_dict() || !ns.as_dict()->is_namespace) {
      fail("can only assign attributes of a namespace() object, and '" + target.names[0] +
           "' is not one");
    }
    ns.as_dict()->set(Value(target.attr), std::move(value));
    return;
  }
  if (!target.is_tuple) {
    scope.set(target.names[0], std::move(value));
    return;
  }
  const std::vector<Value> items = iterate(value);
  if (items.size() != target.names.size()) {
    fail(items.size() > target.names.size()
             ? "too many values to unpack (expected " + std::to_string(target.names.size()) + ")"
             : "not enough values to unpack (expected " + std::to_string(target.names.size()) +
                   ", got " + std::to_string(items.size()) + ")");
  }
  for (size_t i = 0; i < items.size(); ++i) scope.set(target.names[i], items[i]);
}

void Interpreter::define_macro(const Stmt& s, Scope& scope) {
  const Stmt* macro = &s;
  Callable* fn = new_callable(s.text, [macro](Interpreter& in, CallArgs& args) {
    return in.call_macro(*macro, args, Value::undefined("'caller' is undefined"));
  });
  scope.set(s.text, Value(fn));
}

Value Interpreter::call_macro(const Stmt& macro, CallArgs& args, const Value& caller) {
  if (call_depth_ >= limits_.max_call_depth) {
    fail("macro calls nested deeper than " + std::to_string(limits_.max_call_depth));
  }
  ++call_depth_;
  // Macros see their arguments, then the template's top-level variables and the globals.
  Scope local{root_, {}};
  Value caller_value = caller;
  List* varargs = new_list();
  Dict* kwargs = new_dict();
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < macro.params.size()) {
      local.set(macro.params[i].name, args.positional[i]);
    } else {
      varargs->items.push_back(args.positional[i]);
    }
  }
  for (auto& [k, v] : args.keyword) {
    bool is_param = false;
    for (const auto& p : macro.params) is_param = is_param || p.name == k;
    if (k == "caller") {
      caller_value = v;
    } else if (is_param) {
      local.set(k, v);
    } else {
      kwargs->set(Value(k), v);
    }
  }
  for (const auto& p : macro.params) {
    if (local.find_local(p.name)) continue;
    local.set(p.name, p.default_value
                          ? eval(*p.default_value, local)
                          : Value::undefined("parameter '" + p.name + "' was not provided"));
  }
  local.set("varargs", Value(varargs));
  local.set("kwargs", Value(kwargs));
  if (!caller_value.is_undefined()) local.set("caller", caller_value);
  std::string out;
  const size_t saved_pos = pos_;
  exec_body(macro.body, local, out);
  pos_ = saved_pos;
  --call_depth_;
  return Value(std::move(out));
}

void Interpreter::exec_call_block(const Stmt& s, Scope& scope, std::string& out) {
  const Stmt* block = &s;
  Scope* at = &scope;
  Callable* caller = new_callable("caller", [block, at](Interpreter& in, CallArgs& args) {
    if (in.call_depth_ >= in.limits_.max_call_depth) in.fail("caller() calls nested too deeply");
    ++in.call_depth_;
    Scope local{at, {}};
    for (size_t i = 0; i < block->params.size(); ++i) {
      const Value* v = args.get(i, block->params[i].name);
      local.set(block->params[i].name, v ? *v
                                       : block->params[i].default_value
                                           ? in.eval(*block->params[i].default_value, local)
                                           : Value::undefined("argument not provided"));
    }
    std::string text;
    in.exec_body(block->body, local, text);
    --in.call_depth_;
    return Value(std::move(text));
  });
  const Expr& call = *s.expr;
  Value callee = eval(*call.args[0], scope);
  CallArgs args;
  eval_args(call, 1, scope, args);
  const Value caller_value(caller);
  args.keyword.emplace_back("caller", caller_value);
  pos_ = call.offset;
  const Value result = this->call(callee, args);
  // The caller closes over this frame: it must not run once the block is done.
  caller->fn = [](Interpreter& in, CallArgs&) -> Value {
    in.fail("caller() used after its call block");
  };
  append(out, to_str(result));
}

}  // namespace pareto::chat_template
