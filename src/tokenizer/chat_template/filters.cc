// Jinja2's built-in filters (the ones chat templates use), with Hugging Face's tojson.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "tokenizer/chat_template/builtins.h"

namespace pareto::chat_template {

namespace {

std::string input_str(const Value& v) {
  return to_str(v);
}

int64_t length_of(Interpreter& in, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(utf8_length(v.as_string()));
    case Value::Kind::kList:
      return static_cast<int64_t>(v.as_list()->items.size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.as_dict()->size());
    default:
      in.fail(std::string("object of type '") + v.type_name() + "' has no len()");
  }
}

Value make_list(Interpreter& in, std::vector<Value> items) {
  List* l = in.new_list();
  l->items = std::move(items);
  return Value(l);
}

// Sort key: with attribute= the item's attribute; strings lower-cased unless case-sensitive.
Value sort_key(Interpreter& in, const Value& item, const Value& attribute, bool case_sensitive) {
  Value k = attribute.is_undefined() || attribute.is_none() ? item : in.get_path(item, attribute);
  if (!case_sensitive && k.is_string()) return Value(str_lower(k.as_string()));
  return k;
}

Value f_abs(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    if (v.to_int() == INT64_MIN) in.fail("integer overflow");
    return Value(v.to_int() < 0 ? -v.to_int() : v.to_int());
  }
  in.fail(std::string("bad operand type for abs(): '") + v.type_name() + "'");
}

// Attributes only (methods, namespace members), never dict items: Jinja2's attr filter.
Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
  const std::string name = arg_str(a, 0, "name", "");
  if (has_method(v, name) || (v.is_dict() && v.as_dict()->is_namespace)) return in.getattr(v, name);
  return Value::undefined(std::string("'") + v.type_name() + " object' has no attribute '" + name +
                          "'");
}

Value f_capitalize(Interpreter&, const Value& v, CallArgs&) {
  std::string s = str_lower(input_str(v));
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return Value(s);
}

Value f_center(Interpreter& in, const Value& v, CallArgs& a) {
  CallArgs m;
  m.positional.push_back(Value(arg_int(in, a, 0, "width", 80)));
  Value r;
  call_method(in, Value(input_str(v)), "center", m, r);
  return r;
}

Value f_length(Interpreter& in, const Value& v, CallArgs&) {
  return Value(length_of(in, v));
}

Value f_default(Interpreter&, const Value& v, CallArgs& a) {
  const bool boolean = arg_bool(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !v.truthy())) return arg(a, 0, "default_value", Value(""));
  return v;
}

Value f_dictsort(Interpreter& in, const Value& v, CallArgs& a) {
  if (!v.is_dict()) in.fail("dictsort expects a dict");
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const bool by_value = arg_str(a, 1, "by", "key") == "value";
  const bool reverse = arg_bool(a, 2, "reverse", false);
  std::vector<Value> pairs;
  for (const auto& [k, val] : v.as_dict()->entries()) {
    List* p = in.new_list();
    p->is_tuple = true;
    p->items = {k, val};
    pairs.emplace_back(p);
  }
  in.charge(pairs.size() * 4);
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    const Value kx = sort_key(in, x.as_list()->items[by_value ? 1 : 0], Value(), cs);
    const Value ky = sort_key(in, y.as_list()->items[by_value ? 1 : 0], Value(), cs);
    return reverse ? less_than(ky, kx) : less_than(kx, ky);
  });
  return make_list(in, std::move(pairs));
}

