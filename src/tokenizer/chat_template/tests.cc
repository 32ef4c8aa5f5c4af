// Jinja2's built-in tests (`x is defined`, `n is divisibleby 3`, ...).
#include <unordered_map>

#include "tokenizer/chat_template/builtins.h"

namespace pareto::chat_template {

namespace {

const Value& other(Interpreter& in, CallArgs& a, const char* test) {
  if (a.positional.empty()) in.fail(std::string("test '") + test + "' needs an argument");
  return a.positional[0];
}

bool t_defined(Interpreter&, const Value& v, CallArgs&) {
  return !v.is_undefined();
}
bool t_undefined(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined();
}
bool t_none(Interpreter&, const Value& v, CallArgs&) {
  return v.is_none();
}
bool t_boolean(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool();
}
bool t_true(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool() && v.as_bool();
}
bool t_false(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool() && !v.as_bool();
}
bool t_integer(Interpreter&, const Value& v, CallArgs&) {
  return v.is_int();
}
bool t_float(Interpreter&, const Value& v, CallArgs&) {
  return v.is_float();
}
bool t_number(Interpreter&, const Value& v, CallArgs&) {
  return v.is_number();
}
bool t_string(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string();
}
bool t_mapping(Interpreter&, const Value& v, CallArgs&) {
  return v.is_dict() && !v.as_dict()->is_namespace;
}
bool t_iterable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() ||
         (v.is_dict() && !v.as_dict()->is_namespace);
}
bool t_callable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_callable();
}
bool t_escaped(Interpreter&, const Value&, CallArgs&) {
  return false;
}

int64_t int_of(Interpreter& in, const Value& v, const char* test) {
  if (v.is_int() || v.is_bool()) return v.to_int();
  if (v.is_float() && v.as_float() == static_cast<double>(static_cast<int64_t>(v.as_float()))) {
    return static_cast<int64_t>(v.as_float());
  }
  in.fail(std::string("test '") + test + "' needs an integer, not " + v.type_name());
}
bool t_even(Interpreter& in, const Value& v, CallArgs&) {
  return int_of(in, v, "even") % 2 == 0;
}
bool t_odd(Interpreter& in, const Value& v, CallArgs&) {
  return int_of(in, v, "odd") % 2 != 0;
}
bool t_divisibleby(Interpreter& in, const Value& v, CallArgs& a) {
  const int64_t d = int_of(in, other(in, a, "divisibleby"), "divisibleby");
  if (d == 0) in.fail("integer division or modulo by zero");
  if (d == -1) return true;
  return int_of(in, v, "divisibleby") % d == 0;
}

bool t_eq(Interpreter& in, const Value& v, CallArgs& a) {
  return equals(v, other(in, a, "eq"));
}
bool t_ne(Interpreter& in, const Value& v, CallArgs& a) {
  return !equals(v, other(in, a, "ne"));
}
bool t_lt(Interpreter& in, const Value& v, CallArgs& a) {
  return less_than(v, other(in, a, "lt"));
}
bool t_gt(Interpreter& in, const Value& v, CallArgs& a) {
  return less_than(other(in, a, "gt"), v);
}
bool t_le(Interpreter& in, const Value& v, CallArgs& a) {
  return !less_than(other(in, a, "le"), v);
}
bool t_ge(Interpreter& in, const Value& v, CallArgs& a) {
  return !less_than(v, other(in, a, "ge"));
}
bool t_in(Interpreter& in, const Value& v, CallArgs& a) {
  return contains(in, other(in, a, "in"), v);
}

bool t_sameas(Interpreter& in, const Value& v, CallArgs& a) {
  const Value& o = other(in, a, "sameas");
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kList:
      return v.as_list() == o.as_list();
    case Value::Kind::kDict:
      return v.as_dict() == o.as_dict();
    case Value::Kind::kCallable:
      return v.as_callable() == o.as_callable();
    default:
      return equals(v, o);
  }
}

bool t_lower(Interpreter&, const Value& v, CallArgs&) {
  if (!v.is_string()) return false;
  bool cased = false;
  for (char c : v.as_string()) {
    if (c >= 'A' && c <= 'Z') return false;
    cased = cased || (c >= 'a' && c <= 'z');
  }
  return cased;
}

bool t_upper(Interpreter&, const Value& v, CallArgs&) {
  if (!v.is_string()) return false;
  bool cased = false;
  for (char c : v.as_string()) {
    if (c >= 'a' && c <= 'z') return false;
    cased = cased || (c >= 'A' && c <= 'Z');
  }
  return cased;
}

bool t_filter(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}
bool t_test(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

const std::unordered_map<std::string_view, TestFn>& registry() {
  static const std::unordered_map<std::string_view, TestFn> tests = {
      {"defined", t_defined},
      {"undefined", t_undefined},
      {"none", t_none},
      {"boolean", t_boolean},
      {"true", t_true},
      {"false", t_false},
      {"integer", t_integer},
      {"float", t_float},
      {"number", t_number},
      {"string", t_string},
      {"mapping", t_mapping},
      {"iterable", t_iterable},
      {"sequence", t_sequence},
      {"callable", t_callable},
      {"escaped", t_escaped},
      {"even", t_even},
      {"odd", t_odd},
      {"divisibleby", t_divisibleby},
      {"eq", t_eq},
      {"equalto", t_eq},
      {"==", t_eq},
      {"ne", t_ne},
      {"!=", t_ne},
      {"lt", t_lt},
      {"lessthan", t_lt},
      {"<", t_lt},
      {"le", t_le},
      {"<=", t_le},
      {"gt", t_gt},
      {"greaterthan", t_gt},
      {">", t_gt},
      {"ge", t_ge},
      {">=", t_ge},
      {"in", t_in},
      {"sameas", t_sameas},
      {"lower", t_lower},
      {"upper", t_upper},
      {"filter", t_filter},
      {"test", t_test},
  };
  return tests;
}

}  // namespace

TestFn find_test(std::string_view name) {
  const auto& r = registry();
  const auto it = r.find(name);
  return it == r.end() ? nullptr : it->second;
}

}  // namespace pareto::chat_template
