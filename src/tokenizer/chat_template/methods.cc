// Methods of Python str, list and dict that templates call: "text".strip(), d.items(),
// l.append(x)... Case mapping is ASCII-only.
#include <algorithm>
#include <array>

#include "tokenizer/chat_template/builtins.h"

namespace pareto::chat_template {

namespace {

constexpr std::array<std::string_view, 30> kStrMethods = {
    "startswith", "endswith", "strip", "lstrip",  "rstrip",     "split",   "rsplit",  "splitlines",
    "replace",    "upper",    "lower", "title",   "capitalize", "format",  "join",    "find",
    "rfind",      "index",    "count", "isdigit", "isalpha",    "isalnum", "isspace", "islower",
    "isupper",    "swapcase", "zfill", "ljust",   "rjust",      "center"};
constexpr std::array<std::string_view, 10> kListMethods = {
    "append", "extend", "pop", "insert", "index", "count", "remove", "reverse", "copy", "clear"};
constexpr std::array<std::string_view, 9> kDictMethods = {
    "items", "keys", "values", "get", "pop", "update", "copy", "setdefault", "clear"};

template <size_t N>
bool in_list(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_ws(uint32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f ||
         c == 0x85 || c == 0xa0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029;
}
bool is_upper_ascii(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower_ascii(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_alpha_ascii(char c) {
  return is_upper_ascii(c) || is_lower_ascii(c);
}

List* split_string(Interpreter& in, const std::string& s, const Value& sep, int64_t maxsplit,
                   bool from_right) {
  List* out = in.new_list();
  std::vector<std::string> parts;
  if (sep.is_none() || sep.is_undefined()) {
    const std::vector<uint32_t> cps = decode_utf8(s);
    std::vector<std::pair<size_t, size_t>> words;  // code point ranges
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_ws(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t j = i;
      while (j < cps.size() && !is_ws(cps[j])) ++j;
      words.emplace_back(i, j);
      i = j;
    }
    if (maxsplit >= 0 && words.size() > static_cast<size_t>(maxsplit)) {
      // The unsplit remainder keeps its inner and outer whitespace on the far side.
      const size_t k = static_cast<size_t>(maxsplit);
      if (from_right) {
        const size_t keep = words.size() - k;
        const std::pair<size_t, size_t> head{0, words[keep - 1].second};
        words.erase(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(keep));
        words.insert(words.begin(), head);
      } else {
        const std::pair<size_t, size_t> tail{words[k].first, cps.size()};
        words.resize(k);
        words.push_back(tail);
      }
    }
    for (auto [a, b] : words) parts.push_back(encode_utf8(cps, a, b));
  } else {
    if (!sep.is_string()) in.fail("must be str or None");
    const std::string& d = sep.as_string();
    if (d.empty()) in.fail("empty separator");
    if (!from_right) {
      size_t start = 0;
      int64_t n = 0;
      while (maxsplit < 0 || n < maxsplit) {
        const size_t p = s.find(d, start);
        if (p == std::string::npos) break;
        parts.push_back(s.substr(start, p - start));
        start = p + d.size();
        ++n;
      }
      parts.push_back(s.substr(start));
    } else {
      size_t end = s.size();
      int64_t n = 0;
      while ((maxsplit < 0 || n < maxsplit) && end >= d.size()) {
        const size_t p = s.rfind(d, end - d.size());
        if (p == std::string::npos) break;
        parts.push_back(s.substr(p + d.size(), end - p - d.size()));
        end = p;
        ++n;
      }
      parts.push_back(s.substr(0, end));
      std::reverse(parts.begin(), parts.end());
    }
  }
  in.charge(parts.size());
  for (auto& p : parts) out->items.emplace_back(std::move(p));
  return out;
}

std::string str_title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    if (is_alpha_ascii(c)) {
      c = prev_cased ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                     : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      prev_cased = true;
    } else {
      prev_cased = false;
    }
  }
  return out;
}

std::string str_format(Interpreter& in, const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) in.fail("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    const size_t colon = field.find(':');
    if (colon != std::string::npos) {
      if (colon + 1 < field.size())
        in.fail("format specifications are not supported in str.format");
      field.resize(colon);
    }
    const size_t bang = field.find('!');
    if (bang != std::string::npos) {
      conversion = bang + 1 < field.size() ? field[bang + 1] : 's';
      field.resize(bang);
    }
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_index >= args.positional.size()) in.fail("Replacement index out of range");
      v = &args.positional[auto_index++];
    } else if (std::all_of(field.begin(), field.end(),
                           [](char d) { return d >= '0' && d <= '9'; })) {
      const size_t idx = field.size() < 9 ? std::stoul(field) : SIZE_MAX;
      if (idx >= args.positional.size()) in.fail("Replacement index out of range");
      v = &args.positional[idx];
    } else {
      for (const auto& [k, val] : args.keyword) {
        if (k == field) v = &val;
      }
      if (!v) in.fail("KeyError: '" + field + "'");
    }
    out += conversion == 'r' ? to_repr(*v) : to_str(*v);
    in.check_size(out.size());
  }
  return out;
}

