// Walks the syntax tree of a template and renders it (Jinja2 3.1 semantics). One Interpreter
// per render: it owns the heap of that render, the scopes and the resource guards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/chat_template.h"
#include "tokenizer/chat_template/lexer.h"
#include "tokenizer/chat_template/value.h"

namespace pareto::chat_template {

using Limits = ChatTemplateLimits;

using Clock = std::function<std::chrono::system_clock::time_point()>;

// A variable scope: the template's top level, one iteration of a loop, one macro call.
struct Scope {
  Scope* parent = nullptr;
  std::vector<std::pair<std::string, Value>> vars;

  Value* find_local(std::string_view name);
  void set(const std::string& name, Value value);
};

class Interpreter {
 public:
  Interpreter(const SourceMap& map, Limits limits);

  // Renders `body` with `globals` (template inputs and built-in functions) as the outermost
  // variables. Errors: ChatTemplateError (with line and column, or raise_exception's message).
  std::string render(const Body& body, Dict* globals);

  Heap& heap() { return heap_; }
  List* new_list();
  Dict* new_dict();
  Callable* new_callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);

  // Resource accounting for work proportional to `units` (items copied, loop turns).
  void charge(uint64_t units);
  // Charges for scanning a string value (1 step per 64 bytes): work on big strings counts.
  void charge_text(const Value& v);
  // Charges for a string just created (so that memory a render holds is bounded by its steps).
  Value charged(Value v);
  // Charges a string method or filter on `text` whose string arguments may be searched for.
  void charge_search(const Value& text, const CallArgs& args);
  // Refuses a string or output larger than the output limit.
  void check_size(size_t bytes) const;
  [[noreturn]] void fail(const std::string& message) const;

  // Python/Jinja2 operations the filters and methods share with the evaluator.
  Value call(const Value& callee, CallArgs& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  // The items of an iterable (list/tuple items, dict keys, string characters); Undefined is
  // empty; anything else fails.
  std::vector<Value> iterate(const Value& v);
  Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
  bool apply_test(const std::string& name, const Value& input, CallArgs& args);
  // `attribute="a.b.0"` paths of map/selectattr/sort/...
  Value get_path(const Value& obj, const Value& path);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec_body(const Body& body, Scope& scope, std::string& out);
  Flow exec(const Stmt& s, Scope& scope, std::string& out);
  void exec_for(const Stmt& s, Scope& scope, std::string& out);
  void exec_set(const Stmt& s, Scope& scope);
  void assign(const Target& target, Value value, Scope& scope);
  void define_macro(const Stmt& s, Scope& scope);
  Value call_macro(const Stmt& macro, CallArgs& args, const Value& caller);
  void exec_call_block(const Stmt& s, Scope& scope, std::string& out);
  void append(std::string& out, std::string_view text);

  Value eval(const Expr& e, Scope& scope);
  Value eval_call(const Expr& e, Scope& scope);
  void eval_args(const Expr& e, size_t first, Scope& scope, CallArgs& args);
  Value eval_binary(const std::string& op, const Value& a, const Value& b);
  Value eval_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
  bool eval_compare(const std::string& op, const Value& a, const Value& b);
  Value lookup(const std::string& name, Scope& scope);

  const SourceMap& map_;
  Limits limits_;
  Heap heap_;
  Dict* globals_ = nullptr;
  Scope* root_ = nullptr;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  size_t pos_ = 0;  // offset of the node being evaluated, for error messages
  const Value* block_input_ = nullptr;
};

// Python's % string formatting ("%s, %d" % args), used by the `format` filter and `%`.
std::string percent_format(Interpreter& in, const std::string& fmt, const std::vector<Value>& args);

}  // namespace pareto::chat_template