Value f_escape(Interpreter&, const Value& v, CallArgs&) {
  std::string out;
  for (char c : input_str(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return Value(out);
}

Value f_first(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_list()) {
    const auto& items = v.as_list()->items;
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
  }
  const std::vector<Value> items = in.iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(Interpreter& in, const Value& v, CallArgs&) {
  const std::vector<Value> items = in.iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

bool parse_float(const std::string& text, double& out) {
  const std::string s = str_strip(text, nullptr, true, true);
  if (s.empty()) return false;
  std::string clean;
  for (char c : s) {
    if (c != '_') clean += c;
  }
  char* end = nullptr;
  errno = 0;
  out = std::strtod(clean.c_str(), &end);
  return end == clean.c_str() + clean.size();
}

Value f_float(Interpreter&, const Value& v, CallArgs& a) {
  if (v.is_number()) return Value(v.to_double());
  double d;
  if (v.is_string() && parse_float(v.as_string(), d)) return Value(d);
  return arg(a, 0, "default", Value(0.0));
}

Value f_int(Interpreter& in, const Value& v, CallArgs& a) {
  const Value fallback = arg(a, 0, "default", Value(int64_t{0}));
  const int64_t base = arg_int(in, a, 1, "base", 10);
  if (v.is_int() || v.is_bool()) return Value(v.to_int());
  if (v.is_float()) {
    const double d = std::trunc(v.as_float());
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (!v.is_string()) return fallback;
  std::string s = str_strip(v.as_string(), nullptr, true, true);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (!s.empty() && base >= 2 && base <= 36) {
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(s.c_str(), &end, static_cast<int>(base));
    if (errno == 0 && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(x));
  }
  double d;
  if (parse_float(s, d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
    return Value(static_cast<int64_t>(std::trunc(d)));
  }
  return fallback;
}

Value f_format(Interpreter& in, const Value& v, CallArgs& a) {
  return Value(percent_format(in, input_str(v), a.positional));
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
  const Value w = arg(a, 0, "width", Value(int64_t{4}));
  std::string indention;
  if (w.is_string()) {
    indention = w.as_string();
  } else {
    const int64_t n = w.is_number() ? w.to_int() : 4;
    in.check_size(static_cast<size_t>(std::max<int64_t>(n, 0)));
    indention.assign(static_cast<size_t>(std::max<int64_t>(n, 0)), ' ');
  }
  const bool first = arg_bool(a, 1, "first", false);
  const bool blank = arg_bool(a, 2, "blank", false);
  std::string s = input_str(v) + "\n";
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (i > 0 && (blank || !lines[i].empty())) out += indention;
    out += lines[i];
    in.check_size(out.size());
  }
  if (first) out = indention + out;
  return Value(out);
}

Value f_items(Interpreter& in, const Value& v, CallArgs& a) {
  if (v.is_undefined()) return make_list(in, {});
  if (!v.is_dict()) in.fail("items filter expects a mapping");
  Value r;
  call_method(in, v, "items", a, r);
  return r;
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
  const std::string sep = arg_str(a, 0, "d", "");
  const Value attribute = arg(a, 1, "attribute", Value::none());
  std::string out;
  bool first = true;
  for (const auto& item : in.iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += to_str(attribute.is_none() ? item : in.get_path(item, attribute));
    in.check_size(out.size());
  }
  return Value(out);
}

Value f_list(Interpreter& in, const Value& v, CallArgs&) {
  return make_list(in, in.iterate(v));
}
Value f_lower(Interpreter&, const Value& v, CallArgs&) {
  return Value(str_lower(input_str(v)));
}
Value f_upper(Interpreter&, const Value& v, CallArgs&) {
  return Value(str_upper(input_str(v)));
}
Value f_safe(Interpreter&, const Value& v, CallArgs&) {
  return v;
}
Value f_string(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() ? v : Value(to_str(v));
}
Value f_pprint(Interpreter&, const Value& v, CallArgs&) {
  return Value(to_repr(v));
}

Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
  std::vector<Value> out;
  const Value* attribute = a.get(SIZE_MAX, "attribute");
  if (attribute) {
    const Value* dflt = a.get(SIZE_MAX, "default");
    for (const auto& item : in.iterate(v)) {
      Value x = in.get_path(item, *attribute);
      out.push_back(x.is_undefined() && dflt ? *dflt : x);
    }
    return make_list(in, std::move(out));
  }
  if (a.positional.empty()) in.fail("map requires a filter argument");
  if (!a.positional[0].is_string()) in.fail("map: the filter name must be a string");
  const std::string name = a.positional[0].as_string();
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const auto& item : in.iterate(v)) {
    CallArgs copy = rest;
    out.push_back(in.apply_filter(name, item, copy));
  }
  return make_list(in, std::move(out));
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value attribute = arg(a, 1, "attribute", Value::none());
  const std::vector<Value> items = in.iterate(v);
  if (items.empty())
    return Value::undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const Value ki = sort_key(in, items[i], attribute, cs);
    const Value kb = sort_key(in, items[best], attribute, cs);
    if (want_max ? less_than(kb, ki) : less_than(ki, kb)) best = i;
  }
  return items[best];
}
Value f_max(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, true);
}
Value f_min(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, false);
}