std::string pad(Interpreter& in, const std::string& s, int64_t width, const std::string& fill,
                int align) {
  const int64_t len = static_cast<int64_t>(utf8_length(s));
  if (width <= len) return s;
  in.check_size(static_cast<size_t>(width) * std::max<size_t>(fill.size(), 1));
  const int64_t total = width - len;
  int64_t left = align < 0 ? 0 : align > 0 ? total : total / 2 + (total & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += fill;
  return out;
}

bool string_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& args,
                   Value& r) {
  if (name == "startswith" || name == "endswith") {
    const Value p = arg(args, 0, "prefix");
    std::vector<Value> options = p.is_list() ? p.as_list()->items : std::vector<Value>{p};
    bool hit = false;
    for (const auto& o : options) {
      if (!o.is_string()) in.fail(name + " first arg must be str or a tuple of str");
      const std::string& x = o.as_string();
      hit = hit || (s.size() >= x.size() &&
                    (name == "startswith" ? s.compare(0, x.size(), x) == 0
                                          : s.compare(s.size() - x.size(), x.size(), x) == 0));
    }
    r = Value(hit);
  } else if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Value chars = arg(args, 0, "chars", Value::none());
    r = Value(
        str_strip(s, chars.is_string() ? &chars : nullptr, name != "rstrip", name != "lstrip"));
  } else if (name == "split" || name == "rsplit") {
    r = Value(split_string(in, s, arg(args, 0, "sep", Value::none()),
                           arg_int(in, args, 1, "maxsplit", -1), name == "rsplit"));
  } else if (name == "splitlines") {
    List* out = in.new_list();
    const bool keep = arg_bool(args, 0, "keepends", false);
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') {
        size_t end = i;
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        out->items.emplace_back(s.substr(start, (keep ? i + 1 : end) - start));
        start = i + 1;
      }
    }
    if (start < s.size()) out->items.emplace_back(s.substr(start));
    r = Value(out);
  } else if (name == "replace") {
    r = Value(str_replace(in, s, arg_str(args, 0, "old", ""), arg_str(args, 1, "new", ""),
                          arg_int(in, args, 2, "count", -1)));
  } else if (name == "upper") {
    r = Value(str_upper(s));
  } else if (name == "lower") {
    r = Value(str_lower(s));
  } else if (name == "title") {
    r = Value(str_title(s));
  } else if (name == "capitalize") {
    std::string out = str_lower(s);
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    r = Value(out);
  } else if (name == "swapcase") {
    std::string out = s;
    for (char& c : out)
      c = is_upper_ascii(c)   ? static_cast<char>(c + 32)
          : is_lower_ascii(c) ? static_cast<char>(c - 32)
                              : c;
    r = Value(out);
  } else if (name == "format") {
    r = Value(str_format(in, s, args));
  } else if (name == "join") {
    std::string out;
    bool first = true;
    for (const auto& v : in.iterate(arg(args, 0, "iterable"))) {
      if (!v.is_string())
        in.fail(std::string("sequence item: expected str instance, ") + v.type_name() + " found");
      if (!first) out += s;
      first = false;
      out += v.as_string();
      in.check_size(out.size());
    }
    r = Value(out);
  } else if (name == "find" || name == "rfind" || name == "index" || name == "count") {
    const std::string sub = arg_str(args, 0, "sub", "");
    if (name == "count") {
      int64_t n = 0;
      if (sub.empty()) {
        n = static_cast<int64_t>(utf8_length(s)) + 1;
      } else {
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      }
      r = Value(n);
      return true;
    }
    const size_t p = name == "rfind" ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (name == "index") in.fail("substring not found");
      r = Value(int64_t{-1});
    } else {
      r = Value(static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, p))));
    }
  } else if (name.rfind("is", 0) == 0) {
    bool ok = !s.empty();
    bool any_cased = false;
    for (char c : s) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (name == "isdigit") ok = ok && u >= '0' && u <= '9';
      if (name == "isalpha") ok = ok && is_alpha_ascii(c);
      if (name == "isalnum") ok = ok && (is_alpha_ascii(c) || (u >= '0' && u <= '9'));
      if (name == "isspace") ok = ok && is_ws(u);
      if (name == "islower") ok = ok && !is_upper_ascii(c);
      if (name == "isupper") ok = ok && !is_lower_ascii(c);
      any_cased = any_cased || is_alpha_ascii(c);
    }
    if (name == "islower" || name == "isupper") ok = ok && any_cased;
    r = Value(ok);
  } else if (name == "zfill") {
    const int64_t width = arg_int(in, args, 0, "width", 0);
    std::string body = s;
    std::string sign;
    if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
      sign = body.substr(0, 1);
      body.erase(0, 1);
    }
    r = Value(sign + pad(in, body, width - static_cast<int64_t>(sign.size()), "0", 1));
  } else if (name == "ljust" || name == "rjust" || name == "center") {
    r = Value(pad(in, s, arg_int(in, args, 0, "width", 0), arg_str(args, 1, "fillchar", " "),
                  name == "ljust"   ? -1
                  : name == "rjust" ? 1
                                    : 0));
  } else {
    return false;
  }
  return true;
}

