#include "server/openai_request.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>

#include "server/ordered_json_parse.h"
#include "tokenizer/chat_template/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace pareto::server {
namespace {

// Ordered: messages, tools and chat_template_kwargs go to the chat template as the client wrote
// them.
using json = nlohmann::ordered_json;

const char* json_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

ApiError wrong_type(const std::string& param, const char* expected, const json& got) {
  return invalid_request(
      fmt::format("'{}' must be {}, got {}", param, expected, json_type_name(got)), param,
      "invalid_type");
}

// A present, non-null member, or nullptr. Clients send null for "not set".
const json* member(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<bool> get_bool(const json& body, const char* key) {
  const json* v = member(body, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw wrong_type(key, "a boolean", *v);
  return v->get<bool>();
}

std::optional<double> get_number(const json& body, const char* key) {
  const json* v = member(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw wrong_type(key, "a number", *v);
  const double d = v->get<double>();
  if (!std::isfinite(d)) throw invalid_request(fmt::format("'{}' must be finite", key), key);
  return d;
}

std::optional<int64_t> get_int(const json& body, const char* key) {
  const json* v = member(body, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw invalid_request(fmt::format("'{}' is too large", key), key, "invalid_value");
    return v->get<int64_t>();
  }
  // 2.0 is accepted as 2, as Python-based servers do.
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
      return static_cast<int64_t>(d);
  }
  throw wrong_type(key, "an integer", *v);
}

std::optional<std::string> get_string(const json& body, const char* key) {
  const json* v = member(body, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw wrong_type(key, "a string", *v);
  return v->get<std::string>();
}

void check_range(const char* param, double v, double lo, double hi) {
  if (v < lo || v > hi)
    throw invalid_request(fmt::format("'{}' must be between {} and {}, got {}", param, lo, hi, v),
                          param, "invalid_value");
}

std::string check_model(const json& body, const RequestParserContext& ctx) {
  const json* v = member(body, "model");
  if (!v) throw invalid_request("'model' is required", "model", "missing_required_parameter");
  if (!v->is_string()) throw wrong_type("model", "a string", *v);
  std::string model = v->get<std::string>();
  for (const std::string& name : ctx.served_model_names)
    if (name == model) return model;
  throw invalid_request(fmt::format("The model `{}` does not exist. Available: {}", model,
                                    fmt::join(ctx.served_model_names, ", ")),
                        "model", "model_not_found");
}

std::vector<std::string> parse_stop(const json& body) {
  const json* v = member(body, "stop");
  if (!v) return {};
  std::vector<std::string> stop;
  if (v->is_string()) {
    stop.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const json& s : *v) {
      if (!s.is_string()) throw wrong_type("stop", "a string or an array of strings", s);
      stop.push_back(s.get<std::string>());
    }
  } else {
    throw wrong_type("stop", "a string or an array of strings", *v);
  }
  for (const std::string& s : stop)
    if (s.empty())
      throw invalid_request("'stop' strings must not be empty", "stop", "invalid_value");
  return stop;
}

// The sampling and stopping fields shared by both endpoints (OpenAI's and vLLM's extras).
void parse_common(const json& body, ApiRequest& req, GenerationRequest& base,
                  const RequestParserContext& ctx) {
  SamplingParams& s = base.sampling;
  if (auto t = get_number(body, "temperature")) {
    check_range("temperature", *t, 0.0, 2.0);
    s.temperature = static_cast<float>(*t);
  }
  if (auto p = get_number(body, "top_p")) {
    if (*p <= 0.0 || *p > 1.0)
      throw invalid_request(fmt::format("'top_p' must be in (0, 1], got {}", *p), "top_p",
                            "invalid_value");
    s.top_p = static_cast<float>(*p);
  }
  if (auto k = get_int(body, "top_k")) {
    if (*k < -1 || *k > std::numeric_limits<int32_t>::max())
      throw invalid_request(fmt::format("'top_k' must be -1 (off) or >= 0, got {}", *k), "top_k",
                            "invalid_value");
    s.top_k = static_cast<int32_t>(*k);
  }
  if (auto m = get_number(body, "min_p")) {
    check_range("min_p", *m, 0.0, 1.0);
    s.min_p = static_cast<float>(*m);
  }
  if (auto r = get_number(body, "repetition_penalty")) {
    if (*r <= 0.0 || *r > 100.0)
      throw invalid_request(fmt::format("'repetition_penalty' must be in (0, 100], got {}", *r),
                            "repetition_penalty", "invalid_value");
    s.repetition_penalty = static_cast<float>(*r);
  }
  if (auto p = get_number(body, "presence_penalty")) {
    check_range("presence_penalty", *p, -2.0, 2.0);
    s.presence_penalty = static_cast<float>(*p);
  }
  if (auto f = get_number(body, "frequency_penalty")) {
    check_range("frequency_penalty", *f, -2.0, 2.0);
    s.frequency_penalty = static_cast<float>(*f);
  }
  if (auto seed = get_int(body, "seed")) s.seed = static_cast<uint64_t>(*seed);

  if (auto n = get_int(body, "n")) {
    if (*n < 1 || *n > ctx.max_n)
      throw invalid_request(fmt::format("'n' must be between 1 and {}, got {}", ctx.max_n, *n), "n",
                            "invalid_value");
    req.n = static_cast<int32_t>(*n);
  }
  if (auto best_of = get_int(body, "best_of"); best_of && *best_of != req.n)
    throw invalid_request("'best_of' other than n is not supported", "best_of", "invalid_value");
  if (const json* bias = member(body, "logit_bias"); bias && !(bias->is_object() && bias->empty()))
    throw invalid_request("'logit_bias' is not supported", "logit_bias", "unsupported_parameter");
  if (const json* rf = member(body, "response_format")) {
    const json* type = rf->is_object() ? member(*rf, "type") : nullptr;
    if (!type || *type != "text")
      throw invalid_request("only response_format {\"type\": \"text\"} is supported",
                            "response_format", "unsupported_parameter");
  }
  if (auto user = get_string(body, "user")) (void)user;  // accepted, not used

  StopConditions& stop = base.stop;
  stop.stop = parse_stop(body);
  if (const json* ids = member(body, "stop_token_ids")) {
    if (!ids->is_array()) throw wrong_type("stop_token_ids", "an array of integers", *ids);
    for (const json& id : *ids) {
      if (!id.is_number_integer()) throw wrong_type("stop_token_ids", "an array of integers", id);
      const int64_t t = id.get<int64_t>();
      if (t < 0 || t >= ctx.tokenizer->vocab_size())
        throw invalid_request(fmt::format("stop token id {} is outside the vocabulary", t),
                              "stop_token_ids", "invalid_value");
      stop.stop_token_ids.push_back(static_cast<int32_t>(t));
    }
  }
  if (auto b = get_bool(body, "ignore_eos")) stop.ignore_eos = *b;
  if (auto b = get_bool(body, "include_stop_str_in_output")) stop.include_stop_str_in_output = *b;
  if (auto b = get_bool(body, "skip_special_tokens")) stop.skip_special_tokens = *b;
  if (auto m = get_int(body, "min_tokens")) {
    if (*m < 0) throw invalid_request("'min_tokens' must be >= 0", "min_tokens", "invalid_value");
    stop.min_tokens = *m;
  }
  if (auto p = get_int(body, "priority")) {
    if (*p < std::numeric_limits<int32_t>::min() || *p > std::numeric_limits<int32_t>::max())
      throw invalid_request("'priority' is out of range", "priority", "invalid_value");
    base.priority = static_cast<int32_t>(*p);
  }

  if (auto stream = get_bool(body, "stream")) req.stream = *stream;
  if (const json* so = member(body, "stream_options")) {
    if (!so->is_object()) throw wrong_type("stream_options", "an object", *so);
    if (!req.stream)
      throw invalid_request("'stream_options' is only allowed when 'stream' is true",
                            "stream_options", "invalid_value");
    if (auto u = get_bool(*so, "include_usage")) req.include_usage = *u;
  }
}

// max_tokens (or max_completion_tokens) checked against the context: vLLM's and OpenAI's
// context_length_exceeded error when prompt + max_tokens does not fit.
void apply_max_tokens(const json& body, ApiRequest& req, const RequestParserContext& ctx,
                      int64_t default_max_tokens) {
  std::optional<int64_t> max_tokens = get_int(body, "max_tokens");
  const char* param = "max_tokens";
  if (auto mct = get_int(body, "max_completion_tokens")) {
    max_tokens = mct;
    param = "max_completion_tokens";
  }
  if (max_tokens && *max_tokens < 1)
    throw invalid_request(fmt::format("'{}' must be at least 1, got {}", param, *max_tokens), param,
                          "invalid_value");
  const char* prompt_param = req.kind == ApiKind::kChat ? "messages" : "prompt";
  for (GenerationRequest& g : req.prompts) {
    const auto num_prompt = static_cast<int64_t>(g.prompt_token_ids.size());
    if (num_prompt == 0)
      throw invalid_request("the prompt is empty", prompt_param, "invalid_value");
    const int64_t room = ctx.max_model_len - num_prompt;
    const int64_t wanted = max_tokens ? *max_tokens : std::min(default_max_tokens, room);
    if (room < 1 || wanted > room)
      throw invalid_request(
          fmt::format("This model's maximum context length is {} tokens. However, you requested "
                      "{} tokens ({} in the {}, {} in the completion). Please reduce the length "
                      "of the {} or completion.",
                      ctx.max_model_len, num_prompt + std::max<int64_t>(wanted, 0), num_prompt,
                      prompt_param, std::max<int64_t>(wanted, 0), prompt_param),
          max_tokens ? param : prompt_param, "context_length_exceeded");
    g.stop.max_tokens = wanted;
    if (g.stop.min_tokens > wanted)
      throw invalid_request("'min_tokens' must not exceed max_tokens", "min_tokens",
                            "invalid_value");
  }
}

std::vector<int32_t> token_list(const json& arr, const RequestParserContext& ctx) {
  std::vector<int32_t> ids;
  ids.reserve(arr.size());
  for (const json& t : arr) {
    if (!t.is_number_integer())
      throw wrong_type("prompt", "a string, an array of strings or an array of token ids", t);
    const int64_t id = t.get<int64_t>();
    if (id < 0 || id >= ctx.tokenizer->vocab_size())
      throw invalid_request(fmt::format("prompt token id {} is outside the vocabulary of {}", id,
                                        ctx.tokenizer->vocab_size()),
                            "prompt", "invalid_value");
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

// The text of one message's content: a string, or an array of {"type": "text", "text": ...}.
std::string content_text(const json& content, size_t msg_idx) {
  const std::string param = fmt::format("messages[{}].content", msg_idx);
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    throw wrong_type(param, "a string or an array of content parts", content);
  std::string text;
  for (const json& part : content) {
    if (!part.is_object()) throw wrong_type(param, "an array of content parts", part);
    const json* type = member(part, "type");
    if (!type || !type->is_string() || *type != "text")
      throw invalid_request(
          fmt::format("{}: only content parts of type 'text' are supported", param), param,
          "invalid_value");
    const json* t = member(part, "text");
    if (!t || !t->is_string()) throw invalid_request(param + ": a text part needs 'text'", param);
    text += t->get<std::string>();
  }
  return text;
}

// Messages normalized for the template: content flattened to a string (templates index it as
// one), other fields passed through.
json normalize_messages(const json& body) {
  const json* msgs = member(body, "messages");
  if (!msgs)
    throw invalid_request("'messages' is required", "messages", "missing_required_parameter");
  if (!msgs->is_array()) throw wrong_type("messages", "an array", *msgs);
  if (msgs->empty())
    throw invalid_request("'messages' must contain at least one message", "messages",
                          "invalid_value");
  json out = json::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string param = fmt::format("messages[{}]", i);
    if (!m.is_object()) throw wrong_type(param, "an object", m);
    const json* role = member(m, "role");
    if (!role || !role->is_string())
      throw invalid_request(param + ": 'role' is required", param + ".role",
                            "missing_required_parameter");
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool")
      throw invalid_request(fmt::format("{}: unknown role '{}'", param, r), param + ".role",
                            "invalid_value");
    json nm = m;
    nm["role"] = r == "developer" ? "system" : r;
    const json* content = member(m, "content");
    if (content)
      nm["content"] = content_text(*content, i);
    else if (r != "assistant")
      throw invalid_request(param + ": 'content' is required", param + ".content",
                            "missing_required_parameter");
    else
      nm["content"] = "";
    out.push_back(std::move(nm));
  }
  return out;
}

}  // namespace

json parse_json_body(const std::string& body) {
  std::optional<json> j = parse_ordered_json(body);
  if (!j) throw invalid_request("the request body is not valid JSON", std::nullopt, "invalid_json");
  if (!j->is_object()) throw invalid_request("the request body must be a JSON object");
  return std::move(*j);
}

ApiRequest parse_completion_request(const json& body, const RequestParserContext& ctx) {
  ApiRequest req;
  req.kind = ApiKind::kCompletion;
  req.model = check_model(body, ctx);
  GenerationRequest base;
  parse_common(body, req, base, ctx);
  if (auto lp = get_int(body, "logprobs")) {
    if (*lp < 0 || *lp > ctx.max_logprobs)
      throw invalid_request(
          fmt::format("'logprobs' must be between 0 and {}, got {}", ctx.max_logprobs, *lp),
          "logprobs", "invalid_value");
    req.logprobs = static_cast<int32_t>(*lp);
  }
  if (auto echo = get_bool(body, "echo")) req.echo = *echo;
  if (member(body, "suffix"))
    throw invalid_request("'suffix' is not supported", "suffix", "unsupported_parameter");
  base.sampling.logprobs = req.logprobs;
  base.n = req.n;

  const json* prompt = member(body, "prompt");
  if (!prompt)
    throw invalid_request("'prompt' is required", "prompt", "missing_required_parameter");
  const auto add_text = [&](const std::string& text) {
    GenerationRequest g = base;
    g.prompt_token_ids = ctx.tokenizer->encode(text, ctx.tokenizer->add_bos_default(), true);
    req.prompts.push_back(std::move(g));
    req.echo_texts.push_back(text);
  };
  const auto add_ids = [&](std::vector<int32_t> ids) {
    GenerationRequest g = base;
    req.echo_texts.push_back(req.echo ? ctx.tokenizer->decode(ids) : std::string());
    g.prompt_token_ids = std::move(ids);
    req.prompts.push_back(std::move(g));
  };
  if (prompt->is_string()) {
    add_text(prompt->get<std::string>());
  } else if (prompt->is_array() && !prompt->empty()) {
    if ((*prompt)[0].is_number_integer()) {
      add_ids(token_list(*prompt, ctx));
    } else {
      for (const json& p : *prompt) {
        if (p.is_string())
          add_text(p.get<std::string>());
        else if (p.is_array())
          add_ids(token_list(p, ctx));
        else
          throw wrong_type("prompt", "a string, an array of strings or an array of token ids", p);
      }
    }
  } else {
    throw wrong_type("prompt", "a string, an array of strings or a non-empty array of token ids",
                     *prompt);
  }
  if (req.prompts.size() * static_cast<size_t>(req.n) > 1024)
    throw invalid_request("too many completions in one request (prompts x n > 1024)", "n",
                          "invalid_value");
  apply_max_tokens(body, req, ctx, /*default_max_tokens=*/16);
  return req;
}

std::string render_chat_prompt(const json& body, const RequestParserContext& ctx) {
  ChatTemplateInputs in;
  in.messages = normalize_messages(body);
  if (auto agp = get_bool(body, "add_generation_prompt")) in.add_generation_prompt = *agp;
  in.bos_token = ctx.bos_token;
  in.eos_token = ctx.eos_token;
  // chat_template_kwargs win over tools and documents, as in vLLM. Built without a lookup per
  // kwarg: ordered_json finds keys by a linear scan, and a client may send very many.
  if (const json* kw = member(body, "chat_template_kwargs")) {
    if (!kw->is_object()) throw wrong_type("chat_template_kwargs", "an object", *kw);
    in.extra = *kw;
  }
  // As Hugging Face renders: tools and documents are None when the request has none.
  const json* tools = member(body, "tools");
  if (!in.extra.contains("tools")) in.extra["tools"] = tools ? *tools : json(nullptr);
  if (!in.extra.contains("documents")) in.extra["documents"] = nullptr;
  try {
    return ctx.chat_template->render(in);
  } catch (const ChatTemplateError& e) {
    // raise_exception in the template: the messages break its rules (e.g. roles must
    // alternate), which is the client's error. Anything else is the template's fault.
    if (e.raised()) throw invalid_request(e.what(), "messages", "invalid_value");
    throw ApiError(500, fmt::format("the chat template failed: {}", e.what()), "server_error");
  } catch (const std::exception& e) {
    throw ApiError(500, fmt::format("the chat template failed: {}", e.what()), "server_error");
  }
}

std::vector<int32_t> tokenize_chat_prompt(const json& body, const RequestParserContext& ctx) {
  const std::string text = render_chat_prompt(body, ctx);
  // Templates write BOS themselves; add it only when the tokenizer wants one and it is absent.
  const bool add_bos = ctx.tokenizer->add_bos_default() &&
                       (ctx.bos_token.empty() || !text.starts_with(ctx.bos_token));
  return ctx.tokenizer->encode(text, add_bos, /*parse_special=*/true);
}

ApiRequest parse_chat_request(const json& body, const RequestParserContext& ctx) {
  ApiRequest req;
  req.kind = ApiKind::kChat;
  req.model = check_model(body, ctx);
  GenerationRequest base;
  parse_common(body, req, base, ctx);
  const bool logprobs = get_bool(body, "logprobs").value_or(false);
  if (auto top = get_int(body, "top_logprobs")) {
    if (*top < 0 || *top > ctx.max_logprobs)
      throw invalid_request(
          fmt::format("'top_logprobs' must be between 0 and {}, got {}", ctx.max_logprobs, *top),
          "top_logprobs", "invalid_value");
    if (!logprobs)
      throw invalid_request("'top_logprobs' requires 'logprobs' to be true", "top_logprobs",
                            "invalid_value");
    req.logprobs = static_cast<int32_t>(*top);
  } else if (logprobs) {
    req.logprobs = 0;
  }
  base.sampling.logprobs = req.logprobs;
  base.n = req.n;

  GenerationRequest g = base;
  g.prompt_token_ids = tokenize_chat_prompt(body, ctx);
  req.prompts.push_back(std::move(g));
  req.echo_texts.emplace_back();
  // Chat completions run to the end of the context unless told otherwise.
  apply_max_tokens(body, req, ctx, std::numeric_limits<int64_t>::max());
  return req;
}

}  // namespace pareto::server
