// The OpenAI-compatible server over real HTTP on a loopback port, against stories260K: exact
// texts against the engine alone, the error objects, dropped streams freeing their KV blocks,
// the queue limit, API keys, /metrics and graceful shutdown.
#include "server/api_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_scheduling.h"
#include "engine/engine_test_util.h"
#include "server/http_test_client.h"

namespace pareto::server {
namespace {

using nlohmann::json;
using test::http_request;
using test::HttpResult;

class ApiServerTest : public ::testing::Test {
 protected:
  void start(EngineConfig config, ApiServerOptions options) {
    engine_ = std::make_unique<Engine>(*model_.model, *model_.tokenizer, config);
    options.http.port = 0;
    options.served_model_name = "stories";
    if (options.chat_template.empty()) options.chat_template = ChatTemplate::default_chatml();
    server_ = std::make_unique<ApiServer>(*engine_, options);
    server_->start();
    port_ = server_->port();
  }
  void start(EngineConfig config) {
    ApiServerOptions options;
    start(std::move(config), std::move(options));
  }
  void start() { start(test::config_with_blocks(*model_.model, 256, 16)); }
  void TearDown() override {
    if (server_) server_->shutdown(std::chrono::seconds(10));
    server_.reset();
    engine_.reset();
  }

  HttpResult post(const std::string& path, const json& body,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    return http_request(port_, "POST", path, body.dump(), headers);
  }
  // The error object of a failed request, checked to have exactly OpenAI's four fields.
  json expect_error(const HttpResult& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j.size(), 1u);
    const json& e = j.at("error");
    EXPECT_EQ(e.size(), 4u) << e;
    EXPECT_TRUE(e.at("message").is_string());
    EXPECT_TRUE(e.at("type").is_string());
    EXPECT_TRUE(e.contains("param"));
    EXPECT_TRUE(e.contains("code"));
    return e;
  }
  // The engine's own greedy output for a text prompt.
  std::string alone_text(const std::string& prompt, int64_t max_tokens) {
    GenerationRequest g;
    g.prompt_text = prompt;
    g.sampling.temperature = 0;
    g.stop.max_tokens = max_tokens;
    return test::run_alone(*model_.model, *model_.tokenizer, g).completions.at(0).text;
  }
  // Waits (bounded) until no KV block is referenced: aborts are applied at step boundaries.
  bool blocks_back_to_zero() {
    for (int i = 0; i < 500; ++i) {
      const EngineStats s = engine_->stats();
      if (s.num_used_kv_blocks == 0 && s.num_running == 0 && s.num_waiting == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  test::LoadedTestModel model_ = test::load_test_model(test::stories_model());
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ApiServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ApiServerTest, CompletionMatchesTheEngineAloneStreamedOrNot) {
  start();
  const std::string prompt = "Once upon a time";
  const std::string want = alone_text(prompt, 40);
  const json req = {
      {"model", "stories"}, {"prompt", prompt}, {"max_tokens", 40}, {"temperature", 0}};
  const HttpResult r = post("/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["model"], "stories");
  EXPECT_EQ(j["choices"][0]["text"], want);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 40);
  EXPECT_EQ(j["usage"]["prompt_tokens"],
            static_cast<int64_t>(model_.tokenizer->encode(prompt, true, true).size()));
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int64_t>() + 40);

  json sreq = req;
  sreq["stream"] = true;
  sreq["stream_options"] = {{"include_usage", true}};
  const HttpResult s = post("/v1/completions", sreq);
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.header("content-type").starts_with("text/event-stream"))
      << s.header("content-type");
  std::string text;
  bool done = false, usage = false;
  size_t pos = 0;
  while ((pos = s.body.find("data: ", pos)) != std::string::npos) {
    const size_t end = s.body.find("\n\n", pos);
    const std::string data = s.body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    const json c = json::parse(data);
    if (c["choices"].empty()) {
      usage = true;
      EXPECT_EQ(c["usage"]["completion_tokens"], 40);
    } else {
      text += c["choices"][0]["text"].get<std::string>();
    }
  }
  EXPECT_TRUE(done);
  EXPECT_TRUE(usage);
  EXPECT_EQ(text, want);
}

TEST_F(ApiServerTest, ChatNAndPromptListsAndTokenPrompts) {
  start();
  const json chat = {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                     {"max_tokens", 8},    {"n", 2},
                     {"seed", 5},          {"temperature", 0.9}};
  HttpResult r = post("/v1/chat/completions", chat);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  ASSERT_EQ(j["choices"].size(), 2u);
  EXPECT_EQ(j["choices"][1]["index"], 1);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  const HttpResult again = post("/v1/chat/completions", chat);
  EXPECT_EQ(json::parse(again.body)["choices"], j["choices"]);  // seeded: reproducible

  // Two prompts x n=2: choices ordered prompt-major, each equal to its prompt's greedy text.
  const json multi = {{"model", "stories"},
                      {"prompt", {"Once upon a time", "The cat"}},
                      {"max_tokens", 12},
                      {"n", 2},
                      {"temperature", 0}};
  r = post("/v1/completions", multi);
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(r.body);
  ASSERT_EQ(j["choices"].size(), 4u);
  EXPECT_EQ(j["choices"][0]["text"], alone_text("Once upon a time", 12));
  EXPECT_EQ(j["choices"][1]["text"], alone_text("Once upon a time", 12));
  EXPECT_EQ(j["choices"][2]["text"], alone_text("The cat", 12));

  const std::vector<int32_t> ids = model_.tokenizer->encode("Once upon a time", true, true);
  r = post("/v1/completions",
           {{"model", "stories"}, {"prompt", ids}, {"max_tokens", 12}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["choices"][0]["text"], alone_text("Once upon a time", 12));
}

TEST_F(ApiServerTest, BadRequestsGetOpenAiErrorObjects) {
  EngineConfig c = test::config_with_blocks(*model_.model, 256, 16);
  start(c);
  const int64_t ctx = engine_->config().max_model_len;

  json e = expect_error(http_request(port_, "POST", "/v1/completions", "{not json"), 400);
  EXPECT_EQ(e["type"], "invalid_request_error");
  e = expect_error(post("/v1/completions", {{"model", "nope"}, {"prompt", "x"}}), 400);
  EXPECT_EQ(e["param"], "model");
  EXPECT_EQ(e["code"], "model_not_found");
  e = expect_error(
      post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}, {"max_tokens", "9"}}), 400);
  EXPECT_EQ(e["param"], "max_tokens");
  EXPECT_EQ(e["code"], "invalid_type");
  e = expect_error(post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}, {"n", 0}}), 400);
  EXPECT_EQ(e["param"], "n");
  e = expect_error(
      post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}, {"max_tokens", 0}}), 400);
  EXPECT_EQ(e["param"], "max_tokens");
  e = expect_error(
      post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}, {"max_tokens", ctx + 1}}),
      400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
  e = expect_error(
      post("/v1/chat/completions", {{"model", "stories"}, {"messages", json::array()}}), 400);
  EXPECT_EQ(e["param"], "messages");
  e = expect_error(post("/v1/chat/completions",
                        {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", 3}}}}}),
                   400);
  EXPECT_EQ(e["param"], "messages[0].content");
  e = expect_error(
      post("/v1/completions",
           {{"model", "stories"}, {"prompt", std::string(static_cast<size_t>(ctx) * 8, 'a')}}),
      400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
  e = expect_error(
      post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}, {"temperature", 3}}), 400);
  EXPECT_EQ(e["param"], "temperature");
  expect_error(http_request(port_, "GET", "/v1/nothing"), 404);
  expect_error(http_request(port_, "GET", "/v1/completions"), 405);
  // Nothing leaked from any of them.
  EXPECT_TRUE(blocks_back_to_zero());
}

