#include "tokenizer/chat_template/chat_template.h"

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/interpreter.h"
#include "tokenizer/chat_template/lexer.h"
#include "tokenizer/chat_template/parser.h"

namespace pareto {

namespace chat_template {

struct Compiled {
  std::string source;      // as given
  std::string normalized;  // newlines normalized, what offsets refer to
  SourceMap map;
  Body body;
  Limits limits;
  ChatTemplate::Clock clock;

  explicit Compiled(std::string src)
      : source(std::move(src)), normalized(normalize_source(source)), map(normalized) {
    const std::vector<Token> tokens = tokenize(normalized, map);
    body = parse(tokens, map);
  }
};

}  // namespace chat_template

using chat_template::Value;

ChatTemplate::ChatTemplate(std::string source)
    : compiled_(std::make_unique<chat_template::Compiled>(std::move(source))) {}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

void ChatTemplate::set_clock(Clock clock) {
  compiled_->clock = std::move(clock);
}

void ChatTemplate::set_limits(const ChatTemplateLimits& limits) {
  compiled_->limits = limits;
}

const std::string& ChatTemplate::source() const {
  return compiled_->source;
}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  chat_template::Interpreter in(compiled_->map, compiled_->limits);
  chat_template::Dict* globals = nullptr;
  try {
    globals = in.new_dict();
    chat_template::add_globals(in, globals, compiled_->clock);
    if (inputs.extra.is_object()) {
      for (auto it = inputs.extra.begin(); it != inputs.extra.end(); ++it) {
        globals->set(Value(it.key()), chat_template::from_json(in.heap(), it.value()));
      }
    }
    globals->set(Value("messages"), chat_template::from_json(in.heap(), inputs.messages));
    globals->set(Value("add_generation_prompt"), Value(inputs.add_generation_prompt));
    globals->set(Value("bos_token"), Value(inputs.bos_token));
    globals->set(Value("eos_token"), Value(inputs.eos_token));
  } catch (const chat_template::EvalError& e) {
    throw ChatTemplateError(std::string("chat template inputs: ") + e.what(), false);
  }
  return in.render(compiled_->body, globals);
}

const char* ChatTemplate::default_chatml() {
  return "{%- for message in messages -%}\n"
         "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
         "{%- if message['content'] is string -%}\n"
         "{{- message['content'] -}}\n"
         "{%- elif message['content'] is sequence and message['content'] is not mapping -%}\n"
         "{%- for part in message['content'] -%}\n"
         "{%- if part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}\n"
         "{%- endfor -%}\n"
         "{%- endif -%}\n"
         "{{- '<|im_end|>\\n' -}}\n"
         "{%- endfor -%}\n"
         "{%- if add_generation_prompt -%}\n"
         "{{- '<|im_start|>assistant\\n' -}}\n"
         "{%- endif -%}\n";
}

}  // namespace pareto
