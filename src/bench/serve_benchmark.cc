#include "bench/serve_benchmark.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "base/error.h"
#include "base/thread_scheduling.h"
#include "bench/arrival_schedule.h"
#include "bench/http_client.h"
#include "bench/openai_stream_request.h"
#include "bench/prometheus_scrape.h"

namespace pareto::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

namespace {

// Sends requests i = 0..n-1, each once its arrival time has come and fewer than max_concurrency
// requests are in flight (vLLM's semaphore: the schedule is open-loop, the slots close it), all on
// the one io_context thread.
class LoadDriver {
 public:
  LoadDriver(net::io_context& ioc, const StreamTarget& target, StreamConnectionPool& pool,
             std::vector<std::string> bodies, std::vector<double> arrivals, int64_t max_concurrency,
             bool progress_bar)
      : ioc_(ioc),
        target_(target),
        pool_(pool),
        bodies_(std::move(bodies)),
        arrivals_(std::move(arrivals)),
        max_concurrency_(max_concurrency),
        progress_bar_(progress_bar),
        timer_(ioc),
        progress_timer_(ioc),
        records_(bodies_.size()) {}

  // Runs everything to completion on the calling thread; returns the records in order.
  std::vector<RequestRecord> run(SteadyClock::time_point start) {
    start_ = start;
    last_completion_ = start;
    net::post(ioc_, [this] { pump(); });
    if (progress_bar_) arm_progress();
    ioc_.run();
    ioc_.restart();
    if (progress_bar_) {
      draw_progress();
      fmt::print(stderr, "\n");
    }
    return std::move(records_);
  }
  // When the last request completed (run() may return a little later: finished connections wait for
  // the server to close them).
  SteadyClock::time_point last_completion() const { return last_completion_; }

 private:
  bool slot_free() const { return max_concurrency_ <= 0 || in_flight_ < max_concurrency_; }

  void pump() {
    while (next_ < bodies_.size() && slot_free()) {
      const auto due = start_ + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(arrivals_[next_]));
      if (due > SteadyClock::now()) {
        if (!timer_armed_) {
          timer_armed_ = true;
          timer_.expires_at(due);
          timer_.async_wait([this](boost::system::error_code) {
            timer_armed_ = false;
            pump();
          });
        }
        return;
      }
      launch(next_++);
    }
  }

  void launch(size_t i) {
    ++in_flight_;
    start_stream_request(ioc_, target_, pool_, std::move(bodies_[i]), start_,
                         [this, i](RequestRecord&& r) {
                           --in_flight_;
                           ++num_done_;
                           if (r.success) num_output_tokens_ += r.output_len;
                           records_[i] = std::move(r);
                           last_completion_ = SteadyClock::now();
                           if (num_done_ == records_.size()) {
                             timer_.cancel();
                             progress_timer_.cancel();
                             finished_ = true;
                           } else {
                             pump();
                           }
                         });
  }

  void arm_progress() {
    progress_timer_.expires_after(std::chrono::milliseconds(250));
    progress_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      draw_progress();
      arm_progress();
    });
  }

  void draw_progress() const {
    const double t = std::chrono::duration<double>(SteadyClock::now() - start_).count();
    const size_t total = records_.size();
    const int width = 30;
    const int filled =
        total == 0 ? width : static_cast<int>(width * num_done_ / std::max<size_t>(1, total));
    fmt::print(stderr, "\r[{}{}] {}/{} requests, {} in flight, {:.2f} req/s, {:.1f} tok/s ",
               std::string(filled, '#'), std::string(width - filled, '.'), num_done_, total,
               in_flight_, t > 0 ? static_cast<double>(num_done_) / t : 0.0,
               t > 0 ? static_cast<double>(num_output_tokens_) / t : 0.0);
  }

  net::io_context& ioc_;
  const StreamTarget& target_;
  StreamConnectionPool& pool_;
  std::vector<std::string> bodies_;
  std::vector<double> arrivals_;
  int64_t max_concurrency_;
  bool progress_bar_;
  net::steady_timer timer_, progress_timer_;
  bool timer_armed_ = false;
  bool finished_ = false;
  SteadyClock::time_point start_;
  SteadyClock::time_point last_completion_;
  std::vector<RequestRecord> records_;
  size_t next_ = 0, num_done_ = 0;
  int64_t in_flight_ = 0, num_output_tokens_ = 0;
};

// Each request holds a socket: with many in flight the default soft limit (often 1024) would be the
// benchmark's bottleneck, not the server's.
void raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

