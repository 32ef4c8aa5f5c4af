// Python arithmetic, membership and %-formatting on interpreter values.
#include <cmath>
#include <cstdio>

#include "tokenizer/chat_template/builtins.h"

namespace pareto::chat_template {

namespace {

[[noreturn]] void unsupported(Interpreter& in, const std::string& op, const Value& a,
                              const Value& b) {
  if (a.is_undefined()) in.fail(a.undefined_hint());
  if (b.is_undefined()) in.fail(b.undefined_hint());
  if (op == "+" && a.is_string()) {
    in.fail(std::string("can only concatenate str (not \"") + b.type_name() + "\") to str");
  }
  in.fail("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
          b.type_name() + "'");
}

Value repeat(Interpreter& in, const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(times) > (1u << 30) / s.size()) {
      in.check_size(SIZE_MAX);
    }
    in.check_size(s.size() * static_cast<size_t>(times));
    in.charge(s.size() * static_cast<size_t>(times) / 64);
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value(std::move(out));
  }
  const List* l = seq.as_list();
  in.charge(static_cast<uint64_t>(times) * l->items.size());
  List* out = in.new_list();
  out->is_tuple = l->is_tuple;
  for (int64_t i = 0; i < times; ++i)
    out->items.insert(out->items.end(), l->items.begin(), l->items.end());
  return Value(out);
}

double floor_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

Value arithmetic(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && !a.is_float() && !b.is_float();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.to_int(), b.to_int(), &r)) in.fail("integer overflow");
      return Value(r);
    }
    if (nums) return Value(a.to_double() + b.to_double());
    if (a.is_string() && b.is_string()) {
      in.check_size(a.as_string().size() + b.as_string().size());
      in.charge((a.as_string().size() + b.as_string().size()) / 64);
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.as_list()->is_tuple == b.as_list()->is_tuple) {
      List* l = in.new_list();
      l->is_tuple = a.as_list()->is_tuple;
      in.charge(a.as_list()->items.size() + b.as_list()->items.size());
      l->items = a.as_list()->items;
      l->items.insert(l->items.end(), b.as_list()->items.begin(), b.as_list()->items.end());
      return Value(l);
    }
    unsupported(in, op, a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.to_int(), b.to_int(), &r)) in.fail("integer overflow");
      return Value(r);
    }
    if (nums) return Value(a.to_double() - b.to_double());
    unsupported(in, op, a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.to_int(), b.to_int(), &r)) in.fail("integer overflow");
      return Value(r);
    }
    if (nums) return Value(a.to_double() * b.to_double());
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool()))
      return repeat(in, a, b.to_int());
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool()))
      return repeat(in, b, a.to_int());
    unsupported(in, op, a, b);
  }
  if (op == "/") {
    if (!nums) unsupported(in, op, a, b);
    if (b.to_double() == 0.0) in.fail("division by zero");
    return Value(a.to_double() / b.to_double());
  }
  if (op == "//") {
    if (!nums) unsupported(in, op, a, b);
    if (b.to_double() == 0.0) in.fail("integer division or modulo by zero");
    if (ints) {
      const int64_t x = a.to_int(), y = b.to_int();
      if (x == INT64_MIN && y == -1) in.fail("integer overflow");
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return Value(q);
    }
    return Value(std::floor(a.to_double() / b.to_double()));
  }
  if (op == "%") {
    if (a.is_string()) {
      std::vector<Value> args;
      if (b.is_list() && b.as_list()->is_tuple) {
        args = b.as_list()->items;
      } else {
        args.push_back(b);
      }
      return Value(percent_format(in, a.as_string(), args));
    }
    if (!nums) unsupported(in, op, a, b);
    if (b.to_double() == 0.0) in.fail("integer division or modulo by zero");
    if (ints) {
      const int64_t x = a.to_int(), y = b.to_int();
      if (y == -1) return Value(int64_t{0});
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value(m);
    }
    return Value(floor_mod(a.to_double(), b.to_double()));
  }
  if (op == "**") {
    if (!nums) unsupported(in, op, a, b);
    if (ints && b.to_int() >= 0) {
      int64_t base = a.to_int(), e = b.to_int(), r = 1;
      while (e > 0) {
        if ((e & 1) && __builtin_mul_overflow(r, base, &r)) in.fail("integer overflow");
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) in.fail("integer overflow");
      }
      return Value(r);
    }
    if (a.to_double() == 0.0 && b.to_double() < 0)
      in.fail("0.0 cannot be raised to a negative power");
    return Value(std::pow(a.to_double(), b.to_double()));
  }
  in.fail("unknown operator " + op);
}

bool contains(Interpreter& in, const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!item.is_string()) {
        in.fail(std::string("'in <string>' requires string as left operand, not ") +
                item.type_name());
      }
      in.charge((container.as_string().size() / 64 + 1) * (item.as_string().size() / 64 + 1));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      in.charge(container.as_list()->items.size());
      for (const auto& v : container.as_list()->items) {
        if (equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      if (item.is_list() || item.is_dict())
        in.fail(std::string("unhashable type: '") + item.type_name() + "'");
      return container.as_dict()->find(item) != nullptr;
    default:
      in.fail(std::string("argument of type '") + container.type_name() + "' is not iterable");
  }
}

std::string percent_format(Interpreter& in, const std::string& fmt,
                           const std::vector<Value>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) in.fail("incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    // Flags, width and precision, passed through to snprintf for numbers.
    std::string spec = "%";
    while (i < fmt.size() && std::string_view("-+ 0#").find(fmt[i]) != std::string_view::npos)
      spec += fmt[i++];
    while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9' && spec.size() < 8) spec += fmt[i++];
    if (i < fmt.size() && fmt[i] == '.') {
      spec += fmt[i++];
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9' && spec.size() < 12) spec += fmt[i++];
    }
    if (i >= fmt.size()) in.fail("incomplete format");
    const char conv = fmt[i];
    if (next >= args.size()) in.fail("not enough arguments for format string");
    const Value& v = args[next++];
    char buf[128];
    switch (conv) {
      case 's':
      case 'r': {
        std::string text = conv == 's' ? to_str(v) : to_repr(v);
        // Width (and '-' for left alignment) pad to code points, as Python does.
        size_t width = 0;
        for (char c : spec) {
          if (c >= '0' && c <= '9') width = width * 10 + static_cast<size_t>(c - '0');
          if (c == '.') break;
        }
        const size_t len = utf8_length(text);
        const bool left = spec.find('-') != std::string::npos;
        if (len < width) {
          text = left ? text + std::string(width - len, ' ') : std::string(width - len, ' ') + text;
        }
        out += text;
        break;
      }
      case 'd':
      case 'i':
        if (!v.is_number())
          in.fail(std::string("%d format: a real number is required, not ") + v.type_name());
        std::snprintf(
            buf, sizeof(buf), (spec + "lld").c_str(),
            static_cast<long long>(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.to_int()));
        out += buf;
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'g':
        if (!v.is_number()) in.fail(std::string("must be real number, not ") + v.type_name());
        std::snprintf(buf, sizeof(buf), (spec + conv).c_str(), v.to_double());
        out += buf;
        break;
      default:
        in.fail(std::string("unsupported format character '") + conv + "'");
    }
    in.check_size(out.size());
  }
  if (next < args.size()) in.fail("not all arguments converted during string formatting");
  return out;
}

}  // namespace pareto::chat_template
