// Splits template source into tokens the way Jinja2 3.1 does with trim_blocks and lstrip_blocks
// on: text runs, `{{ }}` and `{% %}` tags with the tokens inside them; comments vanish and
// `{% raw %}` bodies become text. Whitespace control (`-`, `+` on either side of a tag) is
// applied here, so the parser sees text exactly as it will be printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pareto::chat_template {

enum class TokenType {
  kText,        // template data between tags
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // text holds the decoded value
  kInt,
  kFloat,
  kOperator,  // text holds the operator: + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
  kEof,
};

struct Token {
  TokenType type;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0.0;
  size_t offset = 0;  // into the normalized source
};

// Maps offsets of the normalized source to 1-based line and column for messages.
class SourceMap {
 public:
  explicit SourceMap(std::string_view source);
  int line(size_t offset) const;
  int column(size_t offset) const;
  // "line L, column C"
  std::string where(size_t offset) const;

 private:
  std::vector<size_t> line_starts_;
};

// Jinja2's source normalization: "\r\n" and "\r" become "\n" and one trailing newline is dropped
// (keep_trailing_newline off).
std::string normalize_source(std::string_view source);

// Tokenizes normalized source; throws pareto::Error "chat template: line L, column C: ..." on a
// lexical error (unterminated tag, comment or string, an unexpected character).
std::vector<Token> tokenize(const std::string& source, const SourceMap& map);

}  // namespace pareto::chat_template
