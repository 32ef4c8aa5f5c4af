#include "server/openai_response.h"

#include "tokenizer/tokenizer.h"

namespace pareto::server {

using nlohmann::json;

std::string dump_json(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string sse_event(const json& j) {
  return "data: " + dump_json(j) + "\n\n";
}

json usage_json(const UsageCounts& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

json finish_reason_json(const std::optional<FinishReason>& reason) {
  if (!reason) return nullptr;
  return std::string(finish_reason_name(*reason));
}

json stop_reason_json(const std::variant<std::monostate, std::string, int32_t>& r) {
  if (const auto* s = std::get_if<std::string>(&r)) return *s;
  if (const auto* t = std::get_if<int32_t>(&r)) return *t;
  return nullptr;
}

namespace {

// A token's text as the client sees it: its detokenized piece (bytes of a split UTF-8
// character are replaced when dumped).
std::string piece(const Tokenizer& tok, int32_t id) {
  return tok.token_to_piece(id, true);
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

json header_json(const ResponseHeader& h, const char* object) {
  return {{"id", h.id}, {"object", object}, {"created", h.created}, {"model", h.model}};
}

}  // namespace

json completion_logprobs_json(const Tokenizer& tok, const std::vector<SampledToken>& lp,
                              size_t offset) {
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(),
       offsets = json::array();
  for (const SampledToken& t : lp) {
    const std::string p = piece(tok, t.token_id);
    tokens.push_back(p);
    token_logprobs.push_back(t.logprob ? json(*t.logprob) : json(nullptr));
    json alts = json::object();
    for (const TokenLogprob& a : t.top_logprobs) alts[piece(tok, a.token_id)] = a.logprob;
    top.push_back(std::move(alts));
    offsets.push_back(offset);
    offset += p.size();
  }
  return {{"tokens", tokens},
          {"token_logprobs", token_logprobs},
          {"top_logprobs", top},
          {"text_offset", offsets}};
}

json chat_logprobs_json(const Tokenizer& tok, const std::vector<SampledToken>& lp) {
  json content = json::array();
  for (const SampledToken& t : lp) {
    const std::string p = piece(tok, t.token_id);
    json alts = json::array();
    for (const TokenLogprob& a : t.top_logprobs) {
      const std::string ap = piece(tok, a.token_id);
      alts.push_back({{"token", ap}, {"logprob", a.logprob}, {"bytes", bytes_of(ap)}});
    }
    content.push_back({{"token", p},
                       {"logprob", t.logprob ? json(*t.logprob) : json(nullptr)},
                       {"bytes", bytes_of(p)},
                       {"top_logprobs", alts}});
  }
  return {{"content", content}, {"refusal", nullptr}};
}

json completion_response(const ResponseHeader& h, const std::vector<ChoiceResult>& choices,
                         const UsageCounts& usage, const Tokenizer& tok, bool logprobs) {
  json j = header_json(h, "text_completion");
  json cs = json::array();
  for (const ChoiceResult& c : choices)
    cs.push_back({{"index", c.index},
                  {"text", c.text},
                  {"logprobs", logprobs ? completion_logprobs_json(tok, c.logprobs, 0) : json()},
                  {"finish_reason", finish_reason_json(c.finish_reason)},
                  {"stop_reason", stop_reason_json(c.stop_reason)}});
  j["choices"] = std::move(cs);
  j["usage"] = usage_json(usage);
  j["system_fingerprint"] = nullptr;
  return j;
}

json chat_response(const ResponseHeader& h, const std::vector<ChoiceResult>& choices,
                   const UsageCounts& usage, const Tokenizer& tok, bool logprobs) {
  json j = header_json(h, "chat.completion");
  json cs = json::array();
  for (const ChoiceResult& c : choices)
    cs.push_back({{"index", c.index},
                  {"message", {{"role", "assistant"}, {"content", c.text}, {"refusal", nullptr}}},
                  {"logprobs", logprobs ? chat_logprobs_json(tok, c.logprobs) : json()},
                  {"finish_reason", finish_reason_json(c.finish_reason)},
                  {"stop_reason", stop_reason_json(c.stop_reason)}});
  j["choices"] = std::move(cs);
  j["usage"] = usage_json(usage);
  j["system_fingerprint"] = nullptr;
  return j;
}

json completion_chunk(const ResponseHeader& h, const ChoiceResult& d, const Tokenizer& tok,
                      bool logprobs, size_t offset) {
  json j = header_json(h, "text_completion");
  json choice = {
      {"index", d.index},
      {"text", d.text},
      {"logprobs", logprobs ? completion_logprobs_json(tok, d.logprobs, offset) : json()},
      {"finish_reason", finish_reason_json(d.finish_reason)}};
  if (d.finish_reason) choice["stop_reason"] = stop_reason_json(d.stop_reason);
  j["choices"] = json::array({choice});
  j["system_fingerprint"] = nullptr;
  return j;
}

json chat_chunk(const ResponseHeader& h, const ChoiceResult& d, const Tokenizer& tok, bool logprobs,
                bool first) {
  json j = header_json(h, "chat.completion.chunk");
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  if (first || !d.text.empty()) delta["content"] = d.text;
  json choice = {
      {"index", d.index},
      {"delta", delta},
      {"logprobs", logprobs && !d.logprobs.empty() ? chat_logprobs_json(tok, d.logprobs) : json()},
      {"finish_reason", finish_reason_json(d.finish_reason)}};
  if (d.finish_reason) choice["stop_reason"] = stop_reason_json(d.stop_reason);
  j["choices"] = json::array({choice});
  j["system_fingerprint"] = nullptr;
  return j;
}

json usage_chunk(const ResponseHeader& h, ApiKind kind, const UsageCounts& usage) {
  json j = header_json(h, kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array();
  j["usage"] = usage_json(usage);
  j["system_fingerprint"] = nullptr;
  return j;
}

TextChunkTemplate::TextChunkTemplate(const ResponseHeader& h, ApiKind kind, int32_t index,
                                     const Tokenizer& tok) {
  // Control characters, which real model names and ids are not: a header member equal to the
  // marker (a served model name chosen to be) leaves the template unusable.
  static const std::string kMarker = "\x01text\x01";
  ChoiceResult d;
  d.index = index;
  d.text = kMarker;
  const std::string event = kind == ApiKind::kChat
                                ? sse_event(chat_chunk(h, d, tok, false, false))
                                : sse_event(completion_chunk(h, d, tok, false, 0));
  const std::string quoted = dump_json(json(kMarker));
  const size_t at = event.find(quoted);
  if (at == std::string::npos || event.find(quoted, at + 1) != std::string::npos) return;
  usable_ = true;
  head_ = event.substr(0, at);
  tail_ = event.substr(at + quoted.size());
}

std::string TextChunkTemplate::render(const std::string& text) const {
  const std::string quoted = dump_json(json(text));
  std::string out;
  out.reserve(head_.size() + quoted.size() + tail_.size());
  out += head_;
  out += quoted;
  out += tail_;
  return out;
}

}  // namespace pareto::server