StreamTarget make_target(net::io_context& ioc, const ServeBenchmarkConfig& c) {
  const HttpUrl url = parse_http_url(c.base_url);
  StreamTarget t;
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  t.endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec) fail("cannot reach {}: resolving {}: {}", c.base_url, url.host, ec.message());
  t.host_header = url.host + ":" + std::to_string(url.port);
  std::string base = url.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  t.path = base + (c.endpoint == "chat" ? "/v1/chat/completions" : "/v1/completions");
  t.api_key = c.api_key;
  t.timeout_s = c.request_timeout_s;
  return t;
}

json energy_json(const EnergyReading& e) {
  json domains = json::array();
  for (const EnergyDomain& d : e.domains)
    domains.push_back({{"name", d.name}, {"joules", d.joules}});
  return {{"available", e.available},
          {"source", e.source},
          {"unavailable_reason", e.unavailable_reason},
          {"joules", e.available ? json(e.joules) : json(nullptr)},
          {"domains", domains}};
}

}  // namespace

std::vector<std::string> list_models(const std::string& base_url, const std::string& api_key,
                                     double timeout_s) {
  parse_http_url(base_url);  // a malformed URL is its own error, not "cannot reach"
  const std::string url = join_url(base_url, "/v1/models");
  HttpResponse r;
  try {
    r = http_request("GET", url, "", api_key, timeout_s);
  } catch (const Error& e) {
    fail("cannot reach {}: {}", base_url, e.what());
  }
  if (r.status != 200) fail("GET {}: HTTP {}: {}", url, r.status, r.body.substr(0, 500));
  std::vector<std::string> ids;
  try {
    const json list = json::parse(r.body);  // named: the loop must not outlive it
    for (const json& m : list.at("data")) ids.push_back(m.at("id").get<std::string>());
  } catch (const json::exception& e) {
    fail("GET {}: not an OpenAI model list ({})", url, e.what());
  }
  return ids;
}

ServeBenchmarkResult run_serve_benchmark(const ServeBenchmarkConfig& config) {
  if (config.endpoint != "completions" && config.endpoint != "chat")
    fail("unknown endpoint '{}' (completions or chat)", config.endpoint);
  if (config.prompts.empty()) fail("the workload has no prompts");
  if (config.max_concurrency < 0) fail("max_concurrency must be >= 0 (0 = unlimited)");
  if (config.num_warmup < 0) fail("num_warmup must be >= 0");
  parse_http_url(config.base_url);  // a bad URL fails before anything else
  // The schedule too (a bad rate or burstiness fails here, not after the warm-up).
  const std::vector<double> arrivals =
      arrival_times(static_cast<int64_t>(config.prompts.size()), config.request_rate,
                    config.burstiness, config.seed);

  // Reachability first: a wrong URL is one clear error rather than N failed requests.
  {
    HttpResponse r;
    try {
      r = http_request("GET", join_url(config.base_url, "/v1/models"), "", config.api_key, 30);
    } catch (const Error& e) {
      fail("cannot reach {}: {}", config.base_url, e.what());
    }
    if (r.status == 401 || r.status == 403)
      fail(
          "{}: HTTP {} on /v1/models: wrong or missing API key (--api-key or "
          "OPENAI_API_KEY)",
          config.base_url, r.status);
  }
  raise_open_file_limit();
  // A load generator on the server's machine must not preempt the engine's threads at every
  // token it reads (base/thread_scheduling.h); on a client machine of its own nothing changes.
  std::optional<BatchSchedulingScope> batch_scheduling;
  if (config.batch_scheduling) batch_scheduling.emplace();

  net::io_context ioc;
  const StreamTarget target = make_target(ioc, config);
  StreamRequestOptions ro;
  ro.model = config.model;
  ro.chat = config.endpoint == "chat";
  ro.ignore_eos = config.ignore_eos;
  ro.temperature = config.temperature;
  ro.seed = config.seed;
  const bool tty = config.show_progress && isatty(STDERR_FILENO);
  // One pool for the warm-up and the timed run, so that the timed run starts on warm connections.
  StreamConnectionPool pool(config.keep_alive);

  if (config.num_warmup > 0) {
    std::vector<std::string> bodies;
    for (int64_t i = 0; i < config.num_warmup; ++i)
      bodies.push_back(
          openai_stream_body(ro, config.prompts[static_cast<size_t>(i) % config.prompts.size()])
              .dump());
    LoadDriver warm(ioc, target, pool, std::move(bodies),
                    std::vector<double>(static_cast<size_t>(config.num_warmup), 0.0),
                    config.max_concurrency, false);
    for (const RequestRecord& r : warm.run(SteadyClock::now()))
      if (!r.success) fail("warm-up request failed: {}", r.error);
  }

  ServeBenchmarkResult result;
  result.config = config;
  result.config.prompts.clear();
  result.config.api_key.clear();
  result.num_prompts = static_cast<int64_t>(config.prompts.size());
  if (config.scrape_metrics)
    result.metrics_before = scrape_metrics(config.base_url, config.api_key);

  std::vector<std::string> bodies;
  bodies.reserve(config.prompts.size());
  for (const BenchPrompt& p : config.prompts) bodies.push_back(openai_stream_body(ro, p).dump());

  std::unique_ptr<EnergyMeter> meter;
  if (config.measure_energy) meter = EnergyMeter::detect();
  if (config.show_progress)
    fmt::print(stderr, "bench serve: {} requests to {} ({}), rate {}, max concurrency {}\n",
               bodies.size(), target.path, config.base_url,
               std::isinf(config.request_rate) ? std::string("inf")
                                               : fmt::format("{}/s", config.request_rate),
               config.max_concurrency > 0 ? std::to_string(config.max_concurrency)
                                          : std::string("unlimited"));
  if (meter) meter->start();
  const SteadyClock::time_point start = SteadyClock::now();
  const int64_t opened_before = pool.opened();
  LoadDriver driver(ioc, target, pool, std::move(bodies), arrivals, config.max_concurrency, tty);
  result.records = driver.run(start);
  result.connections_opened = pool.opened() - opened_before;
  const double duration = std::chrono::duration<double>(driver.last_completion() - start).count();
  if (meter) {
    result.energy = meter->stop();
  } else {
    result.energy.unavailable_reason = "not measured (disabled)";
  }
  if (config.scrape_metrics) result.metrics_after = scrape_metrics(config.base_url, config.api_key);

  // A server that reports no usage: the workload's own token count stands in.
  for (size_t i = 0; i < result.records.size(); ++i)
    if (result.records[i].prompt_len == 0)
      result.records[i].prompt_len = config.prompts[i].prompt_len;

  result.summary = summarize(result.records, duration, config.slo);
  if (result.energy.available) {
    result.summary.energy_joules = result.energy.joules;
    if (result.summary.total_output_tokens > 0)
      result.summary.joules_per_output_token =
          result.energy.joules / static_cast<double>(result.summary.total_output_tokens);
    result.summary.energy_source = result.energy.source;
  } else {
    result.summary.energy_source = "unavailable: " + result.energy.unavailable_reason;
  }
  if (config.show_progress)
    fmt::print(stderr, "bench serve: {} completed, {} failed in {:.2f} s\n",
               result.summary.completed, result.summary.failed, duration);
  return result;
}