TEST_F(ApiServerTest, ApiKeyIsRequiredOnV1Only) {
  ApiServerOptions o;
  o.api_keys = {"sekrit"};
  start(test::config_with_blocks(*model_.model, 256, 16), o);
  json e = expect_error(http_request(port_, "GET", "/v1/models"), 401);
  EXPECT_EQ(e["code"], "invalid_api_key");
  expect_error(http_request(port_, "GET", "/v1/models", "", {{"Authorization", "Bearer sekriT"}}),
               401);
  const HttpResult ok =
      http_request(port_, "GET", "/v1/models", "", {{"Authorization", "Bearer sekrit"}});
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["data"][0]["id"], "stories");
  EXPECT_EQ(http_request(port_, "GET", "/health").status, 200);
  EXPECT_EQ(http_request(port_, "GET", "/metrics").status, 200);
  EXPECT_TRUE(api_key_matches("abc", "abc"));
  EXPECT_FALSE(api_key_matches("abcd", "abc"));
  EXPECT_FALSE(api_key_matches("ab", "abc"));
  EXPECT_FALSE(api_key_matches("", ""));
}

// Threads of this process allowed exactly these CPUs.
int count_threads_on(const std::vector<int>& cpus) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
    n += thread_cpus(std::stoi(task.path().filename().string())) == cpus;
  return n;
}

