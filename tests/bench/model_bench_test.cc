#include "bench/model_bench.h"

#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "support/test_paths.h"

namespace pareto::bench {
namespace {

TEST(ModelBench, StoriesModelGivesSaneStructure) {
  auto model = Model::load(test::stories_model());
  ThreadPool pool(2);
  ModelBenchOptions o;
  o.prompt_tokens = 16;
  o.gen_tokens = 8;
  o.reps = 2;
  o.roofline_gb_s = 10.0;
  o.peak_gflops = 50.0;
  const ModelBenchResult r = run_model_bench(*model, o, pool);
  EXPECT_EQ(r.model, "llama");  // general.name of stories260K
  EXPECT_EQ(r.threads, 2);
  EXPECT_EQ(r.prompt_tokens, 16);
  EXPECT_EQ(r.gen_tokens, 8);
  EXPECT_EQ(r.reps, 2);
  EXPECT_EQ(r.kv_dtype, DType::F16);  // the engine's default
  EXPECT_EQ(r.prefill_seconds.size(), 2u);
  EXPECT_EQ(r.decode_seconds.size(), 2u);
  EXPECT_EQ(r.weight_bytes, model->weight_bytes());
  // 5 layers x (q 64x64 + k, v 64x32 + o 64x64 + gate, up, down 64x172) + output 64x512.
  EXPECT_EQ(r.weight_params, 5u * (64 * 64 * 2 + 64 * 32 * 2 + 64 * 172 * 3) + 64 * 512);
  EXPECT_EQ(r.weight_bytes, r.weight_params * 4);  // all F32
  EXPECT_GT(r.prefill_tok_s, 0.0);
  EXPECT_GT(r.decode_tok_s, 0.0);
  EXPECT_TRUE(std::isfinite(r.prefill_tok_s) && std::isfinite(r.decode_tok_s));
  // The derived figures are the documented formulas of the measured rates.
  EXPECT_DOUBLE_EQ(r.weight_gb_s, static_cast<double>(r.weight_bytes) * r.decode_tok_s / 1e9);
  EXPECT_DOUBLE_EQ(r.decode_gflops,
                   2.0 * static_cast<double>(r.weight_params) * r.decode_tok_s / 1e9);
  // stories260K ties its embeddings: the output projection is token_embd, 512 x 64. Prefill
  // computes it for the prompt's last token only; attention: 4 * 5 layers * 64 * (t + 1).
  EXPECT_EQ(r.output_params, 64u * 512);
  const double prefill_flops = 2.0 * (static_cast<double>(r.weight_params) - 64 * 512) * 16 +
                               2.0 * 64 * 512 + 2.0 * 5 * 64 * 16 * 17;
  EXPECT_NEAR(r.prefill_gflops, prefill_flops * r.prefill_tok_s / 16 / 1e9,
              1e-9 * r.prefill_gflops);
  EXPECT_DOUBLE_EQ(r.roofline_gb_s, 10.0);
  EXPECT_DOUBLE_EQ(r.roofline_fraction, r.weight_gb_s / 10.0);
  EXPECT_DOUBLE_EQ(r.peak_gflops, 50.0);
  EXPECT_DOUBLE_EQ(r.peak_fraction, r.prefill_gflops / 50.0);
}

TEST(ModelBench, ChunkedPrefillAndSkippedPhases) {
  auto model = Model::load(test::stories_model());
  ThreadPool pool(1);
  ModelBenchOptions o;
  o.prompt_tokens = 20;
  o.gen_tokens = 0;
  o.ubatch = 8;  // chunks of 8, 8, 4
  o.reps = 1;
  ModelBenchResult r = run_model_bench(*model, o, pool);
  EXPECT_GT(r.prefill_tok_s, 0.0);
  // Three chunks, so three tokens get logits.
  const double prefill_flops = 2.0 * (static_cast<double>(r.weight_params) - 64 * 512) * 20 +
                               3 * 2.0 * 64 * 512 + 2.0 * 5 * 64 * 20 * 21;
  EXPECT_NEAR(r.prefill_gflops, prefill_flops * r.prefill_tok_s / 20 / 1e9,
              1e-9 * r.prefill_gflops);
  EXPECT_TRUE(r.decode_seconds.empty());
  EXPECT_EQ(r.decode_tok_s, 0.0);
  EXPECT_EQ(r.weight_gb_s, 0.0);
  EXPECT_EQ(r.roofline_fraction, 0.0);
  EXPECT_EQ(r.peak_fraction, 0.0);

  o.prompt_tokens = 0;
  o.gen_tokens = 4;
  r = run_model_bench(*model, o, pool);
  EXPECT_TRUE(r.prefill_seconds.empty());
  EXPECT_GT(r.decode_tok_s, 0.0);
}

TEST(ModelBench, RejectsBadOptions) {
  auto model = Model::load(test::stories_model());
  ThreadPool pool(1);
  ModelBenchOptions o;
  o.prompt_tokens = 0;
  o.gen_tokens = 0;
  EXPECT_THROW(run_model_bench(*model, o, pool), Error);
  o.prompt_tokens = 2000;
  o.gen_tokens = 100;  // past the context of 2048
  EXPECT_THROW(run_model_bench(*model, o, pool), Error);
  o.prompt_tokens = 4;
  o.reps = 0;
  EXPECT_THROW(run_model_bench(*model, o, pool), Error);
  o.reps = 1;
  o.kv_dtype = DType::Q8_0;  // the KV cache holds F16 or F32 only
  EXPECT_THROW(run_model_bench(*model, o, pool), Error);
  o.kv_dtype = DType::F32;
  EXPECT_EQ(run_model_bench(*model, o, pool).kv_dtype, DType::F32);
}

}  // namespace
}  // namespace pareto::bench
