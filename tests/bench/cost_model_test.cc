#include "bench/cost_model.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace pareto::bench {
namespace {

// Llama-3.2-1B-like shapes with round weights: 16 layers, 32 heads x 64 = 2048 (q), 8 KV heads
// x 64 = 512, 1e9 matmul parameters stored as F16 (2e9 bytes).
ModelShape llama_1b_like() {
  ModelShape m;
  m.name = "llama-1b-like";
  m.num_layers = 16;
  m.q_size = 2048;
  m.kv_size = 512;
  m.context_length = 131072;
  m.weight_bytes = 2e9;
  m.weight_params = 1e9;
  m.compute_dtype = "f16";
  m.kv_elem_bytes = 2;
  m.block_size = 16;
  return m;
}

// Round numbers: 10 GB of memory, 20% reserve, 1000 GB/s and 100 TFLOP/s F16 each achieved at
// 50%, a 25 GB/s host link.
HardwareSpec toy_gpu() {
  HardwareSpec h;
  h.name = "toy";
  h.memory_bytes = 10e9;
  h.reserve_fraction = 0.2;
  h.memory_bandwidth_gb_s = 1000;
  h.peak_tflops = {50, 100, 100, 200};
  h.quantized_compute = "int8";
  h.host_link_gb_s = 25;
  h.bandwidth_fraction = 0.5;
  h.flops_fraction = 0.5;
  return h;
}

void expect_rel(double actual, double expected) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::abs(expected)) << "expected " << expected;
}

TEST(CostModel, MemoryAndConcurrency) {
  PlanInputs in;
  in.context_len = 1008;
  in.output_len = 16;
  in.users = 400;
  const PlanResult r = plan(llama_1b_like(), toy_gpu(), in);
  // 2 (K, V) * 16 layers * 512 * 2 bytes.
  EXPECT_DOUBLE_EQ(r.kv_bytes_per_token, 32768);
  // 1008 + 16 = 1024 tokens = 64 blocks of 16.
  EXPECT_DOUBLE_EQ(r.kv_bytes_per_seq, 1024.0 * 32768);
  // (10e9 - 2e9) * (1 - 0.2) = 6.4e9; 6.4e9 / 33554432 = 190.7.
  EXPECT_DOUBLE_EQ(r.kv_memory_bytes, 6.4e9);
  EXPECT_EQ(r.max_seqs_memory, 190);
  EXPECT_EQ(r.concurrency, 190);
  EXPECT_EQ(r.waves, 3);  // 190 + 190 + 20
}

TEST(CostModel, PrefillDecodeAndSwapTimes) {
  PlanInputs in;
  in.context_len = 1008;
  in.output_len = 16;
  in.users = 400;
  const PlanResult r = plan(llama_1b_like(), toy_gpu(), in);
  EXPECT_DOUBLE_EQ(r.bandwidth_bytes_s, 5e11);
  EXPECT_DOUBLE_EQ(r.flops_s, 5e13);
  // 2 * 1e9 * 1008 + 2 * 16 * 2048 * 1008 * 1009 = 2.016e12 + 66'654'830'592.
  EXPECT_DOUBLE_EQ(r.prefill_flops, 2082654830592.0);
  // Compute-bound: 2.0827e12 / 5e13 = 41.65 ms > weights 2e9 / 5e11 = 4 ms.
  expect_rel(r.prefill_s, 2082654830592.0 / 5e13);
  EXPECT_TRUE(r.prefill_compute_bound);
  // Batch 190 at mean context 1008 + 16 / 2 = 1016:
  //   bytes 2e9 + 190 * 1016 * 32768 = 8'325'534'720 -> 16.65 ms at 5e11
  //   FLOPs 190 * (2e9 + 4 * 16 * 2048 * 1016) = 405'302'138'880 -> 8.1 ms at 5e13: memory-bound.
  EXPECT_DOUBLE_EQ(r.decode_step_bytes, 8325534720.0);
  EXPECT_DOUBLE_EQ(r.decode_step_flops, 405302138880.0);
  expect_rel(r.decode_step_s, 8325534720.0 / 5e11);
  EXPECT_FALSE(r.decode_compute_bound);
  // Out + in of 33'554'432 bytes over 25 GB/s.
  expect_rel(r.swap_s, 2 * 33554432.0 / 25e9);
  // Recompute 1024 tokens: (2e9 * 1024 + 2 * 16 * 2048 * 1024 * 1025) / 5e13.
  expect_rel(r.recompute_s, (2e9 * 1024 + 65536.0 * 1024 * 1025) / 5e13);
}