TEST_F(ApiServerTest, HttpThreadsAndWorkerRunOnTheIoCpus) {
  const std::vector<int> allowed = thread_cpus();
  if (allowed.size() < 2) GTEST_SKIP() << "needs two CPUs";
  const std::vector<int> io{allowed.back()};
  ASSERT_EQ(count_threads_on(io), 0);
  EngineConfig c = test::config_with_blocks(*model_.model, 256, 16);
  c.cpu_affinity = {allowed.front()};
  ApiServerOptions o;
  o.http.cpus = io;
  start(c, o);
  // The I/O thread and the worker, each pinning itself as it starts; no engine thread.
  for (int i = 0; i < 500 && count_threads_on(io) < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(count_threads_on(io), 2);
  const HttpResult r = post("/v1/completions", {{"model", "stories"},
                                                {"prompt", "Once upon a time"},
                                                {"max_tokens", 8},
                                                {"temperature", 0},
                                                {"stream", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(count_threads_on(io), 2);
}

TEST_F(ApiServerTest, FullQueueGets429WithRetryAfter) {
  EngineConfig c = test::config_with_blocks(*model_.model, 256, 16);
  c.max_num_seqs = 1;
  ApiServerOptions o;
  o.max_queue = 0;
  start(c, o);
  // The busy request runs for as long as the context allows, yet a stalled test thread can
  // still see it finish before its second request is parsed. A 200 then says nothing about the
  // limit: the busy stream must have ended (else the test fails), and the test tries again. A
  // server that never refuses fails every attempt.
  std::unique_ptr<test::HttpTestClient> busy;
  HttpResult r;
  for (int attempt = 0; attempt < 5 && r.status != 429; ++attempt) {
    busy = std::make_unique<test::HttpTestClient>(port_);
    busy->send_request("POST", "/v1/completions",
                       json{{"model", "stories"},
                            {"prompt", "Once"},
                            {"max_tokens", 2000},
                            {"ignore_eos", true},
                            {"stream", true}}
                           .dump());
    ASSERT_TRUE(busy->read_until("data: "));  // it is running
    r = post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}});
    if (r.status == 200) {
      // The worker thread parses requests and completes sessions in turn, so the busy one's
      // slot is free by the time the next attempt's request is parsed.
      ASSERT_TRUE(busy->read_until("data: [DONE]"))
          << "a second request was accepted while the busy one was still running";
    }
  }
  const json e = expect_error(r, 429);
  EXPECT_EQ(e["code"], "rate_limit_exceeded");
  EXPECT_EQ(r.header("retry-after"), "1");
  busy->close();  // hang up: its request is aborted and the slot frees
  ASSERT_TRUE(blocks_back_to_zero());
  for (int i = 0; i < 200; ++i) {  // the session notices the abort at the next step boundary
    if (post("/v1/completions", {{"model", "stories"}, {"prompt", "x"}, {"max_tokens", 2}})
            .status == 200)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL() << "the slot of the dropped request was never freed";
}

// 200 streaming requests, half dropped after their first chunk: no block leaks, and every
// completed one has exactly the text it has when run alone.
TEST_F(ApiServerTest, DroppedStreamsFreeTheirBlocksAndOthersAreUnaffected) {
  const std::vector<std::string> words = {"Once", "The dog", "A girl", "Tim", "The sun", "Lily"};
  constexpr int kNum = 200;
  std::vector<std::string> prompts;
  std::map<std::string, std::string> alone;
  // Before the server starts: a Model runs one forward pass at a time, so the reference runs
  // must not overlap the server engine's steps.
  for (int i = 0; i < kNum; ++i) {
    prompts.push_back(words[static_cast<size_t>(i) % words.size()] + " " + std::to_string(i % 7));
    if (!alone.count(prompts.back())) alone[prompts.back()] = alone_text(prompts.back(), 24);
  }
  start(test::config_with_blocks(*model_.model, 512, 16));
  std::vector<std::unique_ptr<test::HttpTestClient>> conns;
  for (int i = 0; i < kNum; ++i) {
    conns.push_back(std::make_unique<test::HttpTestClient>(port_));
    conns.back()->send_request("POST", "/v1/completions",
                               json{{"model", "stories"},
                                    {"prompt", prompts[static_cast<size_t>(i)]},
                                    // The dropped (even) ones are long, so none can finish
                                    // before the server sees its client go.
                                    {"max_tokens", i % 2 == 0 ? 1000 : 24},
                                    {"temperature", 0},
                                    {"ignore_eos", true},
                                    {"stream", true}}
                                   .dump());
  }
  for (int i = 0; i < kNum; i += 2) {
    ASSERT_TRUE(conns[static_cast<size_t>(i)]->read_until("\"text\""));
    conns[static_cast<size_t>(i)]->close();
  }
  for (int i = 1; i < kNum; i += 2) {
    const HttpResult r = conns[static_cast<size_t>(i)]->read_response();
    ASSERT_EQ(r.status, 200);
    std::string text;
    size_t pos = 0;
    while ((pos = r.body.find("data: {", pos)) != std::string::npos) {
      const size_t end = r.body.find("\n\n", pos);
      text += json::parse(r.body.substr(pos + 6, end - pos - 6))["choices"][0]["text"]
                  .get<std::string>();
      pos = end;
    }
    const std::string& p = prompts[static_cast<size_t>(i)];
    EXPECT_EQ(text, alone[p]) << "request " << i << " prompt " << p;
  }
  ASSERT_TRUE(blocks_back_to_zero());
  const std::string metrics = http_request(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("\npareto:kv_cache_blocks_used 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("pareto:request_success_total{finished_reason=\"abort\"} 100\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("pareto:request_success_total{finished_reason=\"length\"} 100\n"),
            std::string::npos);
}

TEST_F(ApiServerTest, TokenizeDetokenizeAndLogprobs) {
  start();
  HttpResult r = post("/tokenize", {{"model", "stories"}, {"prompt", "Once upon a time"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json t = json::parse(r.body);
  EXPECT_EQ(t["tokens"].get<std::vector<int32_t>>(),
            model_.tokenizer->encode("Once upon a time", true, true));
  EXPECT_EQ(t["count"], t["tokens"].size());
  r = post("/detokenize", {{"model", "stories"}, {"tokens", t["tokens"]}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["prompt"], "Once upon a time");

  r = post("/v1/chat/completions", {{"model", "stories"},
                                    {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                    {"max_tokens", 4},
                                    {"logprobs", true},
                                    {"top_logprobs", 3}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json lp = json::parse(r.body)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 4u);
  for (const json& tok : lp) {
    EXPECT_LE(tok["logprob"].get<double>(), 0.0);
    EXPECT_EQ(tok["top_logprobs"].size(), 3u);
    EXPECT_TRUE(tok["bytes"].is_array());
  }
}

// Over HTTP, with the template given as the server's override: messages and tools reach it in
// the client's key order, not sorted. The prompt is checked through /tokenize: the chat body's
// tokens must be those of the text it should render to (and not those of the sorted text).
TEST_F(ApiServerTest, ChatTemplateSeesTheClientsKeyOrder) {
  ApiServerOptions o;
  o.chat_template = "{{ messages[0] | tojson }}\n{{ tools | tojson }}";
  start(test::config_with_blocks(*model_.model, 256, 16), o);
  const std::string body =
      R"({"model": "stories", "messages": [{"role": "user", "content": "Hi", "name": "bob"}],
          "tools": [{"type": "function", "function": {"name": "f", "parameters": {"b": 1, "a": 2}}}])";
  const auto tokens_of = [&](const HttpResult& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["tokens"];
  };
  const json chat = tokens_of(http_request(port_, "POST", "/tokenize", body + "}"));
  const std::string want =
      R"({"role": "user", "content": "Hi", "name": "bob"})"
      "\n"
      R"([{"type": "function", "function": {"name": "f", "parameters": {"b": 1, "a": 2}}}])";
  EXPECT_EQ(chat, tokens_of(post("/tokenize", {{"model", "stories"}, {"prompt", want}})));
  const std::string sorted =
      R"({"content": "Hi", "name": "bob", "role": "user"})"
      "\n"
      R"([{"function": {"name": "f", "parameters": {"a": 2, "b": 1}}, "type": "function"}])";
  EXPECT_NE(chat, tokens_of(post("/tokenize", {{"model", "stories"}, {"prompt", sorted}})));
  // The chat completion renders the same prompt.
  const HttpResult r =
      http_request(port_, "POST", "/v1/chat/completions", body + R"(, "max_tokens": 1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["usage"]["prompt_tokens"], chat.size());
}

TEST_F(ApiServerTest, ShutdownLetsInFlightStreamsFinish) {
  start();
  test::HttpTestClient c(port_);
  c.send_request("POST", "/v1/completions",
                 json{{"model", "stories"},
                      {"prompt", "Once"},
                      {"max_tokens", 64},
                      {"ignore_eos", true},
                      {"stream", true}}
                     .dump());
  ASSERT_TRUE(c.read_until("data: "));
  std::thread stopper([&] { EXPECT_EQ(server_->shutdown(std::chrono::seconds(60)), 0u); });
  HttpResult r;
  try {
    r = c.read_response();
  } catch (const std::exception& e) {  // the stream was cut: fail, but join the stopper first
    ADD_FAILURE() << e.what();
  }
  stopper.join();
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  EXPECT_NE(r.body.find("\"finish_reason\":\"length\""), std::string::npos);
  server_.reset();
}

}  // namespace
}  // namespace pareto::server

namespace pareto::server {
namespace {

// Two engine replicas behind one server: texts equal to the engine alone, prefix routing keeps
// a prompt's cache hits on one replica, and POST /reset_prefix_cache empties every replica.
TEST(ApiServerReplicas, ServeAsOneAndResetThePrefixCache) {
  auto m0 = test::load_test_model(test::stories_model());
  auto ref = test::load_test_model(test::stories_model());
  auto m1 = Model::load(test::stories_model());
  const std::string long_prompt =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park with her friends and her dog.";
  const std::vector<std::string> prompts = {"Once upon a time", "Tom and Lily went", long_prompt,
                                            "The sun was"};
  std::vector<std::string> want;
  for (const auto& p : prompts) {
    GenerationRequest g;
    g.prompt_text = p;
    g.sampling.temperature = 0;
    g.stop.max_tokens = 24;
    want.push_back(test::run_alone(*ref.model, *ref.tokenizer, g).completions.at(0).text);
  }

  EngineConfig c = test::config_with_blocks(*m0.model, 128, 16);
  c.num_threads = 1;
  Engine e0(*m0.model, *m0.tokenizer, c, EngineGroup::replica_id_space(0, 2));
  Engine e1(*m1, *m0.tokenizer, c, EngineGroup::replica_id_space(1, 2));
  EngineGroupOptions go;
  go.routing = ReplicaRouting::kPrefixAffinity;
  EngineGroup group({&e0, &e1}, go);
  ApiServerOptions options;
  options.http.port = 0;
  options.served_model_name = "stories";
  options.chat_template = ChatTemplate::default_chatml();
  ApiServer server(group, options);
  server.start();
  const uint16_t port = server.port();
  auto complete = [&](const std::string& prompt) {
    const json req = {
        {"model", "stories"}, {"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}};
    const HttpResult r = http_request(port, "POST", "/v1/completions", req.dump(), {});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  };

  // Concurrent requests spread over both replicas and match the engine alone.
  std::vector<json> got(prompts.size() * 2);
  {
    std::vector<std::thread> clients;
    for (size_t i = 0; i < got.size(); ++i)
      clients.emplace_back([&, i] { got[i] = complete(prompts[i % prompts.size()]); });
    for (auto& t : clients) t.join();
  }
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i]["choices"][0]["text"], want[i % prompts.size()]) << i;
  const auto routed = group.routed_counts();
  EXPECT_EQ(routed[0] + routed[1], static_cast<int64_t>(got.size()));
  EXPECT_GT(routed[0], 0);
  EXPECT_GT(routed[1], 0);

  // The long prompt is cached on its replica; the reset forgets it everywhere.
  const json warm = complete(long_prompt);
  EXPECT_GT(warm["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), 0) << warm;
  const HttpResult reset = http_request(port, "POST", "/reset_prefix_cache", "", {});
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_GT(json::parse(reset.body)["dropped_blocks"].get<int64_t>(), 0);
  const json cold = complete(long_prompt);
  EXPECT_EQ(cold["usage"]["prompt_tokens_details"]["cached_tokens"], 0) << cold;
  EXPECT_EQ(cold["choices"][0]["text"], want[2]);
  EXPECT_EQ(http_request(port, "GET", "/reset_prefix_cache", "", {}).status, 405);

  // /metrics sums the replicas: 2 x 128 blocks.
  const HttpResult metrics = http_request(port, "GET", "/metrics", "", {});
  EXPECT_NE(metrics.body.find("pareto:kv_cache_num_blocks 256"), std::string::npos);
  server.shutdown(std::chrono::seconds(10));
}

}  // namespace
}  // namespace pareto::server
