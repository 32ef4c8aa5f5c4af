#include "tokenizer/chat_template/interpreter.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/chat_template.h"

namespace pareto::chat_template {

namespace {

[[noreturn]] void undefined_error(const Value& v) {
  throw EvalError(v.undefined_hint().empty() ? "value is undefined" : v.undefined_hint());
}

std::string attr_owner(const Value& v) {
  if (v.is_none()) return "None";
  return std::string("'") + v.type_name() + " object'";
}

}  // namespace

Value* Scope::find_local(std::string_view name) {
  for (auto& [k, v] : vars) {
    if (k == name) return &v;
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value value) {
  if (Value* v = find_local(name)) {
    *v = std::move(value);
  } else {
    vars.emplace_back(name, std::move(value));
  }
}

Interpreter::Interpreter(const SourceMap& map, Limits limits) : map_(map), limits_(limits) {}

std::string Interpreter::render(const Body& body, Dict* globals) {
  globals_ = globals;
  Scope root;
  root_ = &root;
  std::string out;
  try {
    exec_body(body, root, out);
  } catch (const EvalError& e) {
    throw ChatTemplateError("chat template: " + map_.where(pos_) + ": " + e.what(), false);
  }
  root_ = nullptr;
  return out;
}

List* Interpreter::new_list() {
  if (heap_.num_objects() >= limits_.max_objects) fail("template allocates too many objects");
  return heap_.new_list();
}

Dict* Interpreter::new_dict() {
  if (heap_.num_objects() >= limits_.max_objects) fail("template allocates too many objects");
  return heap_.new_dict();
}

Callable* Interpreter::new_callable(std::string name,
                                    std::function<Value(Interpreter&, CallArgs&)> fn) {
  if (heap_.num_objects() >= limits_.max_objects) fail("template allocates too many objects");
  return heap_.new_callable(std::move(name), std::move(fn));
}

void Interpreter::charge(uint64_t units) {
  steps_ += units;
  if (steps_ > limits_.max_steps) {
    fail("template exceeded its step limit (" + std::to_string(limits_.max_steps) +
         "); is it looping without end?");
  }
}

Value Interpreter::charged(Value v) {
  charge_text(v);
  return v;
}

void Interpreter::charge_text(const Value& v) {
  if (v.is_string()) charge(v.as_string().size() / 64);
}

void Interpreter::charge_search(const Value& text, const CallArgs& args) {
  if (!text.is_string()) return;
  // Substring searches cost up to text x pattern: charge for both.
  size_t pattern = 0;
  for (const auto& a : args.positional) {
    if (a.is_string()) pattern = std::max(pattern, a.as_string().size());
  }
  charge((text.as_string().size() / 64 + 1) * (pattern / 64 + 1));
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    fail("template output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

void Interpreter::fail(const std::string& message) const {
  throw EvalError(message);
}

void Interpreter::append(std::string& out, std::string_view text) {
  check_size(out.size() + text.size());
  out += text;
}

// ---------------------------------------------------------------- expressions

Value Interpreter::lookup(const std::string& name, Scope& scope) {
  for (Scope* s = &scope; s; s = s->parent) {
    if (Value* v = s->find_local(name)) return *v;
  }
  if (const Value* v = globals_->find(std::string_view(name))) return *v;
  return Value::undefined("'" + name + "' is undefined");
}

Value Interpreter::eval(const Expr& e, Scope& scope) {
  charge(1);
  pos_ = e.offset;
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return e.literal;
    case Expr::Kind::kName:
      return lookup(e.name, scope);
    case Expr::Kind::kList:
    case Expr::Kind::kTuple: {
      List* l = new_list();
      l->is_tuple = e.kind == Expr::Kind::kTuple;
      l->items.reserve(e.args.size());
      for (const auto& a : e.args) l->items.push_back(eval(*a, scope));
      return Value(l);
    }
    case Expr::Kind::kDict: {
      Dict* d = new_dict();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i], scope);
        if (k.is_list() || k.is_dict())
          fail(std::string("unhashable type: '") + k.type_name() + "'");
        d->set(k, eval(*e.args[i + 1], scope));
      }
      return Value(d);
    }
    case Expr::Kind::kGetAttr: {
      const Value obj = eval(*e.args[0], scope);
      pos_ = e.offset;
      return getattr(obj, e.name);
    }
    case Expr::Kind::kGetItem: {
      const Value obj = eval(*e.args[0], scope);
      const Value key = eval(*e.args[1], scope);
      pos_ = e.offset;
      return getitem(obj, key);
    }
    case Expr::Kind::kSlice: {
      const Value obj = eval(*e.args[0], scope);
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        parts[i] = e.args[static_cast<size_t>(i) + 1]
                       ? eval(*e.args[static_cast<size_t>(i) + 1], scope)
                       : Value::none();
      }
      pos_ = e.offset;
      return eval_slice(obj, parts[0], parts[1], parts[2]);
    }
    case Expr::Kind::kCall:
      return eval_call(e, scope);
    case Expr::Kind::kFilter: {
      const Value input = eval(*e.args[0], scope);
      CallArgs args;
      eval_args(e, 1, scope, args);
      pos_ = e.offset;
      return apply_filter(e.name, input, args);
    }
    case Expr::Kind::kTest: {
      const Value input = eval(*e.args[0], scope);
      CallArgs args;
      eval_args(e, 1, scope, args);
      pos_ = e.offset;
      return Value(apply_test(e.name, input, args) != e.negated);
    }
    case Expr::Kind::kNeg:
    case Expr::Kind::kPos: {
      const Value v = eval(*e.args[0], scope);
      pos_ = e.offset;
      if (v.is_undefined()) undefined_error(v);
      if (!v.is_number()) {
        fail(std::string("bad operand type for unary ") + (e.kind == Expr::Kind::kNeg ? "-" : "+") +
             ": '" + v.type_name() + "'");
      }
      if (e.kind == Expr::Kind::kPos) return v.is_bool() ? Value(v.to_int()) : v;
      if (v.is_float()) return Value(-v.as_float());
      if (v.to_int() == INT64_MIN) fail("integer overflow");
      return Value(-v.to_int());
    }
    case Expr::Kind::kNot:
      return Value(!eval(*e.args[0], scope).truthy());
    case Expr::Kind::kBinary: {
      const Value a = eval(*e.args[0], scope);
      const Value b = eval(*e.args[1], scope);
      pos_ = e.offset;
      return eval_binary(e.name, a, b);
    }
    case Expr::Kind::kAnd: {
      Value a = eval(*e.args[0], scope);
      return a.truthy() ? eval(*e.args[1], scope) : a;
    }
    case Expr::Kind::kOr: {
      Value a = eval(*e.args[0], scope);
      return a.truthy() ? a : eval(*e.args[1], scope);
    }
    case Expr::Kind::kCompare: {
      Value left = eval(*e.args[0], scope);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], scope);
        pos_ = e.offset;
        if (!eval_compare(e.ops[i], left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case Expr::Kind::kCondition:
      if (eval(*e.args[0], scope).truthy()) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined(
          "the inline if-expression evaluated to false and no else section was defined");
    case Expr::Kind::kBlockInput:
      return block_input_ ? *block_input_ : Value("");
  }
  return Value();
}

