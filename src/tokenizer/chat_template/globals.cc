// Global functions of the template environment: Jinja2's range, dict, namespace, joiner, and
// Hugging Face's raise_exception and strftime_now.
#include <ctime>

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/chat_template.h"

namespace pareto::chat_template {

namespace {

// Jinja2's sandbox refuses larger ranges (MAX_RANGE); so do we.
constexpr int64_t kMaxRange = 100000;

Value g_range(Interpreter& in, CallArgs& a) {
  if (!a.keyword.empty()) in.fail("range() takes no keyword arguments");
  if (a.positional.empty() || a.positional.size() > 3) in.fail("range expected 1 to 3 arguments");
  for (const auto& v : a.positional) {
    if (!v.is_int() && !v.is_bool()) {
      in.fail(std::string("'") + v.type_name() + "' object cannot be interpreted as an integer");
    }
  }
  int64_t start = 0, stop, step = 1;
  if (a.positional.size() == 1) {
    stop = a.positional[0].to_int();
  } else {
    start = a.positional[0].to_int();
    stop = a.positional[1].to_int();
    if (a.positional.size() == 3) step = a.positional[2].to_int();
  }
  if (step == 0) in.fail("range() arg 3 must not be zero");
  // Count without overflow: the distance in unsigned arithmetic.
  uint64_t count = 0;
  if (step > 0 && start < stop) {
    count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) /
                static_cast<uint64_t>(step) +
            1;
  } else if (step < 0 && start > stop) {
    const uint64_t mag = step == INT64_MIN ? (uint64_t{1} << 63) : static_cast<uint64_t>(-step);
    count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) / mag + 1;
  }
  if (count > static_cast<uint64_t>(kMaxRange)) {
    in.fail("range too big: ranges are limited to " + std::to_string(kMaxRange) + " items");
  }
  in.charge(count);
  List* l = in.new_list();
  l->items.reserve(count);
  int64_t x = start;
  for (uint64_t i = 0; i < count; ++i) {
    l->items.emplace_back(x);
    if (i + 1 < count) x += step;
  }
  return Value(l);
}

Value fill_dict(Interpreter& in, CallArgs& a, bool is_namespace) {
  Dict* d = in.new_dict();
  d->is_namespace = is_namespace;
  for (const auto& v : a.positional) {
    if (!v.is_dict())
      in.fail(std::string(is_namespace ? "namespace" : "dict") + "() expects a mapping");
    for (const auto& [k, val] : v.as_dict()->entries()) d->set(k, val);
  }
  for (const auto& [k, v] : a.keyword) d->set(Value(k), v);
  return Value(d);
}

}  // namespace

void add_globals(Interpreter& in, Dict* globals, const Clock& clock) {
  auto add = [&](const char* name, std::function<Value(Interpreter&, CallArgs&)> fn) {
    globals->set(Value(name), Value(in.new_callable(name, std::move(fn))));
  };
  add("range", g_range);
  add("dict", [](Interpreter& i, CallArgs& a) { return fill_dict(i, a, false); });
  add("namespace", [](Interpreter& i, CallArgs& a) { return fill_dict(i, a, true); });
  add("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
    throw ChatTemplateError(a.positional.empty() ? std::string() : to_str(a.positional[0]), true);
  });
  add("strftime_now", [clock](Interpreter& i, CallArgs& a) -> Value {
    const std::string fmt = arg_str(a, 0, "format", "");
    const std::time_t t =
        std::chrono::system_clock::to_time_t(clock ? clock() : std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&t, &tm);
    if (fmt.empty()) return Value("");
    if (fmt.size() > 256) i.fail("strftime_now: format too long");
    char buf[1024];
    const size_t n = std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
    return Value(std::string(buf, n));
  });
  add("joiner", [](Interpreter& i, CallArgs& a) {
    const std::string sep = arg_str(a, 0, "sep", ", ");
    auto used = std::make_shared<bool>(false);
    return Value(i.new_callable("joiner", [sep, used](Interpreter&, CallArgs&) {
      if (!*used) {
        *used = true;
        return Value("");
      }
      return Value(sep);
    }));
  });
}

}  // namespace pareto::chat_template