bool list_method(Interpreter& in, List* l, const std::string& name, CallArgs& args, Value& r) {
  auto& items = l->items;
  auto norm_index = [&](int64_t i, bool clamp) -> int64_t {
    const int64_t n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (clamp) i = std::clamp<int64_t>(i, 0, n);
    return i;
  };
  r = Value::none();
  if (l->is_tuple && name != "index" && name != "count") return false;
  if (name == "append") {
    in.charge(1);
    items.push_back(arg(args, 0, "object"));
  } else if (name == "extend") {
    std::vector<Value> more = in.iterate(arg(args, 0, "iterable"));
    items.insert(items.end(), more.begin(), more.end());
  } else if (name == "pop") {
    if (items.empty()) in.fail("pop from empty list");
    const int64_t i = norm_index(arg_int(in, args, 0, "index", -1), false);
    if (i < 0 || i >= static_cast<int64_t>(items.size())) in.fail("pop index out of range");
    r = items[static_cast<size_t>(i)];
    items.erase(items.begin() + i);
  } else if (name == "insert") {
    const int64_t i = norm_index(arg_int(in, args, 0, "index", 0), true);
    in.charge(items.size());
    items.insert(items.begin() + i, arg(args, 1, "object"));
  } else if (name == "index" || name == "count" || name == "remove") {
    const Value x = arg(args, 0, "value");
    in.charge(items.size());
    int64_t count = 0, first = -1;
    for (size_t i = 0; i < items.size(); ++i) {
      if (equals(items[i], x)) {
        if (first < 0) first = static_cast<int64_t>(i);
        ++count;
      }
    }
    if (name == "count") {
      r = Value(count);
    } else if (first < 0) {
      in.fail(name == "index" ? to_repr(x) + " is not in list" : "list.remove(x): x not in list");
    } else if (name == "index") {
      r = Value(first);
    } else {
      items.erase(items.begin() + first);
    }
  } else if (name == "reverse") {
    std::reverse(items.begin(), items.end());
  } else if (name == "copy") {
    List* c = in.new_list();
    c->items = items;
    in.charge(items.size());
    r = Value(c);
  } else if (name == "clear") {
    items.clear();
  } else {
    return false;
  }
  return true;
}

