// One /v1/completions or /v1/chat/completions request in flight: submits its prompts to the
// engine, turns engine outputs into OpenAI JSON (whole or streamed as SSE), records latency
// metrics, and aborts its engine requests at once when the client goes away.
//
// All of a session's state lives on its own strand of the server's worker io_context; engine
// listeners and the transport's client-gone callback only post to it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/engine_group.h"
#include "server/api_error.h"
#include "server/http_server.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/server_metrics.h"

namespace pareto::server {

// Engine request ids of every session in flight, so shutdown can abort what is left.
class InFlightRequests {
 public:
  // Admission control for --max-queue: reserves `n` engine requests unless that would pass
  // `limit`. Each successful reservation is released by the session when it completes.
  bool try_reserve(int64_t n, int64_t limit);
  void release(int64_t n) { num_reserved_ -= n; }
  int64_t num_reserved() const { return num_reserved_.load(); }

  void add(int64_t id);
  void remove(int64_t id);
  std::vector<int64_t> ids() const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_set<int64_t> ids_;
  std::atomic<int64_t> num_reserved_{0};
};

struct SessionContext {
  EngineGroup* engine = nullptr;
  const Tokenizer* tokenizer = nullptr;
  ServerMetrics* metrics = nullptr;
  boost::asio::io_context* worker = nullptr;
  InFlightRequests* in_flight = nullptr;
  std::atomic<int64_t>* live_sessions = nullptr;  // counts sessions alive (may be null)
};

class CompletionSession : public std::enable_shared_from_this<CompletionSession> {
 public:
  using Clock = std::chrono::steady_clock;

  // Submits the request and answers through `responder` when done (or as it goes, streamed).
  static void start(const SessionContext& ctx, ApiRequest request,
                    std::shared_ptr<Responder> responder, Clock::time_point arrival);

  CompletionSession(const SessionContext& ctx, ApiRequest request,
                    std::shared_ptr<Responder> responder, Clock::time_point arrival);
  ~CompletionSession();

 private:
  struct PromptState {
    std::shared_ptr<RequestStream> stream;
    int64_t num_prompt_tokens = 0;
    int64_t num_cached_tokens = 0;
    bool first_token_seen = false;
    bool done = false;
  };
  struct ChoiceState {
    ChoiceResult result;    // accumulated (non-streamed) or the last finish (streamed)
    size_t text_bytes = 0;  // text sent so far (completion logprobs' text_offset)
    int64_t num_tokens = 0;
    Clock::time_point first_token_time{};
    bool first_chunk_sent = false;
    std::optional<TextChunkTemplate> text_chunk;  // built at the choice's first text-only chunk
  };

  void submit();
  void schedule_drain();
  void drain();
  void handle(size_t prompt_idx, RequestOutput& out);
  void start_stream_if_needed();
  void write_delta(ChoiceState& choice, ChoiceResult delta);
  void on_client_gone();
  void abort_all();
  void complete();

  SessionContext ctx_;
  ApiRequest request_;
  std::shared_ptr<Responder> responder_;
  Clock::time_point arrival_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::atomic<bool> drain_scheduled_{false};

  ResponseHeader header_;
  std::vector<PromptState> prompts_;
  std::vector<ChoiceState> choices_;
  std::optional<ApiError> error_;
  bool stream_started_ = false;
  bool client_gone_ = false;
  bool aborted_ = false;
  bool completed_ = false;
};

}  // namespace pareto::server
