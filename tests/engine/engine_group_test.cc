// EngineGroup: replicas behind one front — routing, id spaces, summed stats, prefix-cache reset.
#include "engine/engine_group.h"

#include <gtest/gtest.h>

#include <thread>

#include "base/error.h"
#include "engine/engine_test_util.h"

namespace pareto {
namespace {

GenerationRequest request_with(std::vector<int32_t> prompt, int max_tokens = 8) {
  GenerationRequest r;
  r.prompt_token_ids = std::move(prompt);
  r.stop.max_tokens = max_tokens;
  r.stop.ignore_eos = true;
  r.sampling.temperature = 0.8f;
  r.sampling.seed = 1234;  // seeded: the same tokens on any replica and alone
  return r;
}

std::vector<int32_t> drain_tokens(RequestStream& s) {
  std::vector<int32_t> tokens;
  while (auto out = s.next())
    for (const auto& d : out->completions)
      tokens.insert(tokens.end(), d.token_ids.begin(), d.token_ids.end());
  return tokens;
}

// Two replicas, each with its own Model (scratch buffers) over the same file.
struct TwoReplicas {
  test::LoadedTestModel m0;
  std::unique_ptr<Model> m1;
  std::unique_ptr<Engine> e0, e1;
  std::unique_ptr<EngineGroup> group;

  explicit TwoReplicas(ReplicaRouting routing, int64_t slack = 8) {
    m0 = test::load_test_model(test::stories_model());
    m1 = Model::load(test::stories_model());
    EngineConfig c = test::config_with_blocks(*m0.model, 64, 16);
    c.num_threads = 1;
    e0 = std::make_unique<Engine>(*m0.model, *m0.tokenizer, c, EngineGroup::replica_id_space(0, 2));
    e1 = std::make_unique<Engine>(*m1, *m0.tokenizer, c, EngineGroup::replica_id_space(1, 2));
    EngineGroupOptions o;
    o.routing = routing;
    o.affinity_slack = slack;
    group = std::make_unique<EngineGroup>(std::vector<Engine*>{e0.get(), e1.get()}, o);
  }
};

std::vector<int32_t> prompt_of(int seed, size_t len) {
  std::vector<int32_t> p;
  for (size_t i = 0; i < len; ++i)
    p.push_back(static_cast<int32_t>(10 + (seed * 37 + i * 11) % 400));
  return p;
}

TEST(EngineGroup, ParsesRoutingNames) {
  EXPECT_EQ(parse_replica_routing("least-loaded"), ReplicaRouting::kLeastLoaded);
  EXPECT_EQ(parse_replica_routing("prefix"), ReplicaRouting::kPrefixAffinity);
  EXPECT_THROW(parse_replica_routing("random"), Error);
  EXPECT_THROW(EngineGroup(std::vector<Engine*>{}), Error);
}

TEST(EngineGroup, IdsNameTheirReplicaAndOutputsMatchARunAlone) {
  TwoReplicas r(ReplicaRouting::kLeastLoaded);
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 6; ++i)
    streams.push_back(r.group->add_request(request_with(prompt_of(i, 20))));
  std::vector<int64_t> ids;
  std::vector<std::vector<int32_t>> got;
  for (auto& s : streams) {
    ids.push_back(s->request_id());
    got.push_back(drain_tokens(*s));
  }
  // A Model runs one forward pass at a time: the reference gets its own.
  auto ref = test::load_test_model(test::stories_model());
  for (int i = 0; i < 6; ++i) {
    const auto alone = test::run_alone(*ref.model, *ref.tokenizer, request_with(prompt_of(i, 20)));
    EXPECT_EQ(got[static_cast<size_t>(i)], alone.completions[0].token_ids) << i;
  }
  // Unique ids, even and odd ones from replica 0 and 1.
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  const auto routed = r.group->routed_counts();
  EXPECT_EQ(routed[0] + routed[1], 6);
  EXPECT_GE(routed[0], 1);  // added back to back: the second goes where the first is not
  EXPECT_GE(routed[1], 1);
  const EngineStats s = r.group->stats();
  EXPECT_EQ(s.num_requests_finished, 6);
  EXPECT_EQ(s.num_generated_tokens, 6 * 8);
  EXPECT_EQ(s.num_kv_blocks, 128);  // 64 per replica
  EXPECT_EQ(r.group->total_max_num_seqs(), 2 * r.e0->config().max_num_seqs);
}

TEST(EngineGroup, LeastLoadedBalancesABurst) {
  TwoReplicas r(ReplicaRouting::kLeastLoaded);
  std::vector<std::shared_ptr<RequestStream>> streams;
  // Long requests (hundreds of steps): none finishes while the burst is added.
  for (int i = 0; i < 10; ++i)
    streams.push_back(r.group->add_request(request_with(prompt_of(i, 8), 100000)));
  const auto routed = r.group->routed_counts();
  // Each pick sees the other replica's unfinished requests: they alternate.
  EXPECT_EQ(routed[0], 5);
  EXPECT_EQ(routed[1], 5);
  for (auto& s : streams) r.group->abort(s->request_id());
  for (auto& s : streams) drain_tokens(*s);
}

TEST(EngineGroup, AbortReachesTheOwningReplica) {
  TwoReplicas r(ReplicaRouting::kLeastLoaded);
  auto a = r.group->add_request(request_with(prompt_of(1, 8), 100000));
  auto b = r.group->add_request(request_with(prompt_of(2, 8), 100000));
  r.group->abort(b->request_id());
  r.group->abort(a->request_id());
  for (auto* s : {a.get(), b.get()}) {
    std::optional<FinishReason> reason;
    while (auto out = s->next())
      for (const auto& d : out->completions)
        if (d.finish_reason) reason = d.finish_reason;
    EXPECT_EQ(reason, FinishReason::kAbort);
  }
  r.group->abort(-5);      // ignored
  r.group->abort(123457);  // unknown: ignored
  EXPECT_EQ(r.e0->num_unfinished_requests() + r.e1->num_unfinished_requests(), 0);
}

TEST(EngineGroup, PrefixRoutingKeepsASharedPrefixOnOneReplica) {
  TwoReplicas r(ReplicaRouting::kPrefixAffinity, /*slack=*/100);
  const std::vector<int32_t> shared = prompt_of(7, 48);  // 3 chunks of 16
  for (int i = 0; i < 6; ++i) {
    std::vector<int32_t> p = shared;
    const auto tail = prompt_of(100 + i, 5);
    p.insert(p.end(), tail.begin(), tail.end());
    drain_tokens(*r.group->add_request(request_with(p)));  // one at a time: each sees the cache
  }
  auto routed = r.group->routed_counts();
  EXPECT_TRUE(routed[0] == 6 || routed[1] == 6) << routed[0] << " " << routed[1];
  // The replica that took them reused the prefix: 5 of 6 requests hit 48 cached tokens.
  const EngineStats st = r.group->stats();
  EXPECT_EQ(st.prefix_hit_tokens, 5 * 48);

  // A different prefix is free to go elsewhere; with a small slack a hot prefix spills over.
  TwoReplicas tight(ReplicaRouting::kPrefixAffinity, /*slack=*/0);
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 6; ++i) {
    std::vector<int32_t> p = shared;
    p.push_back(400 + i);
    streams.push_back(tight.group->add_request(request_with(p, 200)));
  }
  routed = tight.group->routed_counts();
  EXPECT_GE(routed[0], 2);
  EXPECT_GE(routed[1], 2);
  for (auto& s : streams) drain_tokens(*s);
}

