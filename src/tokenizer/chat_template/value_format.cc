// Printing values the way Python does: str(), repr(), json.dumps() (for tojson).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "tokenizer/chat_template/value.h"
#include "tokenizer/utf8.h"

namespace pareto::chat_template {

namespace {

constexpr int kMaxNesting = 256;  // same bound as value.cc

void repr_string(std::string& out, const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c == static_cast<unsigned char>(quote)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += quote;
}

void repr_into(std::string& out, const Value& v, int depth) {
  if (depth > kMaxNesting) throw EvalError("value nested too deeply to print");
  switch (v.kind()) {
    case Value::Kind::kString:
      repr_string(out, v.as_string());
      return;
    case Value::Kind::kList: {
      const List* l = v.as_list();
      out += l->is_tuple ? '(' : '[';
      for (size_t i = 0; i < l->items.size(); ++i) {
        if (i) out += ", ";
        repr_into(out, l->items[i], depth + 1);
      }
      if (l->is_tuple && l->items.size() == 1) out += ',';
      out += l->is_tuple ? ')' : ']';
      return;
    }
    case Value::Kind::kDict: {
      const Dict* d = v.as_dict();
      if (d->is_namespace) out += "<Namespace ";
      out += '{';
      bool first = true;
      for (const auto& [k, val] : d->entries()) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, k, depth + 1);
        out += ": ";
        repr_into(out, val, depth + 1);
      }
      out += '}';
      if (d->is_namespace) out += '>';
      return;
    }
    default:
      out += to_str(v);
      return;
  }
}

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    char buf[16];
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || (ensure_ascii && c == 0x7f)) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      ++i;
      continue;
    }
    if (c < 0x80 || !ensure_ascii) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const Utf8Check check = utf8_check_at(s, i);
    if (check.status != Utf8Status::kComplete) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", 0xdc00u + c);
      out += buf;
      ++i;
      continue;
    }
    uint32_t cp = utf8_decode_at(s, i, check.length);
    i += check.length;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xd800u + (cp >> 10),
                    0xdc00u + (cp & 0x3ff));
    } else {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
    }
    out += buf;
  }
  out += '"';
}

void json_newline(std::string& out, const JsonOptions& o, int level) {
  out += '\n';
  for (int i = 0; i < level; ++i) {
    if (o.indent_is_string) {
      out += o.indent_str;
    } else {
      out.append(static_cast<size_t>(o.indent), ' ');
    }
  }
}

std::string json_key(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::kString:
      return k.as_string();
    case Value::Kind::kNone:
      return "null";
    case Value::Kind::kBool:
      return k.as_bool() ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(k.as_int());
    case Value::Kind::kFloat:
      return float_repr(k.as_float());
    default:
      throw EvalError(std::string("keys must be str, int, float, bool or None, not ") +
                      k.type_name());
  }
}

void json_into(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  if (depth > kMaxNesting) throw EvalError("value nested too deeply for tojson");
  const bool pretty = o.indent >= 0 || o.indent_is_string;
  switch (v.kind()) {
    case Value::Kind::kNone:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::kFloat: {
      const double d = v.as_float();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
      } else {
        out += float_repr(d);
      }
      return;
    }
    case Value::Kind::kString:
      json_string(out, v.as_string(), o.ensure_ascii);
      return;
    case Value::Kind::kList: {
      const auto& items = v.as_list()->items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += o.item_separator;
        if (pretty) json_newline(out, o, depth + 1);
        json_into(out, items[i], o, depth + 1);
      }
      if (pretty) json_newline(out, o, depth);
      out += ']';
      return;
    }
    case Value::Kind::kDict: {
      const Dict* d = v.as_dict();
      if (d->is_namespace) throw EvalError("Object of type Namespace is not JSON serializable");
      if (d->size() == 0) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> entries;
      entries.reserve(d->size());
      for (const auto& [k, val] : d->entries()) entries.emplace_back(json_key(k), &val);
      if (o.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += o.item_separator;
        if (pretty) json_newline(out, o, depth + 1);
        json_string(out, entries[i].first, o.ensure_ascii);
        out += o.key_separator;
        json_into(out, *entries[i].second, o, depth + 1);
      }
      if (pretty) json_newline(out, o, depth);
      out += '}';
      return;
    }
    case Value::Kind::kUndefined:
      throw EvalError("Object of type Undefined is not JSON serializable");
    case Value::Kind::kCallable:
      throw EvalError("Object of type function is not JSON serializable");
  }
}
}  // namespace

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(e_pos + 1));
  std::string out;
  if (exp >= -5 + 1 && exp < 16) {  // Python repr switches to exponent form outside [-4, 16)
    if (exp >= 0) {
      const size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out = digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += ebuf;
  }
  return sign + out;
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.as_int());
    case Value::Kind::kFloat:
      return float_repr(v.as_float());
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kCallable:
      return "<function " + v.as_callable()->name + ">";
    default: {
      std::string out;
      repr_into(out, v, 0);
      return out;
    }
  }
}

std::string to_repr(const Value& v) {
  std::string out;
  repr_into(out, v, 0);
  return out;
}

std::string to_json(const Value& v, const JsonOptions& options) {
  std::string out;
  json_into(out, v, options, 0);
  return out;
}
}  // namespace pareto::chat_template