Value select_impl(Interpreter& in, const Value& v, CallArgs& a, bool by_attr, bool keep) {
  std::vector<Value> out;
  size_t next = 0;
  Value attribute;
  if (by_attr) {
    if (a.positional.empty()) in.fail("selectattr/rejectattr need an attribute name");
    attribute = a.positional[next++];
  }
  std::string test;
  if (next < a.positional.size()) {
    if (!a.positional[next].is_string()) in.fail("the test name must be a string");
    test = a.positional[next++].as_string();
  }
  CallArgs rest;
  rest.positional.assign(
      a.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, a.positional.size())),
      a.positional.end());
  rest.keyword = a.keyword;
  for (const auto& item : in.iterate(v)) {
    const Value x = by_attr ? in.get_path(item, attribute) : item;
    bool ok;
    if (test.empty()) {
      ok = x.truthy();
    } else {
      CallArgs copy = rest;
      ok = in.apply_test(test, x, copy);
    }
    if (ok == keep) out.push_back(item);
  }
  return make_list(in, std::move(out));
}
Value f_select(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, false, true);
}
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, false, false);
}
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, true, true);
}
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, true, false);
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
  const Value count = arg(a, 2, "count", Value::none());
  return Value(str_replace(in, input_str(v), to_str(arg(a, 0, "old", Value(""))),
                           to_str(arg(a, 1, "new", Value(""))),
                           count.is_number() ? count.to_int() : -1));
}

Value f_reverse(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_string()) {
    std::vector<uint32_t> cps = decode_utf8(v.as_string());
    std::reverse(cps.begin(), cps.end());
    return Value(encode_utf8(cps, 0, cps.size()));
  }
  std::vector<Value> items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  return make_list(in, std::move(items));
}

Value f_round(Interpreter& in, const Value& v, CallArgs& a) {
  const int64_t precision = arg_int(in, a, 0, "precision", 0);
  const std::string method = arg_str(a, 1, "method", "common");
  if (!v.is_number()) in.fail(std::string("round: a number is required, not ") + v.type_name());
  if (method == "common" && !v.is_float()) return Value(v.to_int());
  if (method == "common" && precision >= 0) {
    // Python rounds the exact binary value half to even; printf does the same.
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)),
                  v.to_double());
    return Value(std::strtod(buf, nullptr));
  }
  const double scale =
      std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
  const double x = v.to_double() * scale;
  double r;
  if (method == "common") {
    r = std::nearbyint(x);  // round half to even, as Python's round()
  } else if (method == "ceil") {
    r = std::ceil(x);
  } else if (method == "floor") {
    r = std::floor(x);
  } else {
    in.fail("method must be common, ceil or floor");
  }
  return Value(r / scale);
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
  const bool reverse = arg_bool(a, 0, "reverse", false);
  const bool cs = arg_bool(a, 1, "case_sensitive", false);
  const Value attribute = arg(a, 2, "attribute", Value::none());
  std::vector<Value> items = in.iterate(v);
  in.charge(items.size() * 8);
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) keyed.emplace_back(sort_key(in, item, attribute, cs), item);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? less_than(y.first, x.first) : less_than(x.first, y.first);
  });
  std::vector<Value> out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return make_list(in, std::move(out));
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
  const Value attribute = arg(a, 0, "attribute", Value::none());
  Value total = arg(a, 1, "start", Value(int64_t{0}));
  for (const auto& item : in.iterate(v)) {
    total = arithmetic(in, "+", total, attribute.is_none() ? item : in.get_path(item, attribute));
  }
  return total;
}

