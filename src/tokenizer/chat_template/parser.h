// Builds the syntax tree from tokens, with Jinja2's grammar and operator precedence:
// `x if c else y` < or < and < not < comparisons (== != < <= > >= in, not in) < + - < ~ <
// * / // % < ** < unary -/+ < filters `|` and tests `is` < postfix (.attr, [item], [a:b:c], call).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/lexer.h"

namespace pareto::chat_template {

// Nesting depth (blocks and expressions together) past which a template is refused, so that a
// hostile template cannot exhaust the stack of the parser or the interpreter.
inline constexpr int kMaxParseDepth = 200;

// Throws pareto::Error "chat template: line L, column C: ..." on a syntax error.
Body parse(const std::vector<Token>& tokens, const SourceMap& map);

}  // namespace pareto::chat_template
