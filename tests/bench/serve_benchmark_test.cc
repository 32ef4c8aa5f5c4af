// run_serve_benchmark end to end: against a real ApiServer on stories260K (counts checked against
// the server's own /metrics), against scripted raw-socket servers for every way a stream can go
// wrong, and against an HttpServer that holds hundreds of requests open at once (one client thread
// must keep them all in flight). No assertion depends on timing.
#include "bench/serve_benchmark.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "bench/arrival_schedule.h"
#include "bench/http_client.h"
#include "bench/openai_stream_request.h"
#include "engine/engine_test_util.h"
#include "server/api_server.h"
#include "server/http_server.h"

namespace pareto::bench {
namespace {

std::vector<BenchPrompt> story_prompts(int n, int64_t output_len) {
  const char* starts[] = {"Once upon a time", "The little dog", "Lily saw a bird",
                          "Tom had a ball"};
  std::vector<BenchPrompt> out;
  for (int i = 0; i < n; ++i)
    out.push_back({std::string(starts[i % 4]) + " " + std::to_string(i), 0, output_len});
  return out;
}

class LiveServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<Engine>(*model_.model, *model_.tokenizer,
                                       test::config_with_blocks(*model_.model, 256, 16));
    server::ApiServerOptions options;
    options.http.port = 0;
    options.served_model_name = "stories";
    options.chat_template = ChatTemplate::default_chatml();
    server_ = std::make_unique<server::ApiServer>(*engine_, options);
    server_->start();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_->shutdown(std::chrono::seconds(10));
    server_.reset();
    engine_.reset();
  }

  // n story prompts of output_len tokens for this server, without energy or a progress bar.
  ServeBenchmarkConfig config(int n, int64_t output_len) const {
    ServeBenchmarkConfig c;
    c.base_url = url_;
    c.model = "stories";
    c.prompts = story_prompts(n, output_len);
    c.measure_energy = false;
    c.show_progress = false;
    return c;
  }

  test::LoadedTestModel model_ = test::load_test_model(test::stories_model());
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<server::ApiServer> server_;
  std::string url_;
};

TEST_F(LiveServerTest, CountsMatchTheServersMetrics) {
  ServeBenchmarkConfig c = config(16, 12);
  c.num_warmup = 2;  // before the first /metrics scrape: not in the deltas
  c.max_concurrency = 4;
  c.ignore_eos = true;
  c.slo.ttft_ms = 1e7;
  const ServeBenchmarkResult r = run_serve_benchmark(c);

  ASSERT_EQ(r.records.size(), 16u);
  EXPECT_EQ(r.summary.completed, 16);
  EXPECT_EQ(r.summary.failed, 0);
  for (const RequestRecord& rec : r.records) {
    EXPECT_TRUE(rec.success) << rec.error;
    EXPECT_EQ(rec.output_len, 12);
    EXPECT_GT(rec.prompt_len, 0);
    EXPECT_GT(rec.ttft_s, 0);
    EXPECT_LE(rec.ttft_s, rec.e2e_s);
    EXPECT_GE(rec.start_s, 0);
    EXPECT_LE(rec.itl_s.size(), 11u);
  }
  EXPECT_EQ(r.summary.total_output_tokens, 16 * 12);
  const auto delta = [&](const std::string& key) {
    return r.metrics_after.at(key) - r.metrics_before.at(key);
  };
  EXPECT_EQ(delta("pareto:generation_tokens_total"), r.summary.total_output_tokens);
  EXPECT_EQ(delta("pareto:prompt_tokens_total"), r.summary.total_input_tokens);
  EXPECT_EQ(r.summary.energy_source, "unavailable: not measured (disabled)");
  EXPECT_FALSE(r.summary.energy_joules.has_value());

  const nlohmann::json j = r.to_json();
  EXPECT_EQ(j["config"]["num_prompts"], 16);
  EXPECT_TRUE(j["config"]["request_rate"].is_null());  // inf
  EXPECT_EQ(j["records"].size(), 16u);
  EXPECT_EQ(j["metrics_delta"]["pareto:generation_tokens_total"], 16 * 12);
  EXPECT_EQ(j["summary"]["completed"], 16);
  EXPECT_FALSE(j["config"].contains("api_key"));
}

