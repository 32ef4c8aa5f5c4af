// The dynamic value of the chat-template interpreter: what Jinja2 templates compute with.
// Python semantics where templates can see them: truthiness, int vs float, str() and repr()
// printing, == across int/float/bool, ordering of numbers and strings.
//
// Ownership: lists, dicts and callables live in a Heap owned by one render; a Value only points
// at them, so cycles a template builds (a list appended to itself) cannot leak, and everything
// is freed together when the render ends. Scalars (and strings) are held by value.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace pareto::chat_template {

struct List;
struct Dict;
struct Callable;
class Interpreter;

// An error raised while evaluating (a type error, an undefined value used where Jinja2 fails).
// The interpreter adds the template line before it reaches the caller.
class EvalError : public std::runtime_error {
 public:
  explicit EvalError(const std::string& message) : std::runtime_error(message) {}
};

// Jinja2's default Undefined: prints as "", is falsy, iterates as empty; `hint` is the message
// of the error raised when it is used where that is not allowed (attribute access, arithmetic).
struct Undefined {
  std::string hint;
};
struct None {};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kCallable };

  Value() : v_(Undefined{}) {}
  static Value undefined(std::string hint) { return Value(Undefined{std::move(hint)}); }
  static Value none() { return Value(None{}); }
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::make_shared<const std::string>(std::move(s))) {}
  Value(const char* s) : Value(std::string(s)) {}
  Value(List* l) : v_(l) {}
  Value(Dict* d) : v_(d) {}
  Value(Callable* c) : v_(c) {}

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  // int, float or bool (Python's bool is an int).
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return *std::get<StringPtr>(v_); }
  List* as_list() const { return std::get<List*>(v_); }
  Dict* as_dict() const { return std::get<Dict*>(v_); }
  Callable* as_callable() const { return std::get<Callable*>(v_); }
  const std::string& undefined_hint() const { return std::get<Undefined>(v_).hint; }

  // Numeric views (bool counts as 0/1). Callers check is_number() first.
  double to_double() const;
  int64_t to_int() const;

  // Python bool().
  bool truthy() const;
  // Jinja2 type name as Python spells it ("str", "int", "dict object"...), for messages.
  const char* type_name() const;

 private:
  explicit Value(Undefined u) : v_(std::move(u)) {}
  explicit Value(None n) : v_(n) {}
  // Strings are immutable and shared: reading a variable does not copy its text.
  using StringPtr = std::shared_ptr<const std::string>;
  std::variant<Undefined, None, bool, int64_t, double, StringPtr, List*, Dict*, Callable*> v_;
};

struct List {
  std::vector<Value> items;
  bool is_tuple = false;
};

// An insertion-ordered dict. Keys are usually strings (JSON objects); other scalar keys work
// through a linear scan. A namespace() object is a dict whose attributes can be assigned.
struct Dict {
  bool is_namespace = false;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(const Value& key, Value value);
  bool erase(const Value& key);
  size_t size() const { return entries_.size(); }
  // The value of the entry at `position` (insertion order), for in-place updates.
  Value& value_at(size_t position) { return entries_[position].second; }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  void clear() {
    entries_.clear();
    index_.clear();
  }

 private:
  void reindex();
  std::vector<std::pair<Value, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;  // string key -> position in entries_
};

// Arguments of a call: positional, then keyword.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument named `name`, or positional `index`, or nullptr.
  const Value* get(size_t index, std::string_view name) const;
};

struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

// Owns every container and callable of one render (stable addresses).
class Heap {
 public:
  List* new_list();
  Dict* new_dict();
  Callable* new_callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);
  size_t num_objects() const { return lists_.size() + dicts_.size() + callables_.size(); }

 private:
  std::deque<List> lists_;
  std::deque<Dict> dicts_;
  std::deque<Callable> callables_;
};

// JSON input -> Value (objects become dicts, arrays lists); depth-limited. Objects keep the
// order of their keys, so that tojson writes them as json.dumps writes the client's dicts.
Value from_json(Heap& heap, const nlohmann::ordered_json& j);

// Python str(): strings as they are, None as "None", True/False, floats as repr(), containers
// as their repr. Undefined prints as "".
std::string to_str(const Value& v);
// Python repr() (strings quoted).
std::string to_repr(const Value& v);
// Python repr() of a float: "1.0", "0.1", "1e-05", "1e+16", "inf".
std::string float_repr(double d);

struct JsonOptions {
  int indent = -1;         // < 0: no newlines
  std::string indent_str;  // used when indent was given as a string
  bool indent_is_string = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool ensure_ascii = false;
  bool sort_keys = false;
};
// Python json.dumps with the given options; throws EvalError for values JSON cannot hold.
std::string to_json(const Value& v, const JsonOptions& options);

// Python ==.
bool equals(const Value& a, const Value& b);
// Python <, for numbers, strings and lists; throws EvalError otherwise.
bool less_than(const Value& a, const Value& b);

// UTF-8 strings seen as sequences of code points (Python str indexing). Bytes that are not
// valid UTF-8 round-trip unchanged.
std::vector<uint32_t> decode_utf8(std::string_view s);
std::string encode_utf8(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t utf8_length(std::string_view s);

}  // namespace pareto::chat_template
