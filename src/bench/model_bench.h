// Prefill and decode speed of one model on the CPU (`pareto bench model`), in the spirit of
// llama-bench: each rep runs a prompt of `prompt_tokens` tokens (one forward pass, or chunks of
// `ubatch` tokens) from an empty cache, then decodes `gen_tokens` tokens one at a time (batch
// 1) through SingleSequenceRunner. Token ids are fixed pseudo-random ids (speed does not depend
// on them) and decode feeds fixed ids rather than sampled ones, so sampling is not timed.
//
// Derived figures (decode is memory-bound: each token streams every weight once):
//   weight_gb_s    = Model::weight_bytes() * decode tok/s / 1e9
//   decode_gflops  = 2 * weight_params * decode tok/s / 1e9 (matmul FLOPs; attention excluded)
//   prefill_gflops = (2 * (weight_params - output_params) * p + 2 * output_params * chunks +
//                    attention FLOPs) / prefill time / 1e9: the output projection runs only for
//                    the last token of each chunk (no other logits are wanted), and attention
//                    over positions 0..t costs 4 * num_layers * q_size * (t + 1)
//   roofline_fraction = weight_gb_s / roofline_gb_s when a roofline bandwidth is given (the
//                    measured read bandwidth of bench/memory_bandwidth.h: weights are only read)
//   peak_fraction  = prefill_gflops / peak_gflops when a compute peak is given (the measured
//                    register-only rate of bench/compute_peak.h for the op the model's
//                    matmuls run: F32 FMA for float weights, the int8 dot for quantized ones)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "model/model.h"

namespace pareto::bench {

struct ModelBenchOptions {
  int64_t prompt_tokens = 512;  // p; 0 skips prefill
  int64_t gen_tokens = 128;     // n; 0 skips decode
  int64_t ubatch = 0;           // prefill chunk size; 0: the whole prompt in one pass
  int reps = 3;
  double roofline_gb_s = 0;  // 0: no roofline comparison
  double peak_gflops = 0;    // 0: no compute-peak comparison
  // The KV cache's element type: F16 as the engine's default (and llama-bench's); F32 doubles
  // the bytes attention reads per decoded token.
  DType kv_dtype = DType::F16;
};

struct ModelBenchResult {
  std::string model;  // general.name, or the file name
  int threads = 0;
  int64_t prompt_tokens = 0;
  int64_t gen_tokens = 0;
  int64_t ubatch = 0;
  int reps = 0;
  DType kv_dtype = DType::F16;
  uint64_t weight_bytes = 0;            // Model::weight_bytes()
  uint64_t weight_params = 0;           // elements of the same matrices
  uint64_t output_params = 0;           // of which the output projection's (vocab x hidden)
  std::vector<double> prefill_seconds;  // per rep (empty when p == 0)
  std::vector<double> decode_seconds;   // per rep (empty when n == 0)
  double prefill_tok_s = 0;             // median over reps
  double decode_tok_s = 0;              // median over reps
  double weight_gb_s = 0;
  double decode_gflops = 0;
  double prefill_gflops = 0;
  double roofline_gb_s = 0;
  double roofline_fraction = 0;  // 0 when no roofline was given
  double peak_gflops = 0;
  double peak_fraction = 0;  // 0 when no peak was given
};

// Called before each timed phase: (rep index, "prefill" or "decode").
using ModelBenchProgress = std::function<void(int, const char*)>;

// Elements of the matrices Model::weight_bytes() counts: every 2-D tensor except token_embd
// (which counts only when tied, as the output projection). Biases and norms are left out.
uint64_t weight_parameter_count(const Model& model);
// Elements of the output projection: output.weight, or token_embd.weight when tied.
uint64_t output_parameter_count(const Model& model);

// Runs the benchmark. Throws pareto::Error when p + n is 0, p + n exceeds the model's context
// length, reps < 1 or ubatch < 0.
ModelBenchResult run_model_bench(Model& model, const ModelBenchOptions& options, ThreadPool& pool,
                                 const ModelBenchProgress& progress = {});

}  // namespace pareto::bench