bool dict_method(Interpreter& in, Dict* d, const std::string& name, CallArgs& args, Value& r) {
  r = Value::none();
  if (name == "items" || name == "keys" || name == "values") {
    List* out = in.new_list();
    in.charge(d->size());
    for (const auto& [k, v] : d->entries()) {
      if (name == "items") {
        List* pair = in.new_list();
        pair->is_tuple = true;
        pair->items = {k, v};
        out->items.emplace_back(pair);
      } else {
        out->items.push_back(name == "keys" ? k : v);
      }
    }
    r = Value(out);
  } else if (name == "get") {
    const Value* v = d->find(arg(args, 0, "key"));
    r = v ? *v : arg(args, 1, "default", Value::none());
  } else if (name == "pop") {
    const Value key = arg(args, 0, "key");
    const Value* v = d->find(key);
    if (v) {
      r = *v;
      d->erase(key);
    } else if (args.positional.size() > 1) {
      r = args.positional[1];
    } else {
      in.fail("KeyError: " + to_repr(key));
    }
  } else if (name == "setdefault") {
    const Value key = arg(args, 0, "key");
    if (const Value* v = d->find(key)) {
      r = *v;
    } else {
      r = arg(args, 1, "default", Value::none());
      d->set(key, r);
    }
  } else if (name == "update") {
    if (!args.positional.empty()) {
      const Value& other = args.positional[0];
      if (!other.is_dict()) in.fail("dict.update() expects a dict");
      in.charge(other.as_dict()->size());
      for (const auto& [k, v] : other.as_dict()->entries()) d->set(k, v);
    }
    for (const auto& [k, v] : args.keyword) d->set(Value(k), v);
  } else if (name == "copy") {
    Dict* c = in.new_dict();
    in.charge(d->size());
    for (const auto& [k, v] : d->entries()) c->set(k, v);
    r = Value(c);
  } else if (name == "clear") {
    d->clear();
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool has_method(const Value& obj, std::string_view name) {
  if (obj.is_string()) return in_list(kStrMethods, name);
  if (obj.is_list())
    return in_list(kListMethods, name) &&
           (!obj.as_list()->is_tuple || name == "index" || name == "count");
  if (obj.is_dict()) return !obj.as_dict()->is_namespace && in_list(kDictMethods, name);
  return false;
}

bool call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args,
                 Value& result) {
  if (!has_method(obj, name)) return false;
  if (obj.is_string()) return string_method(in, obj.as_string(), name, args, result);
  if (obj.is_list()) return list_method(in, obj.as_list(), name, args, result);
  return dict_method(in, obj.as_dict(), name, args, result);
}

Value bound_method(Interpreter& in, const Value& obj, const std::string& name) {
  return Value(in.new_callable(name, [obj, name](Interpreter& i, CallArgs& args) {
    Value result;
    call_method(i, obj, name, args, result);
    return result;
  }));
}

std::string str_strip(const std::string& s, const Value* chars, bool left, bool right) {
  const std::vector<uint32_t> cps = decode_utf8(s);
  std::vector<uint32_t> set;
  if (chars) set = decode_utf8(chars->as_string());
  auto strip_it = [&](uint32_t c) {
    return chars ? std::find(set.begin(), set.end(), c) != set.end() : is_ws(c);
  };
  size_t a = 0, b = cps.size();
  if (left) {
    while (a < b && strip_it(cps[a])) ++a;
  }
  if (right) {
    while (b > a && strip_it(cps[b - 1])) --b;
  }
  return encode_utf8(cps, a, b);
}

std::string str_upper(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (is_lower_ascii(c)) c = static_cast<char>(c - 32);
  }
  return out;
}

std::string str_lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (is_upper_ascii(c)) c = static_cast<char>(c + 32);
  }
  return out;
}

std::string str_replace(Interpreter& in, const std::string& s, const std::string& old,
                        const std::string& with, int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `with` between every character (and at both ends).
    const std::vector<uint32_t> cps = decode_utf8(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += with;
        ++done;
      }
      if (i < cps.size()) out += encode_utf8(cps, i, i + 1);
      in.check_size(out.size());
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t p = s.find(old, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += with;
    in.check_size(out.size());
    start = p + old.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  in.check_size(out.size());
  return out;
}

// ---- argument helpers (shared by filters and globals)

Value arg(const CallArgs& args, size_t index, std::string_view name, Value fallback) {
  const Value* v = args.get(index, name);
  return v ? *v : fallback;
}

std::string arg_str(const CallArgs& args, size_t index, std::string_view name,
                    const std::string& fallback) {
  const Value* v = args.get(index, name);
  return v && !v->is_undefined() ? to_str(*v) : fallback;
}

int64_t arg_int(Interpreter& in, const CallArgs& args, size_t index, std::string_view name,
                int64_t fallback) {
  const Value* v = args.get(index, name);
  if (!v || v->is_undefined() || v->is_none()) return fallback;
  if (v->is_int() || v->is_bool()) return v->to_int();
  in.fail(std::string("'") + v->type_name() + "' object cannot be interpreted as an integer");
}

bool arg_bool(const CallArgs& args, size_t index, std::string_view name, bool fallback) {
  const Value* v = args.get(index, name);
  return v ? v->truthy() : fallback;
}

}  // namespace pareto::chat_template
