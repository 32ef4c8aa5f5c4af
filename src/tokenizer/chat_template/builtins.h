// The built-in library of the interpreter: operators (operators.cc), filters (filters.cc),
// tests (tests.cc), methods of str/list/dict (methods.cc) and global functions (globals.cc).
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/chat_template/interpreter.h"
#include "tokenizer/chat_template/value.h"

namespace pareto::chat_template {

using FilterFn = Value (*)(Interpreter&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Interpreter&, const Value& input, CallArgs& args);

// nullptr when there is no such filter / test.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// Python's binary operators + - * / // % ** on values (not ~, which the interpreter does).
Value arithmetic(Interpreter& in, const std::string& op, const Value& a, const Value& b);
// Python's `item in container`.
bool contains(Interpreter& in, const Value& container, const Value& item);

// Methods of strings, lists and dicts ("abc".upper(), d.items(), l.append(x)).
bool has_method(const Value& obj, std::string_view name);
// Calls obj.name(args) into result; false when obj has no such method.
bool call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args,
                 Value& result);
// obj.name as a callable value (when a method is read without being called).
Value bound_method(Interpreter& in, const Value& obj, const std::string& name);

// Python str methods shared with filters.
std::string str_strip(const std::string& s, const Value* chars, bool left, bool right);
std::string str_upper(const std::string& s);
std::string str_lower(const std::string& s);
std::string str_replace(Interpreter& in, const std::string& s, const std::string& old,
                        const std::string& with, int64_t count);

// Argument helpers: the argument at `index` or named `name`, or `fallback`.
Value arg(const CallArgs& args, size_t index, std::string_view name, Value fallback = Value());
std::string arg_str(const CallArgs& args, size_t index, std::string_view name,
                    const std::string& fallback);
int64_t arg_int(Interpreter& in, const CallArgs& args, size_t index, std::string_view name,
                int64_t fallback);
bool arg_bool(const CallArgs& args, size_t index, std::string_view name, bool fallback);

// The global functions: range, dict, namespace, raise_exception, strftime_now, joiner, cycler.
void add_globals(Interpreter& in, Dict* globals, const Clock& clock);

}  // namespace pareto::chat_template
