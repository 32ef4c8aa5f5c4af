// Chat templates: the Jinja2 programs (tokenizer.chat_template in GGUF metadata or a
// --chat-template file) that turn a list of chat messages into a prompt. Our own interpreter of
// the Jinja2 subset real templates use, rendering as Jinja2 3.1 does when configured like
// Hugging Face transformers (trim_blocks, lstrip_blocks, HF tojson, raise_exception,
// strftime_now). The supported subset is documented in docs/chat_templates.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace pareto {

namespace chat_template {
struct Compiled;
}

// ordered_json, not json: templates print request objects with tojson, which Hugging Face
// defines as json.dumps without sort_keys, so their keys must reach the template in the order
// the client wrote them (nlohmann::json would sort them).
struct ChatTemplateInputs {
  // Array of {role, content} (content: string, array of parts, or null); may carry tool_calls,
  // tool_call_id, name...
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  // Extra top-level variables (tools, documents, enable_thinking, ...). messages,
  // add_generation_prompt, bos_token and eos_token take precedence over keys of the same name.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

// A render-time error: a template's raise_exception(msg) (what() is exactly msg, raised() is
// true), or an evaluation error ("chat template: line L, column C: ...", raised() false), or a
// resource guard (output size, step or recursion limit).
class ChatTemplateError : public Error {
 public:
  ChatTemplateError(const std::string& message, bool raised) : Error(message), raised_(raised) {}
  bool raised() const { return raised_; }

 private:
  bool raised_;
};

// Guards that keep a hostile template from hanging a server or exhausting its memory; a render
// that exceeds one fails with a ChatTemplateError naming it.
struct ChatTemplateLimits {
  size_t max_output_bytes = 16u << 20;  // the output and any string value
  uint64_t max_steps = 5'000'000;       // statements, expression nodes, loop turns, items copied
  int max_call_depth = 32;              // nested macro / caller() calls
  size_t max_objects = 2'000'000;       // lists, dicts and functions created in one render
};

class ChatTemplate {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Parses once; throws pareto::Error ("chat template: line L, column C: ...") on a syntax error.
  explicit ChatTemplate(std::string source);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders; thread-safe (a render only reads the parsed template). Throws ChatTemplateError.
  std::string render(const ChatTemplateInputs& inputs) const;

  // The clock strftime_now() reads (default: the system clock, local time). Tests fix it.
  void set_clock(Clock clock);
  // Replaces the default limits (not while renders are running).
  void set_limits(const ChatTemplateLimits& limits);

  const std::string& source() const;

  // The ChatML template used when a GGUF file has no tokenizer.chat_template.
  static const char* default_chatml();

 private:
  std::unique_ptr<chat_template::Compiled> compiled_;
};

}  // namespace pareto
