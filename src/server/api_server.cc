#include "server/api_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "base/error.h"
#include "base/thread_scheduling.h"
#include "server/openai_response.h"
#include "tokenizer/tokenizer.h"

namespace pareto::server {

using nlohmann::json;

bool api_key_matches(std::string_view given, std::string_view expected) {
  // Every byte of the expected key is compared whatever the given key is, so the time says
  // nothing about how much of a guess was right.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0 && !expected.empty();
}

namespace {

// Counts each response's status class for /metrics, whatever path produced it.
class CountingResponder final : public Responder {
 public:
  CountingResponder(std::shared_ptr<Responder> inner, ServerMetrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}
  void respond(HttpResponse response) override {
    metrics_.count_http_request(response.status);
    inner_->respond(std::move(response));
  }
  void start_stream(int status, std::string content_type,
                    std::vector<std::pair<std::string, std::string>> headers) override {
    metrics_.count_http_request(status);
    inner_->start_stream(status, std::move(content_type), std::move(headers));
  }
  bool write(std::string data) override { return inner_->write(std::move(data)); }
  void end_stream() override { inner_->end_stream(); }
  bool client_gone() const override { return inner_->client_gone(); }
  void on_client_gone(std::function<void()> callback) override {
    inner_->on_client_gone(std::move(callback));
  }