// The schedule's two limits, checked from the records alone (causal, not timing-based): no request
// is sent before its arrival time, and no more than max_concurrency are ever open (a request's
// [send, end of stream] lies inside the time its slot was held).
TEST_F(LiveServerTest, RequestsWaitForTheirArrivalAndAFreeSlot) {
  ServeBenchmarkConfig c = config(12, 6);
  c.request_rate = 400;
  c.burstiness = 0.5;
  c.seed = 11;
  c.max_concurrency = 2;
  c.ignore_eos = true;
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  ASSERT_EQ(r.summary.completed, 12);
  const std::vector<double> arrivals = arrival_times(12, 400, 0.5, 11);
  for (size_t i = 0; i < r.records.size(); ++i) {
    EXPECT_GE(r.records[i].start_s, arrivals[i] - 1e-6) << i;
    if (i > 0) {
      EXPECT_GE(r.records[i].start_s, r.records[i - 1].start_s) << i;  // in order
    }
    int open = 0;  // requests open at the moment request i was sent, itself included
    for (const RequestRecord& o : r.records)
      if (o.start_s <= r.records[i].start_s && r.records[i].start_s < o.start_s + o.e2e_s) ++open;
    EXPECT_LE(open, 2) << i;
  }
  EXPECT_EQ(r.to_json()["config"]["request_rate"], 400);
}

TEST_F(LiveServerTest, ChatEndpointAndModelList) {
  EXPECT_EQ(list_models(url_, ""), std::vector<std::string>{"stories"});
  ServeBenchmarkConfig c = config(3, 5);
  c.base_url = url_ + "/";  // a trailing slash is harmless
  c.endpoint = "chat";
  c.ignore_eos = true;
  c.scrape_metrics = false;
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  EXPECT_EQ(r.summary.completed, 3);
  for (const RequestRecord& rec : r.records) {
    EXPECT_TRUE(rec.success) << rec.error;
    EXPECT_EQ(rec.output_len, 5);
  }
  EXPECT_TRUE(r.metrics_before.empty());
}

TEST_F(LiveServerTest, RejectedRequestsAreCountedAndFailAWarmUp) {
  ServeBenchmarkConfig c = config(2, 4);
  c.prompts[1].output_len = -3;  // the server answers 400
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  EXPECT_EQ(r.summary.completed, 1);
  EXPECT_EQ(r.summary.failed, 1);
  EXPECT_FALSE(r.records[1].success);
  EXPECT_EQ(r.records[1].error.rfind("HTTP 400: ", 0), 0u) << r.records[1].error;

  c.prompts = {c.prompts[1]};
  c.num_warmup = 1;
  EXPECT_THROW(run_serve_benchmark(c), Error);
}

// Keep-alive: the warm-up's connections carry the whole measured run (the server never closes
// them); without it every request opens its own. The replies are the same either way.
TEST_F(LiveServerTest, KeptAliveConnectionsCarryTheRun) {
  ServeBenchmarkConfig c = config(8, 6);
  c.num_warmup = 2;
  c.max_concurrency = 2;
  c.ignore_eos = true;
  c.scrape_metrics = false;
  const ServeBenchmarkResult kept = run_serve_benchmark(c);
  EXPECT_EQ(kept.summary.completed, 8);
  EXPECT_EQ(kept.connections_opened, 0);
  EXPECT_EQ(kept.to_json()["connections_opened"], 0);
  EXPECT_EQ(kept.to_json()["config"]["keep_alive"], true);

  c.keep_alive = false;
  const ServeBenchmarkResult closed = run_serve_benchmark(c);
  EXPECT_EQ(closed.summary.completed, 8);
  EXPECT_EQ(closed.connections_opened, 8);
  EXPECT_EQ(closed.summary.total_output_tokens, kept.summary.total_output_tokens);
}

TEST(ServeBenchmark, UnreachableServerThrows) {
  ServeBenchmarkConfig c;
  c.base_url = "http://127.0.0.1:1";
  c.model = "m";
  c.prompts = story_prompts(1, 1);
  c.show_progress = false;
  try {
    run_serve_benchmark(c);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach http://127.0.0.1:1"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(list_models("http://127.0.0.1:1", ""), Error);
  c.base_url = "https://127.0.0.1:8000";
  EXPECT_THROW(run_serve_benchmark(c), Error);
}

TEST(HttpUrl, Parses) {
  const HttpUrl u = parse_http_url("http://localhost:8000/base");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 8000);
  EXPECT_EQ(u.target, "/base");
  EXPECT_EQ(parse_http_url("http://h").port, 80);
  EXPECT_EQ(parse_http_url("http://h").target, "/");
  EXPECT_EQ(parse_http_url("http://[::1]:9/").host, "::1");
  EXPECT_THROW(parse_http_url("https://h:1"), Error);
  EXPECT_THROW(parse_http_url("h:1"), Error);
  EXPECT_THROW(parse_http_url("http://h:99999"), Error);
  EXPECT_THROW(parse_http_url("http://:80"), Error);
  EXPECT_EQ(join_url("http://h:1//", "/v1/models"), "http://h:1/v1/models");
}

