// The OpenAI-compatible API on top of the HTTP transport and the engine: routing, API keys,
// the request queue limit, /v1/models, /health, /metrics, /tokenize, /detokenize, and the
// completion endpoints (each request becomes a CompletionSession). See docs/server.md.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine_group.h"
#include "server/completion_session.h"
#include "server/http_server.h"
#include "server/openai_request.h"
#include "server/server_metrics.h"
#include "tokenizer/chat_template/chat_template.h"

namespace pareto::server {

struct ApiServerOptions {
  HttpServerOptions http;
  std::string served_model_name = "pareto";
  std::vector<std::string> api_keys;  // empty = no authentication
  // Requests allowed to wait for a batch slot beyond --max-num-seqs; more get 429.
  int64_t max_queue = 1024;
  std::string chat_template;  // the template source (from the GGUF, a file, or the default)
  std::string metrics_prefix = "pareto:";
};

class ApiServer {
 public:
  // The engine (or every replica of the group) must outlive the server. Throws pareto::Error
  // (bad template, port in use).
  ApiServer(Engine& engine, ApiServerOptions options);
  ApiServer(EngineGroup& engines, ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  void start();
  uint16_t port() const { return http_->port(); }

  // Stops accepting, lets requests in flight finish for up to `grace`, aborts the rest, waits
  // (up to 5 s) for their last bytes to be written, and stops the transport. Returns the
  // number of engine requests it had to abort.
  size_t shutdown(std::chrono::milliseconds grace);

  ServerMetrics& metrics() { return metrics_; }

 private:
  ApiServer(std::unique_ptr<EngineGroup> owned, EngineGroup* engines, ApiServerOptions options);
  void handle(HttpRequest&& req, std::shared_ptr<Responder> responder);
  void handle_completion(HttpRequest&& req, std::shared_ptr<Responder> responder, ApiKind kind);
  HttpResponse models() const;
  HttpResponse tokenize(const HttpRequest& req) const;
  HttpResponse detokenize(const HttpRequest& req) const;
  HttpResponse metrics_page() const;
  void reset_prefix_cache(std::shared_ptr<Responder> responder);
  bool authorized(const HttpRequest& req) const;

  std::unique_ptr<EngineGroup> owned_group_;  // the one-engine group of ApiServer(Engine&)
  EngineGroup& engine_;
  ApiServerOptions options_;
  ChatTemplate chat_template_;
  RequestParserContext parser_ctx_;
  ServerMetrics metrics_;
  InFlightRequests in_flight_;
  int64_t created_ = 0;

  // Sessions and queued parse jobs alive: the destructor waits for them, because their engine
  // listeners and strands refer to worker_.
  std::atomic<int64_t> live_work_{0};
  std::unique_ptr<boost::asio::io_context> worker_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> worker_guard_;
  std::thread worker_thread_;
  std::unique_ptr<HttpServer> http_;
};

// Constant-time comparison (time depends only on the expected key's length).
bool api_key_matches(std::string_view given, std::string_view expected);

}  // namespace pareto::server
