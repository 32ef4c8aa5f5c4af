// The threaded Engine: requests from several client threads, streams, aborts, shutdown.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/engine_test_util.h"

namespace pareto {
namespace {

GenerationRequest request_for(int i) {
  GenerationRequest r;
  r.prompt_text = i % 2 ? "Once upon a time" : "Tom and Lily went to the park";
  r.sampling.temperature = 0.7f;
  r.sampling.seed = static_cast<uint64_t>(i);
  r.stop.max_tokens = 16 + i % 5;
  r.stop.ignore_eos = true;
  return r;
}

std::string drain(RequestStream& s, std::vector<int32_t>* tokens = nullptr,
                  std::optional<FinishReason>* reason = nullptr) {
  std::string text;
  while (auto out = s.next()) {
    for (const auto& d : out->completions) {
      text += d.text;
      if (tokens) tokens->insert(tokens->end(), d.token_ids.begin(), d.token_ids.end());
      if (reason && d.finish_reason) *reason = d.finish_reason;
    }
  }
  return text;
}

TEST(Engine, ConcurrentClientsGetTheirOwnStreams) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 128, 16);
  std::vector<std::vector<int32_t>> got(12);
  {
    Engine engine(*m.model, *m.tokenizer, c);
    std::vector<std::thread> clients;
    for (int t = 0; t < 3; ++t)
      clients.emplace_back([&, t] {
        for (int i = t; i < 12; i += 3) {
          auto stream = engine.add_request(request_for(i));
          drain(*stream, &got[static_cast<size_t>(i)]);
          EXPECT_TRUE(stream->finished());
          EXPECT_FALSE(stream->next());  // nothing after the final output
        }
      });
    for (auto& th : clients) th.join();
    EXPECT_EQ(engine.stats().num_requests_finished, 12);
  }
  for (int i = 0; i < 12; ++i) {
    const auto alone = test::run_alone(*m.model, *m.tokenizer, request_for(i));
    EXPECT_EQ(got[static_cast<size_t>(i)], alone.completions[0].token_ids) << i;
  }
}

TEST(Engine, AbortEndsTheStreamAndShutdownEndsTheRest) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 128, 16);
  std::shared_ptr<RequestStream> left_running;
  {
    Engine engine(*m.model, *m.tokenizer, c);
    GenerationRequest endless = request_for(0);
    endless.stop.max_tokens = 100000;  // capped by the context: runs for a while
    auto a = engine.add_request(endless);
    engine.abort(a->request_id());  // hundreds of steps before it could finish on its own
    std::optional<FinishReason> reason;
    drain(*a, nullptr, &reason);
    EXPECT_EQ(reason, FinishReason::kAbort);

    auto bad = engine.add_request(GenerationRequest{});  // empty prompt
    auto out = bad->next();
    ASSERT_TRUE(out);
    EXPECT_TRUE(out->error);
    EXPECT_EQ(out->error_kind, RequestErrorKind::kInvalidRequest);
    EXPECT_TRUE(out->finished);

    left_running = engine.add_request(endless);
  }  // the destructor aborts what is still running
  std::optional<FinishReason> reason;
  drain(*left_running, nullptr, &reason);
  EXPECT_TRUE(left_running->finished());
}

// The event-driven read path the HTTP server uses: a listener that only counts wake-ups, and
// try_next() drained after each, sees every output exactly once and in order.
TEST(Engine, ListenerAndTryNextSeeEveryOutput) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 128, 16);
  std::vector<int32_t> got;
  {
    Engine engine(*m.model, *m.tokenizer, c);
    auto stream = engine.add_request(request_for(3));
    std::mutex mu;
    std::condition_variable cv;
    int wakeups = 0;
    stream->set_listener([&] {
      std::lock_guard lock(mu);
      ++wakeups;
      cv.notify_all();
    });
    bool finished = false;
    while (!finished) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return wakeups > 0; });
        wakeups = 0;
      }
      while (auto out = stream->try_next()) {
        for (const CompletionDelta& d : out->completions)
          got.insert(got.end(), d.token_ids.begin(), d.token_ids.end());
        finished |= out->finished;
      }
    }
    EXPECT_TRUE(stream->finished());
    EXPECT_FALSE(stream->try_next());
  }
  const auto alone = test::run_alone(*m.model, *m.tokenizer, request_for(3));
  EXPECT_EQ(got, alone.completions[0].token_ids);
}

}  // namespace
}  // namespace pareto