json ServeBenchmarkResult::to_json() const {
  const ServeBenchmarkConfig& c = config;
  json slo = json::object();
  if (c.slo.ttft_ms) slo["ttft_ms"] = *c.slo.ttft_ms;
  if (c.slo.tpot_ms) slo["tpot_ms"] = *c.slo.tpot_ms;
  if (c.slo.e2e_ms) slo["e2e_ms"] = *c.slo.e2e_ms;
  json j;
  j["config"] = {
      {"base_url", c.base_url},
      {"model", c.model},
      {"endpoint", c.endpoint},
      {"num_prompts", num_prompts},
      {"num_warmup", c.num_warmup},
      {"request_rate", std::isfinite(c.request_rate) ? json(c.request_rate) : json(nullptr)},
      {"burstiness", c.burstiness},
      {"max_concurrency", c.max_concurrency > 0 ? json(c.max_concurrency) : json(nullptr)},
      {"ignore_eos", c.ignore_eos},
      {"seed", c.seed},
      {"temperature", c.temperature},
      {"slo", slo},
      {"request_timeout_s", c.request_timeout_s},
      {"keep_alive", c.keep_alive}};
  j["summary"] = bench::to_json(summary);
  j["connections_opened"] = connections_opened;
  j["energy"] = energy_json(energy);
  json delta = json::object();
  for (const auto& [key, value] : metrics_delta(metrics_before, metrics_after))
    delta[key] = std::isfinite(value) ? json(value) : json(nullptr);
  j["metrics_delta"] = delta;
  json recs = json::array();
  for (const RequestRecord& r : records)
    recs.push_back({{"prompt_len", r.prompt_len},
                    {"output_len", r.output_len},
                    {"cached_tokens", r.cached_tokens},
                    {"start_s", r.start_s},
                    {"ttft_s", r.ttft_s},
                    {"e2e_s", r.e2e_s},
                    {"success", r.success},
                    {"error", r.error}});
  j["records"] = recs;
  return j;
}

}  // namespace pareto::bench
