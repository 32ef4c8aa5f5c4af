#include "server/completion_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <random>

namespace pareto::server {

bool InFlightRequests::try_reserve(int64_t n, int64_t limit) {
  int64_t cur = num_reserved_.load();
  do {
    if (cur + n > limit) return false;
  } while (!num_reserved_.compare_exchange_weak(cur, cur + n));
  return true;
}

void InFlightRequests::add(int64_t id) {
  std::lock_guard lock(mutex_);
  ids_.insert(id);
}

void InFlightRequests::remove(int64_t id) {
  std::lock_guard lock(mutex_);
  ids_.erase(id);
}

std::vector<int64_t> InFlightRequests::ids() const {
  std::lock_guard lock(mutex_);
  return {ids_.begin(), ids_.end()};
}

size_t InFlightRequests::size() const {
  std::lock_guard lock(mutex_);
  return ids_.size();
}

namespace {

// OpenAI-style ids: a prefix and 24 hex digits, unique per process run.
std::string make_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  const uint64_t n = counter.fetch_add(1);
  return fmt::format("{}{:016x}{:08x}", prefix, salt ^ (n * 0x9E3779B97F4A7C15ull),
                     static_cast<uint32_t>(n));
}

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

void CompletionSession::start(const SessionContext& ctx, ApiRequest request,
                              std::shared_ptr<Responder> responder, Clock::time_point arrival) {
  auto session =
      std::make_shared<CompletionSession>(ctx, std::move(request), std::move(responder), arrival);
  boost::asio::post(session->strand_, [session] { session->submit(); });
}

CompletionSession::CompletionSession(const SessionContext& ctx, ApiRequest request,
                                     std::shared_ptr<Responder> responder,
                                     Clock::time_point arrival)
    : ctx_(ctx),
      request_(std::move(request)),
      responder_(std::move(responder)),
      arrival_(arrival),
      strand_(boost::asio::make_strand(*ctx.worker)) {
  if (ctx_.live_sessions) ++*ctx_.live_sessions;
  header_.id = make_id(request_.kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-");
  header_.created = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  header_.model = request_.model;
  const size_t num_choices = request_.prompts.size() * static_cast<size_t>(request_.n);
  choices_.resize(num_choices);
  for (size_t i = 0; i < num_choices; ++i) choices_[i].result.index = static_cast<int32_t>(i);
}

CompletionSession::~CompletionSession() {
  if (ctx_.live_sessions) --*ctx_.live_sessions;
}

void CompletionSession::submit() {
  prompts_.resize(request_.prompts.size());
  for (size_t p = 0; p < request_.prompts.size(); ++p) {
    prompts_[p].num_prompt_tokens =
        static_cast<int64_t>(request_.prompts[p].prompt_token_ids.size());
    prompts_[p].stream = ctx_.engine->add_request(std::move(request_.prompts[p]));
    ctx_.in_flight->add(prompts_[p].stream->request_id());
  }
  request_.prompts.clear();
  // The listeners hold the session alive until its streams are released in complete().
  auto self = shared_from_this();
  for (PromptState& p : prompts_) p.stream->set_listener([self] { self->schedule_drain(); });
  responder_->on_client_gone(
      [self] { boost::asio::post(self->strand_, [self] { self->on_client_gone(); }); });
}

void CompletionSession::schedule_drain() {
  if (drain_scheduled_.exchange(true)) return;
  auto self = shared_from_this();
  boost::asio::post(strand_, [self] {
    self->drain_scheduled_ = false;
    self->drain();
  });
}

void CompletionSession::drain() {
  if (completed_) return;
  for (size_t p = 0; p < prompts_.size(); ++p) {
    while (!prompts_[p].done) {
      std::optional<RequestOutput> out = prompts_[p].stream->try_next();
      if (!out) break;
      handle(p, *out);
    }
  }
  for (const PromptState& p : prompts_)
    if (!p.done) return;
  complete();
}

void CompletionSession::handle(size_t prompt_idx, RequestOutput& out) {
  PromptState& prompt = prompts_[prompt_idx];
  const Clock::time_point now = Clock::now();
  if (out.num_prompt_tokens > 0) prompt.num_prompt_tokens = out.num_prompt_tokens;
  prompt.num_cached_tokens = std::max(prompt.num_cached_tokens, out.num_cached_tokens);
  if (out.finished) {
    prompt.done = true;
    ctx_.in_flight->remove(out.request_id);
    ctx_.metrics->observe_e2e_latency(seconds_between(arrival_, now));
    ctx_.metrics->observe_prompt_tokens(prompt.num_prompt_tokens);
  }
  if (out.error) {
    if (!error_) {
      // The engine refused it (e.g. longer than the whole KV cache), is shutting down, or failed.
      switch (out.error_kind) {
        case RequestErrorKind::kUnavailable:
          error_ = ApiError(503, *out.error, "server_error");
          break;
        case RequestErrorKind::kInternal:
          error_ = ApiError(500, *out.error, "server_error");
          break;
        case RequestErrorKind::kInvalidRequest:
          error_ =
              invalid_request(*out.error, request_.kind == ApiKind::kChat ? "messages" : "prompt");
          break;
      }
    }
    abort_all();  // one failed prompt fails the whole request
    return;
  }
  start_stream_if_needed();
  for (CompletionDelta& d : out.completions) {
    const size_t ci = prompt_idx * static_cast<size_t>(request_.n) + static_cast<size_t>(d.index);
    if (ci >= choices_.size()) continue;
    ChoiceState& choice = choices_[ci];
    if (!d.token_ids.empty()) {
      if (choice.num_tokens == 0) choice.first_token_time = now;
      if (!prompt.first_token_seen) {
        prompt.first_token_seen = true;
        ctx_.metrics->observe_time_to_first_token(seconds_between(arrival_, now));
      }
      choice.num_tokens += static_cast<int64_t>(d.token_ids.size());
    }
    if (d.finish_reason) {
      ctx_.metrics->count_finished(*d.finish_reason);
      ctx_.metrics->observe_generation_tokens(choice.num_tokens);
      if (choice.num_tokens >= 2)
        ctx_.metrics->observe_time_per_output_token(seconds_between(choice.first_token_time, now) /
                                                    static_cast<double>(choice.num_tokens - 1));
    }
    ChoiceResult delta;
    delta.index = static_cast<int32_t>(ci);
    delta.text = std::move(d.text);
    delta.logprobs = std::move(d.logprobs);
    delta.finish_reason = d.finish_reason;
    delta.stop_reason = std::move(d.stop_reason);
    if (request_.echo && !choice.first_chunk_sent && choice.result.text.empty())
      delta.text = request_.echo_texts[prompt_idx] + delta.text;
    write_delta(choice, std::move(delta));
  }
}

void CompletionSession::start_stream_if_needed() {
  if (!request_.stream || stream_started_ || error_) return;
  stream_started_ = true;
  responder_->start_stream(200, "text/event-stream");
}

void CompletionSession::write_delta(ChoiceState& choice, ChoiceResult delta) {
  const bool logprobs = request_.logprobs >= 0;
  if (!request_.stream) {
    ChoiceResult& r = choice.result;
    r.text += delta.text;
    for (SampledToken& t : delta.logprobs) r.logprobs.push_back(std::move(t));
    if (delta.finish_reason) {
      r.finish_reason = delta.finish_reason;
      r.stop_reason = std::move(delta.stop_reason);
    }
    choice.first_chunk_sent = true;
    return;
  }
  if (client_gone_) return;
  const bool first = !choice.first_chunk_sent;
  const bool has_news = !delta.text.empty() || delta.finish_reason ||
                        (logprobs && !delta.logprobs.empty()) ||
                        (first && request_.kind == ApiKind::kChat);
  if (!has_news) return;
  std::string event;
  const bool text_only = !logprobs && !delta.finish_reason && !delta.text.empty() &&
                         (!first || request_.kind != ApiKind::kChat);
  if (text_only && !choice.text_chunk)
    choice.text_chunk.emplace(header_, request_.kind, delta.index, *ctx_.tokenizer);
  if (text_only && choice.text_chunk->usable()) {
    // The common chunk of a token stream: the text alone (see TextChunkTemplate).
    event = choice.text_chunk->render(delta.text);
  } else if (request_.kind == ApiKind::kChat) {
    if (first && (!delta.text.empty() || delta.finish_reason || !delta.logprobs.empty())) {
      // The role comes alone in the first chunk, as OpenAI sends it.
      ChoiceResult role;
      role.index = delta.index;
      event += sse_event(chat_chunk(header_, role, *ctx_.tokenizer, false, true));
      event += sse_event(chat_chunk(header_, delta, *ctx_.tokenizer, logprobs, false));
    } else {
      event += sse_event(chat_chunk(header_, delta, *ctx_.tokenizer, logprobs, first));
    }
  } else {
    event =
        sse_event(completion_chunk(header_, delta, *ctx_.tokenizer, logprobs, choice.text_bytes));
  }
  choice.first_chunk_sent = true;
  for (const SampledToken& t : delta.logprobs)
    choice.text_bytes += ctx_.tokenizer->token_to_piece(t.token_id, true).size();
  if (!responder_->write(std::move(event))) on_client_gone();
}

void CompletionSession::on_client_gone() {
  if (client_gone_ || completed_) return;
  client_gone_ = true;
  spdlog::debug("{}: client went away; aborting", header_.id);
  abort_all();
}

void CompletionSession::abort_all() {
  if (aborted_) return;
  aborted_ = true;
  for (const PromptState& p : prompts_)
    if (!p.done) ctx_.engine->abort(p.stream->request_id());
}

void CompletionSession::complete() {
  completed_ = true;
  UsageCounts usage;
  for (const PromptState& p : prompts_) {
    usage.prompt_tokens += p.num_prompt_tokens;
    usage.cached_tokens += p.num_cached_tokens;
  }
  for (const ChoiceState& c : choices_) usage.completion_tokens += c.num_tokens;

  if (!client_gone_) {
    if (error_ && !stream_started_) {
      HttpResponse r;
      r.status = error_->status();
      r.body = dump_json(error_->to_json());
      responder_->respond(std::move(r));
    } else if (request_.stream) {
      std::string tail;
      if (error_) tail += sse_event(error_->to_json());
      if (request_.include_usage) tail += sse_event(usage_chunk(header_, request_.kind, usage));
      tail += "data: [DONE]\n\n";
      responder_->write(std::move(tail));
      responder_->end_stream();
    } else {
      std::vector<ChoiceResult> results;
      results.reserve(choices_.size());
      for (ChoiceState& c : choices_) results.push_back(std::move(c.result));
      const bool logprobs = request_.logprobs >= 0;
      nlohmann::json body =
          request_.kind == ApiKind::kChat
              ? chat_response(header_, results, usage, *ctx_.tokenizer, logprobs)
              : completion_response(header_, results, usage, *ctx_.tokenizer, logprobs);
      HttpResponse r;
      r.body = dump_json(body);
      responder_->respond(std::move(r));
    }
  }
  ctx_.in_flight->release(static_cast<int64_t>(prompts_.size()));
  // Releasing the streams drops their listeners, and with them the last references to us.
  for (PromptState& p : prompts_) p.stream.reset();
}

}  // namespace pareto::server
