// Rotary position embeddings (RoPE).
#pragma once

#include <cstdint>
#include <vector>

namespace pareto {

enum class RopeStyle {
  kNormal,  // rotate adjacent pairs (x[2i], x[2i+1]): Llama as stored in GGUF
  kNeox,    // rotate halves (x[i], x[i + dims/2]): Qwen2, GPT-NeoX
};

struct RopeConfig {
  RopeStyle style = RopeStyle::kNormal;
  int64_t dims = 0;  // rotated dimensions per head (<= head_dim); the rest pass through
  double freq_base = 10000.0;
  double freq_scale = 1.0;  // linear scaling: positions are multiplied by this (1 / factor)
  // Per-frequency divisors (dims / 2 of them), e.g. Llama 3 long-context scaling; empty = none.
  std::vector<float> freq_factors;
};

// Llama 3.1-style frequency factors ("llama3" rope scaling), dims / 2 values.
std::vector<float> llama3_rope_freq_factors(int64_t dims, double freq_base, double factor,
                                            double low_freq_factor, double high_freq_factor,
                                            double original_context_length);

// Rotates x in place. x: [num_tokens, num_heads, head_dim]; positions: [num_tokens].
void apply_rope(float* x, const int32_t* positions, int64_t num_tokens, int64_t num_heads,
                int64_t head_dim, const RopeConfig& config);

// apply_rope on q [num_tokens, num_heads, head_dim] and k [num_tokens, num_kv_heads, head_dim]
// with one sin/cos table per token for both (the same bits as two apply_rope calls).
void apply_rope_qk(float* q, int64_t num_heads, float* k, int64_t num_kv_heads,
                   const int32_t* positions, int64_t num_tokens, int64_t head_dim,
                   const RopeConfig& config);

}  // namespace pareto
