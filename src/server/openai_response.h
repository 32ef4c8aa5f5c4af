// Builds the JSON OpenAI clients expect: whole completion / chat.completion objects, streamed
// chunks, usage and logprobs. Pure functions of their inputs (no engine, no I/O).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/output_processor.h"
#include "sample/sampler.h"
#include "server/openai_request.h"

namespace pareto {
class Tokenizer;
}

namespace pareto::server {

struct UsageCounts {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
};

// What the client gets per choice: "object", "created", "id" and "model" are shared.
struct ResponseHeader {
  std::string id;  // "cmpl-..." or "chatcmpl-..."
  int64_t created = 0;
  std::string model;
};

struct ChoiceResult {
  int32_t index = 0;
  std::string text;
  std::vector<SampledToken> logprobs;  // per generated token, when requested
  std::optional<FinishReason> finish_reason;
  std::variant<std::monostate, std::string, int32_t> stop_reason;
};

nlohmann::json usage_json(const UsageCounts& usage);
// "stop", "length", "abort" (vLLM's name for cancelled), "error".
nlohmann::json finish_reason_json(const std::optional<FinishReason>& reason);
nlohmann::json stop_reason_json(const std::variant<std::monostate, std::string, int32_t>& r);

// Completions' legacy logprobs object; text_offset starts at `offset` (the choice's text
// length so far).
nlohmann::json completion_logprobs_json(const Tokenizer& tok, const std::vector<SampledToken>& lp,
                                        size_t offset);
// Chat's {"content": [{token, logprob, bytes, top_logprobs}]}.
nlohmann::json chat_logprobs_json(const Tokenizer& tok, const std::vector<SampledToken>& lp);

// Whole (non-streamed) responses.
nlohmann::json completion_response(const ResponseHeader& h, const std::vector<ChoiceResult>& c,
                                   const UsageCounts& usage, const Tokenizer& tok, bool logprobs);
nlohmann::json chat_response(const ResponseHeader& h, const std::vector<ChoiceResult>& c,
                             const UsageCounts& usage, const Tokenizer& tok, bool logprobs);

// One streamed chunk carrying one choice's delta (text may be empty when only the finish
// reason is new). `offset` = the choice's text length before this delta (completion logprobs).
nlohmann::json completion_chunk(const ResponseHeader& h, const ChoiceResult& delta,
                                const Tokenizer& tok, bool logprobs, size_t offset);
// Chat chunk; `first` adds role "assistant" to the delta.
nlohmann::json chat_chunk(const ResponseHeader& h, const ChoiceResult& delta, const Tokenizer& tok,
                          bool logprobs, bool first);
// The final usage chunk (stream_options.include_usage): "choices": [].
nlohmann::json usage_chunk(const ResponseHeader& h, ApiKind kind, const UsageCounts& usage);

// The SSE event of a streamed chunk that carries only text: non-empty, no logprobs, no finish
// reason, and not a chat stream's first chunk (which carries the role). render() gives exactly the
// bytes of sse_event(completion_chunk(...)) or sse_event(chat_chunk(...)) for such a delta, at the
// price of escaping the text: a token stream sends one such chunk per token, and building and
// dumping a JSON tree for each was ~40% of the API worker's time. The constant parts come from
// dumping a chunk once with a marker for the text, so they follow the general path's shape
// wherever it changes.
class TextChunkTemplate {
 public:
  // tok is not kept (a chunk without logprobs never reads it).
  TextChunkTemplate(const ResponseHeader& h, ApiKind kind, int32_t index, const Tokenizer& tok);
  // False when the marker could not be placed (see the constructor): use the general path.
  bool usable() const { return usable_; }
  // text must not be empty (a chat delta omits empty content).
  std::string render(const std::string& text) const;

 private:
  bool usable_ = false;
  std::string head_;  // "data: " up to the text's opening quote
  std::string tail_;  // from the closing quote to "\n\n"
};

// "data: <json>\n\n", invalid UTF-8 replaced so a token split mid-character cannot break JSON.
std::string sse_event(const nlohmann::json& j);
// JSON text with invalid UTF-8 replaced by U+FFFD.
std::string dump_json(const nlohmann::json& j);

}  // namespace pareto::server