Value f_title(Interpreter&, const Value& v, CallArgs&) {
  // Jinja's title: words start after whitespace, '-', or an opening bracket.
  std::string s = input_str(v);
  bool start = true;
  for (char& c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '-' ||
        c == '(' || c == '{' || c == '[' || c == '<') {
      start = true;
      continue;
    }
    c = start ? static_cast<char>(std::toupper(u)) : static_cast<char>(std::tolower(u));
    start = false;
  }
  return Value(s);
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
  JsonOptions o;
  o.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
  const Value indent = arg(a, 1, "indent", Value::none());
  if (indent.is_string()) {
    o.indent_is_string = true;
    o.indent_str = indent.as_string();
  } else if (indent.is_number()) {
    o.indent = static_cast<int>(std::clamp<int64_t>(indent.to_int(), 0, 64));
  } else if (!indent.is_none() && !indent.is_undefined()) {
    in.fail("tojson: indent must be an integer or a string");
  }
  if (o.indent >= 0 || o.indent_is_string) o.item_separator.pop_back();  // ", " -> ","
  const Value seps = arg(a, 2, "separators", Value::none());
  if (seps.is_list()) {
    const auto& items = seps.as_list()->items;
    if (items.size() != 2 || !items[0].is_string() || !items[1].is_string()) {
      in.fail("tojson: separators must be a pair of strings");
    }
    o.item_separator = items[0].as_string();
    o.key_separator = items[1].as_string();
  }
  o.sort_keys = arg_bool(a, 3, "sort_keys", false);
  std::string out = to_json(v, o);
  in.check_size(out.size());
  in.charge(out.size() / 64);
  return Value(std::move(out));
}

Value f_trim(Interpreter&, const Value& v, CallArgs& a) {
  const Value chars = arg(a, 0, "chars", Value::none());
  return Value(str_strip(input_str(v), chars.is_string() ? &chars : nullptr, true, true));
}

Value f_truncate(Interpreter& in, const Value& v, CallArgs& a) {
  const std::string s = input_str(v);
  const int64_t length = arg_int(in, a, 0, "length", 255);
  const bool killwords = arg_bool(a, 1, "killwords", false);
  const std::string end = arg_str(a, 2, "end", "...");
  const int64_t leeway = arg_int(in, a, 3, "leeway", 5);
  const std::vector<uint32_t> cps = decode_utf8(s);
  const int64_t n = static_cast<int64_t>(cps.size());
  const int64_t end_len = static_cast<int64_t>(utf8_length(end));
  if (n <= length + leeway) return Value(s);
  const size_t cut = static_cast<size_t>(std::max<int64_t>(length - end_len, 0));
  if (killwords) return Value(encode_utf8(cps, 0, cut) + end);
  std::string head = encode_utf8(cps, 0, cut);
  const size_t sp = head.rfind(' ');
  if (sp != std::string::npos) head.resize(sp);
  return Value(head + end);
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value attribute = arg(a, 1, "attribute", Value::none());
  std::vector<Value> out, seen;
  const std::vector<Value> items = in.iterate(v);
  in.charge(items.size() * items.size() / 16);
  for (const auto& item : items) {
    const Value k = sort_key(in, item, attribute, cs);
    bool dup = false;
    for (const auto& s : seen) dup = dup || equals(s, k);
    if (!dup) {
      seen.push_back(k);
      out.push_back(item);
    }
  }
  return make_list(in, std::move(out));
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs&) {
  const std::string s = input_str(v);
  int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    const bool w = std::isalnum(u) || c == '_' || u >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

const std::unordered_map<std::string_view, FilterFn>& registry() {
  static const std::unordered_map<std::string_view, FilterFn> filters = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"forceescape", f_escape},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"pprint", f_pprint},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"sort", f_sort},
      {"string", f_string},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"truncate", f_truncate},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return filters;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
  const auto& r = registry();
  const auto it = r.find(name);
  return it == r.end() ? nullptr : it->second;
}

}  // namespace pareto::chat_template