// A blocking loopback server that answers each connection, one at a time, with scripted raw bytes
// (written in the given pieces), then closes it; "" as the script keeps the connection open without
// answering until the client hangs up.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::vector<std::string>> scripts)
      : scripts_(std::move(scripts)) {
    fd_ = listen_on_loopback(&port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  // A listening socket on a free loopback port (the port into *port).
  static int listen_on_loopback(uint16_t* port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    *port = ntohs(addr.sin_port);
    return fd;
  }
  static void send_all(int c, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  static std::string read_request(int c) {
    std::string in;
    char b[4096];
    size_t body_len = 0, header_end = std::string::npos;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = in.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          const size_t cl = in.find("Content-Length: ");
          if (cl != std::string::npos && cl < header_end) body_len = std::stoul(in.substr(cl + 16));
        }
      }
      if (header_end != std::string::npos && in.size() >= header_end + 4 + body_len) return in;
      const ssize_t n = ::recv(c, b, sizeof b, 0);
      if (n <= 0) return in;
      in.append(b, static_cast<size_t>(n));
    }
  }

 private:
  void serve() {
    for (size_t i = 0;; ++i) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      const std::string req = read_request(c);
      if (req.rfind("GET /v1/models", 0) == 0) {  // the reachability check
        send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"data\":[]}");
        ::close(c);
        --i;
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(req);
      }
      const auto& script = scripts_[i % scripts_.size()];
      if (script.empty()) {
        char b[256];
        while (::recv(c, b, sizeof b, 0) > 0) {
        }
      }
      for (const std::string& piece : script) {
        send_all(c, piece);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ::close(c);
    }
  }

  std::vector<std::vector<std::string>> scripts_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

ServeBenchmarkConfig scripted_config(const std::string& url, int n) {
  ServeBenchmarkConfig c;
  c.base_url = url;
  c.model = "m";
  c.prompts = story_prompts(n, 3);
  c.max_concurrency = 1;  // the scripted server answers one connection at a time
  c.measure_energy = false;
  c.scrape_metrics = false;
  c.show_progress = false;
  c.request_timeout_s = 5;
  return c;
}

const std::string kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
std::string chunk(const std::string& s) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", s.size());
  return size + s + "\r\n";
}