void Interpreter::eval_args(const Expr& e, size_t first, Scope& scope, CallArgs& args) {
  for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], scope));
  for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v, scope));
}

Value Interpreter::eval_call(const Expr& e, Scope& scope) {
  const Expr& callee = *e.args[0];
  if (callee.kind == Expr::Kind::kGetAttr) {
    // obj.method(...): string, list and dict methods are called directly.
    const Value obj = eval(*callee.args[0], scope);
    CallArgs args;
    eval_args(e, 1, scope, args);
    pos_ = e.offset;
    Value result;
    charge_search(obj, args);
    if (call_method(*this, obj, callee.name, args, result)) return charged(std::move(result));
    return charged(call(getattr(obj, callee.name), args));
  }
  const Value fn = eval(callee, scope);
  CallArgs args;
  eval_args(e, 1, scope, args);
  pos_ = e.offset;
  return charged(call(fn, args));
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) undefined_error(callee);
  if (!callee.is_callable())
    fail(std::string("'") + callee.type_name() + "' object is not callable");
  charge(1);
  return callee.as_callable()->fn(*this, args);
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_dict()) {
    Dict* d = obj.as_dict();
    if (!d->is_namespace && has_method(obj, name)) return bound_method(*this, obj, name);
    if (const Value* v = d->find(std::string_view(name))) return *v;
  } else if (has_method(obj, name)) {
    return bound_method(*this, obj, name);
  }
  return Value::undefined(attr_owner(obj) + " has no attribute '" + name + "'");
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict()->find(key)) return *v;
    if (key.is_string()) return getattr(obj, key.as_string());
    return Value::undefined(attr_owner(obj) + " has no element " + to_repr(key));
  }
  charge_text(obj);
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.to_int();
    if (obj.is_list()) {
      const auto& items = obj.as_list()->items;
      const int64_t n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
    } else {
      const std::vector<uint32_t> cps = decode_utf8(obj.as_string());
      const int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n)
        return Value(encode_utf8(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
    }
    return Value::undefined(attr_owner(obj) + " has no element " + std::to_string(key.to_int()));
  }
  if (key.is_string()) return getattr(obj, key.as_string());
  return Value::undefined(attr_owner(obj) + " has no element " + to_repr(key));
}