 private:
  std::shared_ptr<Responder> inner_;
  ServerMetrics& metrics_;
};

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = dump_json(body);
  return r;
}

HttpResponse error_response(const ApiError& e) {
  HttpResponse r = json_response(e.status(), e.to_json());
  if (e.status() == 429) r.headers.emplace_back("Retry-After", "1");
  if (e.status() == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::string token_text_or_empty(const Tokenizer& tok, int32_t id) {
  return id >= 0 && id < tok.vocab_size() ? tok.token_text(id) : std::string();
}

}  // namespace

ApiServer::ApiServer(Engine& engine, ApiServerOptions options)
    : ApiServer(std::make_unique<EngineGroup>(engine), nullptr, std::move(options)) {}

ApiServer::ApiServer(EngineGroup& engines, ApiServerOptions options)
    : ApiServer(nullptr, &engines, std::move(options)) {}

ApiServer::ApiServer(std::unique_ptr<EngineGroup> owned, EngineGroup* engines,
                     ApiServerOptions options)
    : owned_group_(std::move(owned)),
      engine_(engines ? *engines : *owned_group_),
      options_(std::move(options)),
      chat_template_(options_.chat_template),
      metrics_(options_.metrics_prefix),
      worker_(std::make_unique<boost::asio::io_context>()),
      worker_guard_(boost::asio::make_work_guard(*worker_)) {
  const Tokenizer& tok = engine_.tokenizer();
  parser_ctx_.tokenizer = &tok;
  parser_ctx_.chat_template = &chat_template_;
  parser_ctx_.bos_token = token_text_or_empty(tok, tok.bos_id());
  parser_ctx_.eos_token = token_text_or_empty(tok, tok.eos_id());
  parser_ctx_.served_model_names = {options_.served_model_name};
  parser_ctx_.max_model_len = engine_.config().max_model_len;
  created_ = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  http_ = std::make_unique<HttpServer>(
      options_.http, [this](HttpRequest&& req, std::shared_ptr<Responder> responder) {
        handle(std::move(req), std::make_shared<CountingResponder>(std::move(responder), metrics_));
      });
}

ApiServer::~ApiServer() {
  http_.reset();  // closes every connection; no new requests after this
  // Sessions end when their engine requests do: abort them and let the worker run their final
  // outputs, so no engine listener or strand outlives the worker.
  for (int64_t id : in_flight_.ids()) engine_.abort(id);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (live_work_.load() > 0 && worker_thread_.joinable() &&
         std::chrono::steady_clock::now() < deadline) {
    for (int64_t id : in_flight_.ids()) engine_.abort(id);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  worker_guard_.reset();
  worker_->stop();
  if (worker_thread_.joinable()) worker_thread_.join();
  if (live_work_.load() > 0) {
    // Only if the engine is stuck in a step for a minute: leaking the worker is safer than
    // letting a late engine output post to a destroyed io_context.
    spdlog::error("{} request(s) still alive at server exit; leaving their worker behind",
                  live_work_.load());
    (void)worker_.release();
  }
}

void ApiServer::start() {
  // The worker (request parsing, tokenization, turning outputs into JSON) yields to the engine
  // like the I/O threads do.
  worker_thread_ = std::thread([this] {
    if (options_.http.batch_scheduling && !set_current_thread_batch_scheduling())
      spdlog::debug("api: the worker thread keeps its scheduling policy (SCHED_BATCH refused)");
    // The worker is part of the HTTP path: it runs where the I/O threads do.
    if (!options_.http.cpus.empty()) set_current_thread_cpus(options_.http.cpus);
    worker_->run();
  });
  http_->start();
}

size_t ApiServer::shutdown(std::chrono::milliseconds grace) {
  http_->stop_accepting();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (in_flight_.num_reserved() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::vector<int64_t> left = in_flight_.ids();
  for (int64_t id : left) engine_.abort(id);
  if (!left.empty())
    spdlog::warn("aborted {} request(s) still running after the grace period", left.size());
  // Let the sessions (finished or aborted) hand over their final chunks and the I/O threads
  // write them out: a session releases its reservation as it queues its last bytes, and
  // closing the connections before those are written cut streams short of "data: [DONE]".
  const auto flush_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((in_flight_.num_reserved() > 0 || http_->num_active_requests() > 0) &&
         std::chrono::steady_clock::now() < flush_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  http_->stop();
  return left.size();
}

bool ApiServer::authorized(const HttpRequest& req) const {
  if (options_.api_keys.empty()) return true;
  std::string_view auth = req.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() < kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), auth.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return false;
  auth.remove_prefix(kBearer.size());
  bool ok = false;
  for (const std::string& key : options_.api_keys) ok |= api_key_matches(auth, key);
  return ok;
}

void ApiServer::handle(HttpRequest&& req, std::shared_ptr<Responder> responder) {
  try {
    const std::string& path = req.path;
    const bool needs_key = path.starts_with("/v1/") || path == "/tokenize" ||
                           path == "/detokenize" || path == "/reset_prefix_cache";
    if (needs_key && !authorized(req))
      throw ApiError(401, "Incorrect API key provided. Pass it as 'Authorization: Bearer <key>'.",
                     "invalid_request_error", std::nullopt, "invalid_api_key");
    const auto method_is = [&](const char* m) {
      if (req.method != m)
        throw ApiError(405, fmt::format("{} {} is not allowed; use {}", req.method, path, m),
                       "invalid_request_error", std::nullopt, "method_not_allowed");
    };
    if (path == "/v1/completions") {
      method_is("POST");
      return handle_completion(std::move(req), std::move(responder), ApiKind::kCompletion);
    }
    if (path == "/v1/chat/completions") {
      method_is("POST");
      return handle_completion(std::move(req), std::move(responder), ApiKind::kChat);
    }
    if (path == "/health") {
      method_is("GET");
      return responder->respond(json_response(200, json::object()));
    }
    if (path == "/v1/models") {
      method_is("GET");
      return responder->respond(models());
    }
    if (path == "/metrics") {
      method_is("GET");
      return responder->respond(metrics_page());
    }
    if (path == "/tokenize") {
      method_is("POST");
      return responder->respond(tokenize(req));
    }
    if (path == "/detokenize") {
      method_is("POST");
      return responder->respond(detokenize(req));
    }
    if (path == "/reset_prefix_cache") {
      method_is("POST");
      return reset_prefix_cache(std::move(responder));
    }
    throw ApiError(404, fmt::format("no route for {} {}", req.method, path),
                   "invalid_request_error", std::nullopt, "not_found");
  } catch (const ApiError& e) {
    responder->respond(error_response(e));
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", req.method, req.path, e.what());
    responder->respond(error_response(ApiError(500, e.what(), "server_error")));
  }
}

void ApiServer::handle_completion(HttpRequest&& req, std::shared_ptr<Responder> responder,
                                  ApiKind kind) {
  const auto arrival = std::chrono::steady_clock::now();
  // Parsing tokenizes and renders templates: keep it off the I/O thread.
  auto body = std::make_shared<std::string>(std::move(req.body));
  ++live_work_;
  boost::asio::post(*worker_, [this, body, responder, kind, arrival] {
    struct Done {
      std::atomic<int64_t>& n;
      ~Done() { --n; }
    } done{live_work_};
    try {
      const nlohmann::ordered_json j = parse_json_body(*body);
      ApiRequest api = kind == ApiKind::kChat ? parse_chat_request(j, parser_ctx_)
                                              : parse_completion_request(j, parser_ctx_);
      const auto n = static_cast<int64_t>(api.prompts.size());
      const int64_t limit = engine_.total_max_num_seqs() + options_.max_queue;
      if (!in_flight_.try_reserve(n, limit)) {
        metrics_.count_rejected_queue_full();
        throw ApiError(429,
                       fmt::format("The server is busy: {} requests are running or queued (limit "
                                   "{}). Retry later.",
                                   in_flight_.num_reserved(), limit),
                       "rate_limit_error", std::nullopt, "rate_limit_exceeded");
      }
      SessionContext ctx{&engine_,      &engine_.tokenizer(), &metrics_,
                         worker_.get(), &in_flight_,          &live_work_};
      CompletionSession::start(ctx, std::move(api), responder, arrival);
    } catch (const ApiError& e) {
      responder->respond(error_response(e));
    } catch (const std::exception& e) {
      spdlog::error("completion request failed: {}", e.what());
      responder->respond(error_response(ApiError(500, e.what(), "server_error")));
    }
  });
}

HttpResponse ApiServer::models() const {
  json model = {{"id", options_.served_model_name},
                {"object", "model"},
                {"created", created_},
                {"owned_by", "pareto"},
                {"root", options_.served_model_name},
                {"parent", nullptr},
                {"max_model_len", engine_.config().max_model_len}};
  return json_response(200, {{"object", "list"}, {"data", json::array({model})}});
}

HttpResponse ApiServer::tokenize(const HttpRequest& req) const {
  const nlohmann::ordered_json j = parse_json_body(req.body);
  const Tokenizer& tok = engine_.tokenizer();
  std::vector<int32_t> ids;
  if (j.contains("messages")) {
    ids = tokenize_chat_prompt(j, parser_ctx_);
  } else {
    auto it = j.find("prompt");
    if (it == j.end() || !it->is_string())
      throw invalid_request("'prompt' (a string) or 'messages' is required", "prompt");
    bool add_special = true;
    if (auto a = j.find("add_special_tokens"); a != j.end() && !a->is_null()) {
      if (!a->is_boolean())
        throw invalid_request("'add_special_tokens' must be a boolean", "add_special_tokens",
                              "invalid_type");
      add_special = a->get<bool>();
    }
    ids = tok.encode(it->get<std::string>(), add_special && tok.add_bos_default(), true);
  }
  return json_response(
      200,
      {{"count", ids.size()}, {"max_model_len", engine_.config().max_model_len}, {"tokens", ids}});
}

HttpResponse ApiServer::detokenize(const HttpRequest& req) const {
  const nlohmann::ordered_json j = parse_json_body(req.body);
  auto it = j.find("tokens");
  if (it == j.end() || !it->is_array())
    throw invalid_request("'tokens' (an array of token ids) is required", "tokens");
  const Tokenizer& tok = engine_.tokenizer();
  std::vector<int32_t> ids;
  for (const auto& t : *it) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok.vocab_size())
      throw invalid_request("'tokens' must hold token ids inside the vocabulary", "tokens",
                            "invalid_value");
    ids.push_back(t.get<int32_t>());
  }
  return json_response(200, {{"prompt", tok.decode(ids)}});
}

void ApiServer::reset_prefix_cache(std::shared_ptr<Responder> responder) {
  // Waits for a step boundary on every replica: not on the I/O thread.
  ++live_work_;
  boost::asio::post(*worker_, [this, responder] {
    struct Done {
      std::atomic<int64_t>& n;
      ~Done() { --n; }
    } done{live_work_};
    const int64_t dropped = engine_.reset_prefix_cache();
    spdlog::info("prefix cache reset: {} cached block(s) dropped", dropped);
    responder->respond(json_response(200, {{"dropped_blocks", dropped}}));
  });
}

HttpResponse ApiServer::metrics_page() const {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.render(engine_.stats(), static_cast<int64_t>(http_->num_active_requests()),
                           static_cast<int64_t>(http_->num_open_connections()));
  return r;
}

}  // namespace pareto::server