TEST(CostModel, WavesGiveThroughputAndLatency) {
  PlanInputs in;
  in.context_len = 1008;
  in.output_len = 16;
  in.users = 400;
  in.prefill_token_budget = 0;  // one prompt per prefill step
  const PlanResult r = plan(llama_1b_like(), toy_gpu(), in);
  const double pre = 2082654830592.0 / 5e13;
  const double step190 = 8325534720.0 / 5e11;
  const double step20 = (2e9 + 20 * 1016 * 32768.0) / 5e11;  // memory-bound too
  const double wave190 = 190 * pre + 15 * step190;
  const double wave20 = 20 * pre + 15 * step20;
  expect_rel(r.wave_s, wave190);
  expect_rel(r.total_s, 2 * wave190 + wave20);
  expect_rel(r.output_tok_s, 400 * 16 / (2 * wave190 + wave20));
  // Mean TTFT: each wave's users get their first token halfway through its prefills.
  const double ttft =
      (190 * (95.5 * pre) + 190 * (wave190 + 95.5 * pre) + 20 * (2 * wave190 + 10.5 * pre)) / 400;
  expect_rel(r.ttft_s, ttft);
  const double tpot = (380 * (wave190 - 95.5 * pre) + 20 * (wave20 - 10.5 * pre)) / 15 / 400;
  expect_rel(r.tpot_s, tpot);
  expect_rel(r.e2e_s, (190 * wave190 + 190 * 2 * wave190 + 20 * (2 * wave190 + wave20)) / 400);
  // The same numbers, evaluated: 371.2 tok/s, TTFT 8.50 s, TPOT 267 ms, E2E 12.50 s.
  EXPECT_NEAR(r.output_tok_s, 371.2136, 1e-3);
  EXPECT_NEAR(r.ttft_s, 8.495061, 1e-5);
  EXPECT_NEAR(r.tpot_s, 0.266698, 1e-5);
  EXPECT_NEAR(r.e2e_s, 12.495530, 1e-5);
  // Time-sliced: every turn swaps its wave's contexts, then decodes 16 tokens.
  const double swap = 2 * 33554432.0 / 25e9;
  const double round = 2 * (190 * swap + 16 * step190) + 20 * swap + 16 * step20;
  expect_rel(r.sliced_round_s, round);
  expect_rel(r.sliced_tpot_s, round / 16);
  expect_rel(r.sliced_output_tok_s, 400 * 16 / round);
}

TEST(CostModel, OneWaveHasNoSlicedPrediction) {
  PlanInputs in;
  in.context_len = 1008;
  in.output_len = 16;
  in.users = 10;
  in.prefill_token_budget = 0;  // one prompt per prefill step
  const PlanResult r = plan(llama_1b_like(), toy_gpu(), in);
  EXPECT_EQ(r.concurrency, 10);
  EXPECT_EQ(r.waves, 1);
  EXPECT_EQ(r.sliced_round_s, 0);
  const double pre = 2082654830592.0 / 5e13;
  const double step = (2e9 + 10 * 1016 * 32768.0) / 5e11;
  expect_rel(r.ttft_s, 5.5 * pre);
  expect_rel(r.e2e_s, 10 * pre + 15 * step);
  expect_rel(r.tpot_s, (4.5 * pre + 15 * step) / 15);
}

TEST(CostModel, ComputeBoundDecodeAndReplicas) {
  // A slow-compute machine: 1 TFLOP/s F16 at 50%. Batch 8 decode at context 100 + 4 / 2 = 102:
  //   bytes, 2 replicas: 2 * 2e9 + 8 * 102 * 32768 = 4'026'738'688 -> 8.05 ms
  //   FLOPs 8 * (2e9 + 4 * 16 * 2048 * 102) = 16'106'954'752 -> 32.2 ms: compute-bound.
  HardwareSpec h = toy_gpu();
  h.peak_tflops.f16 = 1;
  PlanInputs in;
  in.context_len = 100;
  in.output_len = 4;
  in.users = 8;
  in.max_num_seqs = 4;
  in.replicas = 2;
  in.prefill_token_budget = 0;  // one prompt per prefill step
  const PlanResult r = plan(llama_1b_like(), h, in);
  EXPECT_EQ(r.concurrency, 8);  // max_num_seqs 4 per replica x 2
  EXPECT_DOUBLE_EQ(r.decode_step_bytes, 4026738688.0);
  EXPECT_DOUBLE_EQ(r.decode_step_flops, 16106954752.0);
  expect_rel(r.decode_step_s, 16106954752.0 / 5e11);
  EXPECT_TRUE(r.decode_compute_bound);
  // One prefill on one replica (half the machine): (2e11 + 65536 * 100 * 101) / 2.5e11.
  const double pre = (2e11 + 65536.0 * 100 * 101) / 2.5e11;
  expect_rel(r.prefill_s, pre);
  // Each replica prefills 4 in turn, then 3 decode steps.
  expect_rel(r.wave_s, 4 * pre + 3 * 16106954752.0 / 5e11);
  expect_rel(r.ttft_s, 2.5 * pre);
}