TEST(ServeBenchmark, StreamCutAnywhereWithoutUsageCountsTextChunks) {
  // CRLF line ends, a chunk boundary inside an event and inside a CRLF, an empty-text chunk (not a
  // token) and no usage chunk: output_len falls back to the chunks with text.
  const std::string events =
      "data: {\"choices\":[{\"text\":\"\"}]}\r\n\r\n"
      "data: {\"choices\":[{\"text\":\"a\"}]}\r\n\r\n"
      "data: {\"choices\":[{\"text\":\"b\"}]}\r\n\r\n"
      "data: {\"choices\":[{\"text\":\"c\"}]}\r\n\r\n"
      "data: [DONE]\r\n\r\n";
  std::vector<std::string> pieces = {kSseHead};
  for (size_t i = 0; i < events.size(); i += 37) pieces.push_back(chunk(events.substr(i, 37)));
  pieces.push_back("0\r\n\r\n");
  ScriptedServer s({pieces});
  ServeBenchmarkConfig c = scripted_config(s.url(), 2);
  c.prompts[0].prompt_len = 9;  // the workload's count stands in for the missing usage
  c.ignore_eos = true;
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  ASSERT_EQ(r.summary.completed, 2);
  EXPECT_EQ(r.records[0].output_len, 3);
  EXPECT_EQ(r.records[0].itl_s.size(), 2u);
  EXPECT_EQ(r.records[0].prompt_len, 9);
  EXPECT_EQ(r.records[1].prompt_len, 0);
  EXPECT_LE(r.records[0].ttft_s, r.records[0].e2e_s);

  const auto reqs = s.requests();
  ASSERT_EQ(reqs.size(), 2u);
  const std::string body = reqs[0].substr(reqs[0].find("\r\n\r\n") + 4);
  const nlohmann::json j = nlohmann::json::parse(body);
  EXPECT_EQ(reqs[0].rfind("POST /v1/completions HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(j["model"], "m");
  EXPECT_EQ(j["prompt"], "Once upon a time 0");
  EXPECT_EQ(j["max_tokens"], 3);
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
  EXPECT_EQ(j["ignore_eos"], true);
}

TEST(ServeBenchmark, UsageChunkGivesCountsAndCachedTokens) {
  ScriptedServer s(
      {{kSseHead, chunk("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"),
        chunk("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"),
        chunk("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,"
              "\"completion_tokens\":4,\"prompt_tokens_details\":"
              "{\"cached_tokens\":5}}}\n\ndata: [DONE]\n\n"),
        "0\r\n\r\n"}});
  ServeBenchmarkConfig c = scripted_config(s.url(), 1);
  c.endpoint = "chat";
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  ASSERT_TRUE(r.records[0].success) << r.records[0].error;
  EXPECT_EQ(r.records[0].prompt_len, 7);
  EXPECT_EQ(r.records[0].output_len, 4);
  EXPECT_EQ(r.records[0].cached_tokens, 5);
  EXPECT_TRUE(r.records[0].itl_s.empty());
  const auto reqs = s.requests();
  EXPECT_EQ(reqs[0].rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u);
  const nlohmann::json j = nlohmann::json::parse(reqs[0].substr(reqs[0].find("\r\n\r\n") + 4));
  EXPECT_EQ(j["messages"][0]["role"], "user");
  EXPECT_FALSE(j.contains("ignore_eos"));
}

TEST(ServeBenchmark, OnlyTextOfTheFirstChoiceCountsAndUsageOnlyAtTheTop) {
  // Chunks that look like text or usage in the wrong place count for nothing; a nested "error"
  // member is not an error; reasoning text counts like content.
  const std::string events =
      R"(data: {"choices":[{"delta":{}},{"delta":{"content":"second choice"}}]})"
      "\n\n"
      R"(data: {"choices":{"0":{"text":"not an array"}}})"
      "\n\n"
      R"(data: {"choices":[{"message":{"content":"not a delta"},"x":{"text":"deep"}}]})"
      "\n\n"
      R"(data: {"choices":[[{"text":"in an array"}]],"usage":[{"prompt_tokens":99}]})"
      "\n\n"
      R"(data: {"choices":[{"delta":{"reasoning_content":"hmm"},"error":{"message":"x"}}]})"
      "\n\n"
      R"(data: {"x":{"usage":{"completion_tokens":98}},"choices":[{"delta":{"content":"ok"}}]})"
      "\n\n"
      R"(data: ["error", {"text": "not an object"}])"
      "\n\n"
      "data: [DONE]\n\n";
  ScriptedServer s({{kSseHead, chunk(events), "0\r\n\r\n"}});
  ServeBenchmarkConfig c = scripted_config(s.url(), 1);
  c.endpoint = "chat";
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  ASSERT_TRUE(r.records[0].success) << r.records[0].error;
  EXPECT_EQ(r.records[0].output_len, 2);  // "hmm" and "ok"; no usage chunk
  EXPECT_EQ(r.records[0].prompt_len, 0);
  EXPECT_EQ(r.records[0].itl_s.size(), 1u);
}

// A server that keeps each connection open after its answer but closes it, unanswered, when the
// next request comes (an idle timeout crossing that request): the client sends that request again
// on a new connection, and nothing fails.
TEST(ServeBenchmark, ARequestOnAKeptConnectionThatClosesIsSentAgain) {
  uint16_t port = 0;
  const int fd = ScriptedServer::listen_on_loopback(&port);
  ASSERT_FALSE(::testing::Test::HasFailure()) << "no listening socket";
  std::atomic<int> answered{0}, dropped{0};
  std::thread server([&] {
    while (true) {
      const int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      std::string req = ScriptedServer::read_request(c);
      if (req.rfind("GET /v1/models", 0) == 0) {
        ScriptedServer::send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"data\":[]}");
        req = ScriptedServer::read_request(c);  // the client may keep this one alive too
      }
      if (!req.empty()) {
        ScriptedServer::send_all(
            c, kSseHead + chunk("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n\n") +
                   "0\r\n\r\n");
        ++answered;
        if (!ScriptedServer::read_request(c).empty()) ++dropped;  // closed unanswered
      }
      ::close(c);
    }
  });
  ServeBenchmarkConfig c = scripted_config("http://127.0.0.1:" + std::to_string(port), 3);
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  server.join();
  EXPECT_EQ(r.summary.completed, 3);
  for (const RequestRecord& rec : r.records) EXPECT_TRUE(rec.success) << rec.error;
  EXPECT_EQ(answered.load(), 3);
  EXPECT_EQ(dropped.load(), 2);  // the second and third requests went twice
  EXPECT_EQ(r.connections_opened, 3);
}

TEST(ServeBenchmark, EveryKindOfFailureIsARecordedError) {
  const std::string text = chunk("data: {\"choices\":[{\"text\":\"a\"}]}\n\n");
  ScriptedServer s({
      // 0: an HTTP error with a JSON body
      {"HTTP/1.1 404 Not Found\r\nContent-Length: 26\r\n\r\n{\"error\":{\"message\":\"no\"}}"},
      // 1: an error object inside the stream
      {kSseHead, text, chunk("data: {\"error\":{\"message\":\"engine failed\"}}\n\n"), "0\r\n\r\n"},
      // 2: the connection drops in the middle of the stream
      {kSseHead, text},
      // 3: a stream that ends without any text
      {kSseHead, chunk("data: [DONE]\n\n"), "0\r\n\r\n"},
      // 4: no answer at all (the client's timeout)
      {},
      // 5: a llama.cpp-style error line
      {kSseHead, chunk("error: {\"message\":\"ctx full\"}\n\n"), "0\r\n\r\n"},
      // 6: an error answer cut short: the status is what counts
      {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\noops"},
      // 7: a server that ignores "stream": true
      {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"},
  });
  ServeBenchmarkConfig c = scripted_config(s.url(), 8);
  c.request_timeout_s = 0.5;
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  EXPECT_EQ(r.summary.completed, 0);
  EXPECT_EQ(r.summary.failed, 8);
  const auto& e = r.records;
  EXPECT_EQ(e[0].error, "HTTP 404: {\"error\":{\"message\":\"no\"}}");
  EXPECT_EQ(e[1].error, "error in the stream: engine failed");
  EXPECT_EQ(e[2].error.rfind("reading the stream: ", 0), 0u) << e[2].error;
  EXPECT_EQ(e[3].error, "the stream carried no text");
  EXPECT_EQ(e[4].error, "timed out while reading the response header");
  EXPECT_EQ(e[5].error, "error in the stream: ctx full");
  EXPECT_EQ(e[6].error, "HTTP 500: oops");
  EXPECT_EQ(e[7].error, "expected a text/event-stream reply, got Content-Type 'application/json'");
  for (const RequestRecord& rec : e) EXPECT_FALSE(rec.success);
}

TEST(ServeBenchmark, HundredsOfRequestsInFlightOnOneThread) {
  // The server answers nothing until every request is open at once, so the run completes only if
  // the client really holds all of them in flight together.
  constexpr size_t kRequests = 300;
  std::mutex mutex;
  std::vector<std::shared_ptr<server::Responder>> held;
  server::HttpServerOptions options;
  options.port = 0;
  server::HttpServer http(
      options, [&](server::HttpRequest&& req, std::shared_ptr<server::Responder> responder) {
        if (req.path == "/v1/models") {
          return responder->respond({200, "application/json", {}, "{\"data\":[]}"});
        }
        std::lock_guard lock(mutex);
        held.push_back(std::move(responder));
        if (held.size() < kRequests) return;
        for (auto& r : held) {
          r->start_stream(200, "text/event-stream");
          r->write("data: {\"choices\":[{\"text\":\"x\"}]}\n\n");
          r->write(
              "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}\n\n");
          r->write("data: [DONE]\n\n");
          r->end_stream();
        }
      });
  http.start();
  ServeBenchmarkConfig c = scripted_config("http://127.0.0.1:" + std::to_string(http.port()), 0);
  c.prompts = story_prompts(static_cast<int>(kRequests), 1);
  c.max_concurrency = 0;
  c.request_timeout_s = 60;
  const ServeBenchmarkResult r = run_serve_benchmark(c);
  EXPECT_EQ(r.summary.completed, static_cast<int64_t>(kRequests));
  EXPECT_EQ(r.summary.total_output_tokens, static_cast<int64_t>(kRequests));
  http.stop();
}

}  // namespace
}  // namespace pareto::bench