Value Interpreter::eval_slice(const Value& obj, const Value& start, const Value& stop,
                              const Value& step) {
  if (obj.is_undefined()) undefined_error(obj);
  auto index_of = [&](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    if (!v.is_int() && !v.is_bool())
      fail(std::string("slice ") + what + " must be an integer or None");
    return v.to_int();
  };
  const std::optional<int64_t> a = index_of(start, "start");
  const std::optional<int64_t> b = index_of(stop, "stop");
  const int64_t st = index_of(step, "step").value_or(1);
  if (st == 0) fail("slice step cannot be zero");
  charge_text(obj);
  std::vector<uint32_t> cps;
  int64_t n = 0;
  if (obj.is_list()) {
    n = static_cast<int64_t>(obj.as_list()->items.size());
  } else if (obj.is_string()) {
    cps = decode_utf8(obj.as_string());
    n = static_cast<int64_t>(cps.size());
  } else {
    fail(std::string("'") + obj.type_name() + "' object is not subscriptable");
  }
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x = std::max<int64_t>(x + n, st < 0 ? -1 : 0);
    return std::min<int64_t>(x, st < 0 ? n - 1 : n);
  };
  const int64_t lo = clamp(a, st < 0 ? n - 1 : 0);
  const int64_t hi = clamp(b, st < 0 ? -1 : n);
  std::vector<size_t> picks;
  for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) picks.push_back(static_cast<size_t>(i));
  charge(picks.size());
  if (obj.is_list()) {
    List* l = new_list();
    l->is_tuple = obj.as_list()->is_tuple;
    for (size_t i : picks) l->items.push_back(obj.as_list()->items[i]);
    return Value(l);
  }
  std::string s;
  for (size_t i : picks) s += encode_utf8(cps, i, i + 1);
  return Value(std::move(s));
}

std::vector<Value> Interpreter::iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      charge(v.as_list()->items.size());
      return v.as_list()->items;
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& [k, val] : v.as_dict()->entries()) keys.push_back(k);
      charge(keys.size());
      return keys;
    }
    case Value::Kind::kString: {
      const std::vector<uint32_t> cps = decode_utf8(v.as_string());
      charge(cps.size());
      std::vector<Value> chars;
      chars.reserve(cps.size());
      for (size_t i = 0; i < cps.size(); ++i) chars.emplace_back(encode_utf8(cps, i, i + 1));
      return chars;
    }
    default:
      fail(std::string("'") + v.type_name() + "' object is not iterable");
  }
}

Value Interpreter::get_path(const Value& obj, const Value& path) {
  if (!path.is_string()) return getitem(obj, path);
  Value cur = obj;
  const std::string& p = path.as_string();
  size_t start = 0;
  while (true) {
    const size_t dot = p.find('.', start);
    const std::string part =
        p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && part.size() < 18;
    for (char c : part) numeric = numeric && c >= '0' && c <= '9';
    cur = numeric ? getitem(cur, Value(static_cast<int64_t>(std::stoll(part))))
                  : getitem(cur, Value(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value Interpreter::apply_filter(const std::string& name, const Value& input, CallArgs& args) {
  const FilterFn fn = find_filter(name);
  if (!fn) fail("no filter named '" + name + "'");
  charge_search(input, args);
  return charged(fn(*this, input, args));
}

bool Interpreter::apply_test(const std::string& name, const Value& input, CallArgs& args) {
  const TestFn fn = find_test(name);
  if (!fn) fail("no test named '" + name + "'");
  return fn(*this, input, args);
}

bool Interpreter::eval_compare(const std::string& op, const Value& a, const Value& b) {
  charge_text(a);
  charge_text(b);
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "<") return less_than(a, b);
  if (op == ">") return less_than(b, a);
  if (op == "<=") return !less_than(b, a);
  if (op == ">=") return !less_than(a, b);
  const bool in = contains(*this, b, a);
  return op == "in" ? in : !in;
}

Value Interpreter::eval_binary(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = to_str(a);
    check_size(s.size() + (b.is_string() ? b.as_string().size() : 0));
    s += to_str(b);
    check_size(s.size());
    charge(s.size() / 64);
    return Value(std::move(s));
  }
  return charged(arithmetic(*this, op, a, b));
}

}  // namespace pareto::chat_template