TEST(CostModel, PromptsWithinTheTokenBudgetShareAPrefillStep) {
  PlanInputs in;
  in.context_len = 128;
  in.output_len = 16;
  in.users = 8;  // 8 x 128 = 1024 prompt tokens: one step of the default 2048 budget
  PlanResult r = plan(llama_1b_like(), toy_gpu(), in);
  const double pre128 = (2e9 * 128 + 65536.0 * 128 * 129) / 5e13;
  expect_rel(r.prefill_s, pre128);
  const double step = (2e9 + 8 * (128 + 8) * 32768.0) / 5e11;
  expect_rel(r.ttft_s, 8 * pre128);  // all first tokens at the end of the one step
  expect_rel(r.e2e_s, 8 * pre128 + 15 * step);
  expect_rel(r.tpot_s, step);
  // 10 prompts of 1008 tokens, budget 2048: users 0-1 finish in step 1 (2048 tokens), 2-3 in
  // step 2 (4096), 4-5 (6144), 6-7 (8192), 8-9 when all 10080 are done: mean 61120 / 10 tokens.
  in.context_len = 1008;
  in.users = 10;
  r = plan(llama_1b_like(), toy_gpu(), in);
  expect_rel(r.ttft_s, 6112.0 / 1008 * (2082654830592.0 / 5e13));
}

TEST(CostModel, MaxNumSeqsCapsConcurrency) {
  PlanInputs in;
  in.context_len = 1008;
  in.output_len = 16;
  in.users = 100;
  in.max_num_seqs = 32;
  const PlanResult r = plan(llama_1b_like(), toy_gpu(), in);
  EXPECT_EQ(r.concurrency, 32);
  EXPECT_EQ(r.waves, 4);
}

TEST(CostModel, QuantizedModelsUseTheHardwareQuantizedPeak) {
  ModelShape m = llama_1b_like();
  m.compute_dtype = "quantized";
  PlanInputs in;
  in.context_len = 16;
  in.output_len = 16;
  EXPECT_DOUBLE_EQ(plan(m, toy_gpu(), in).flops_s, 200e12 * 0.5);  // int8
  HardwareSpec h = toy_gpu();
  h.quantized_compute = "f16";
  EXPECT_DOUBLE_EQ(plan(m, h, in).flops_s, 100e12 * 0.5);
}

TEST(CostModel, ErrorsNameTheProblem) {
  PlanInputs in;
  in.context_len = 1008;
  in.output_len = 16;
  HardwareSpec small = toy_gpu();
  small.memory_bytes = 1e9;
  try {
    plan(llama_1b_like(), small, in);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("do not fit"), std::string::npos) << e.what();
  }
  // Weights fit but not one 1024-token sequence: (2.01e9 - 2e9) * 0.8 = 8 MB < 32 MiB.
  small.memory_bytes = 2.01e9;
  EXPECT_THROW(plan(llama_1b_like(), small, in), Error);
  in.context_len = 131072 - 16;
  EXPECT_FALSE(plan(llama_1b_like(), toy_gpu(), in).exceeds_model_context);
  in.context_len = 131072;  // + 16 output tokens: beyond the context length, computed and flagged
  EXPECT_TRUE(plan(llama_1b_like(), toy_gpu(), in).exceeds_model_context);
  in.context_len = 0;
  EXPECT_THROW(plan(llama_1b_like(), toy_gpu(), in), Error);
  in.context_len = 8;
  in.users = 0;
  EXPECT_THROW(plan(llama_1b_like(), toy_gpu(), in), Error);
  in.users = 1;
  HardwareSpec no_f16 = toy_gpu();
  no_f16.peak_tflops.f16 = 0;
  EXPECT_THROW(plan(llama_1b_like(), no_f16, in), Error);
}

}  // namespace
}  // namespace pareto::bench