TEST(EngineGroup, ResetPrefixCacheDropsCachedBlocks) {
  TwoReplicas r(ReplicaRouting::kPrefixAffinity, 100);
  const std::vector<int32_t> p = prompt_of(3, 40);  // 2 full blocks
  drain_tokens(*r.group->add_request(request_with(p)));
  drain_tokens(*r.group->add_request(request_with(p)));
  EXPECT_EQ(r.group->stats().prefix_hit_tokens, 32);
  EXPECT_GE(r.group->reset_prefix_cache(), 2);
  EXPECT_EQ(r.group->reset_prefix_cache(), 0);  // nothing left
  drain_tokens(*r.group->add_request(request_with(p)));
  EXPECT_EQ(r.group->stats().prefix_hit_tokens, 32);  // no new hit after the reset
}

TEST(EngineGroup, ResetWhileRequestsRunKeepsThemCorrect) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  Engine engine(*m.model, *m.tokenizer, c);
  const auto req = request_with(prompt_of(5, 40), 48);
  auto s = engine.add_request(req);
  std::thread resetter([&] {
    for (int i = 0; i < 20; ++i) engine.reset_prefix_cache();
  });
  const auto got = drain_tokens(*s);
  resetter.join();
  EXPECT_EQ(got, test::run_alone(*m.model, *m.tokenizer, req).completions[0].token_ids);
  EXPECT_EQ(engine.stats().num_used_kv_blocks, 0);
}

}  // namespace
}  // namespace pareto
