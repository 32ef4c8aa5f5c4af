// The analytical long-context serving model behind `pareto plan`: how many sequences fit in
// memory, what prefill and decode cost, what a context switch costs, and what U users each with
// an L-token context asking for N tokens will see. Pure functions of a ModelShape and a
// HardwareSpec (bench/hardware_spec.h); docs/cost_model.md derives every formula.
//
// Roofline with achieved fractions: every phase takes max(bytes / (bandwidth * bandwidth_fraction),
// FLOPs / (peak * flops_fraction)), so small batches are memory-bound and large ones compute-bound.
#pragma once

#include <cstdint>
#include <string>

#include "bench/hardware_spec.h"

namespace pareto {
class Model;
}

namespace pareto::bench {

struct ModelShape {
  std::string name;
  int64_t num_layers = 0;
  int64_t q_size = 0;   // num_heads * head_dim
  int64_t kv_size = 0;  // num_kv_heads * head_dim
  int64_t context_length = 0;
  double weight_bytes = 0;   // matrices a forward pass reads (Model::weight_bytes())
  double weight_params = 0;  // their elements (bench::weight_parameter_count)
  double output_params = 0;  // of which the output projection's: a prefill computes it once
  std::string compute_dtype = "int8";  // whose peak applies: f32, f16, bf16, or int8 (quantized)
  double kv_elem_bytes = 2;  // the engine's KV cache dtype (F16 by default: --kv-cache-dtype)
  int64_t block_size = 16;   // KV cache block, tokens; a sequence holds whole blocks
};

// Shape of a loaded model. compute_dtype: "f32"/"f16"/"bf16" for float weights, "quantized" for
// quantized ones (the caller maps it with HardwareSpec::quantized_compute).
ModelShape model_shape(const Model& model, double kv_elem_bytes = 2, int64_t block_size = 16);

struct PlanInputs {
  int64_t context_len = 0;   // L: prompt/context tokens per user
  int64_t output_len = 128;  // N: tokens generated per user
  int64_t users = 1;         // U: concurrent users
  int64_t max_num_seqs = 0;  // the engine's limit on running sequences (0: none)
  int64_t replicas = 1;      // engine replicas sharing the machine (each streams its weights)
  // Prompt tokens one forward pass may prefill (the engine's --max-num-batched-tokens): prompts
  // that fit together are prefilled in one step and get their first tokens together. 0: one
  // prompt per step.
  int64_t prefill_token_budget = 2048;
};

struct PlanResult {
  bool exceeds_model_context = false;  // L + N > the model's context length
  // Memory.
  double kv_bytes_per_token = 0;  // 2 (K, V) * num_layers * kv_size * kv_elem_bytes
  double kv_bytes_per_seq = 0;    // whole blocks for L + N tokens
  double kv_memory_bytes = 0;     // (memory - weights) * (1 - reserve_fraction), >= 0
  int64_t max_seqs_memory = 0;    // floor(kv_memory / kv_bytes_per_seq)
  int64_t concurrency = 0;        // min(U, max_seqs_memory, max_num_seqs * replicas)
  int64_t waves = 0;              // ceil(U / concurrency)
  // Rates after the achieved fractions.
  double bandwidth_bytes_s = 0;
  double flops_s = 0;
  // Prefill of one L-token context on one replica.
  double prefill_flops = 0;  // 2 * params * L + 2 * num_layers * q_size * L * (L + 1)
  double prefill_s = 0;
  bool prefill_compute_bound = true;
  // One decode step of `concurrency` sequences at the mean context L + N / 2.
  double decode_step_bytes = 0;  // replicas * weights + B * ctx * kv_bytes_per_token
  double decode_step_flops = 0;  // B * (2 * params + 4 * num_layers * q_size * ctx)
  double decode_step_s = 0;
  bool decode_compute_bound = false;
  // Context switch of one sequence through the host link: swap out + swap in.
  double swap_s = 0;
  double recompute_s = 0;  // the alternative: prefill L + N tokens again
  // Queue (FCFS) serving of U users in waves: the prediction `--validate` checks.
  double wave_s = 0;  // concurrency prefills (over the replicas) + N decode steps
  double total_s = 0;
  double output_tok_s = 0;  // U * N / total_s
  double ttft_s = 0;        // mean over users
  double tpot_s = 0;        // mean (E2E - TTFT) / (N - 1)
  double e2e_s = 0;         // mean
  // Time-sliced serving (U > concurrency only): every user stays active; waves take turns,
  // each turn swapping its contexts in (and the previous wave's out) and decoding N tokens.
  double sliced_round_s = 0;
  double sliced_tpot_s = 0;
  double sliced_output_tok_s = 0;
};

// Throws pareto::Error for non-positive L, N, U or replicas, a model whose weights alone exceed
// the memory, or memory that holds no sequence of L + N tokens (the messages name the sizes).
// L + N beyond the model's context length is computed anyway and flagged.
PlanResult plan(const ModelShape& model, const HardwareSpec& hw, const PlanInputs& in);

}  // namespace pareto::bench
