#include "tokenizer/chat_template/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace pareto::chat_template {

namespace {

constexpr int kMaxNesting = 256;  // containers nested deeper than this are refused

// Invalid bytes decode to U+DC80+byte (Python's surrogateescape) so that they re-encode as is.
constexpr uint32_t kEscapeBase = 0xDC00;

}  // namespace

double Value::to_double() const {
  if (is_float()) return as_float();
  if (is_int()) return static_cast<double>(as_int());
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  return 0.0;
}

int64_t Value::to_int() const {
  if (is_int()) return as_int();
  if (is_bool()) return as_bool() ? 1 : 0;
  return 0;
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !as_list()->items.empty();
    case Kind::kDict:
      return as_dict()->size() != 0;
    case Kind::kCallable:
      return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return as_list()->is_tuple ? "tuple" : "list";
    case Kind::kDict:
      return as_dict()->is_namespace ? "Namespace" : "dict";
    case Kind::kCallable:
      return "function";
  }
  return "?";
}

const Value* Dict::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : entries_) {
    if (!k.is_string() && equals(k, key)) return &v;
  }
  return nullptr;
}

void Dict::set(const Value& key, Value value) {
  if (key.is_string()) {
    auto it = index_.find(key.as_string());
    if (it != index_.end()) {
      entries_[it->second].second = std::move(value);
      return;
    }
    index_.emplace(key.as_string(), entries_.size());
    entries_.emplace_back(key, std::move(value));
    return;
  }
  for (auto& [k, v] : entries_) {
    if (!k.is_string() && equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(key, std::move(value));
}

bool Dict::erase(const Value& key) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (equals(entries_[i].first, key)) {
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      reindex();
      return true;
    }
  }
  return false;
}

void Dict::reindex() {
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first.is_string()) index_.emplace(entries_[i].first.as_string(), i);
  }
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return index < positional.size() ? &positional[index] : nullptr;
}

List* Heap::new_list() {
  return &lists_.emplace_back();
}
Dict* Heap::new_dict() {
  return &dicts_.emplace_back();
}
Callable* Heap::new_callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
  return &callables_.emplace_back(Callable{std::move(name), std::move(fn)});
}

namespace {

Value from_json_at(Heap& heap, const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxNesting) throw EvalError("input nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List* list = heap.new_list();
      list->items.reserve(j.size());
      for (const auto& item : j) list->items.push_back(from_json_at(heap, item, depth + 1));
      return Value(list);
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict* dict = heap.new_dict();
      for (auto it = j.begin(); it != j.end(); ++it) {
        dict->set(Value(it.key()), from_json_at(heap, it.value(), depth + 1));
      }
      return Value(dict);
    }
    default:
      return Value::none();  // binary / discarded: not produced by JSON text
  }
}

bool equals_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxNesting) throw EvalError("value nested too deeply to compare");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
    return a.to_int() == b.to_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      const List* x = a.as_list();
      const List* y = b.as_list();
      if (x == y) return true;
      if (x->is_tuple != y->is_tuple || x->items.size() != y->items.size()) return false;
      for (size_t i = 0; i < x->items.size(); ++i) {
        if (!equals_at(x->items[i], y->items[i], depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const Dict* x = a.as_dict();
      const Dict* y = b.as_dict();
      if (x == y) return true;
      if (x->is_namespace || y->is_namespace || x->size() != y->size()) return false;
      for (const auto& [k, v] : x->entries()) {
        const Value* other = y->find(k);
        if (!other || !equals_at(v, *other, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kCallable:
      return a.as_callable() == b.as_callable();
    default:
      return false;
  }
}

}  // namespace

Value from_json(Heap& heap, const nlohmann::ordered_json& j) {
  return from_json_at(heap, j, 0);
}

bool equals(const Value& a, const Value& b) {
  return equals_at(a, b, 0);
}

bool less_than(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() < b.to_double();
    return a.to_int() < b.to_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // UTF-8 order
  if (a.is_list() && b.is_list()) {
    const auto& x = a.as_list()->items;
    const auto& y = b.as_list()->items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (less_than(x[i], y[i])) return true;
      if (less_than(y[i], x[i])) return false;
    }
    return x.size() < y.size();
  }
  if (a.is_undefined() || b.is_undefined()) {
    throw EvalError(a.is_undefined() ? a.undefined_hint() : b.undefined_hint());
  }
  throw EvalError(std::string("'<' not supported between instances of '") + a.type_name() +
                  "' and '" + b.type_name() + "'");
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      cps.push_back(c);
      ++i;
      continue;
    }
    const Utf8Check check = utf8_check_at(s, i);
    if (check.status == Utf8Status::kComplete) {
      cps.push_back(utf8_decode_at(s, i, check.length));
      i += check.length;
    } else {
      cps.push_back(kEscapeBase + c);
      ++i;
    }
  }
  return cps;
}

std::string encode_utf8(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    const uint32_t cp = cps[i];
    if (cp >= kEscapeBase + 0x80 && cp <= kEscapeBase + 0xff) {
      out += static_cast<char>(cp - kEscapeBase);
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
    } else {
      const Utf8Check check = utf8_check_at(s, i);
      i += check.status == Utf8Status::kComplete ? check.length : 1;
    }
    ++n;
  }
  return n;
}

}  // namespace pareto::chat_template
