#include "ops/rope.h"

#include <cmath>
#include <initializer_list>
#include <numbers>

namespace pareto {

std::vector<float> llama3_rope_freq_factors(int64_t dims, double freq_base, double factor,
                                            double low_freq_factor, double high_freq_factor,
                                            double original_context_length) {
  std::vector<float> factors(static_cast<size_t>(dims / 2));
  const double low_freq_wavelen = original_context_length / low_freq_factor;
  const double high_freq_wavelen = original_context_length / high_freq_factor;
  for (int64_t i = 0; i < dims / 2; ++i) {
    const double freq = std::pow(freq_base, -2.0 * static_cast<double>(i) / dims);
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double f;
    if (wavelen < high_freq_wavelen) {
      f = 1.0;  // high frequencies are left alone
    } else if (wavelen > low_freq_wavelen) {
      f = factor;  // low frequencies are slowed down by the full factor
    } else {       // smooth interpolation in between
      const double smooth = (original_context_length / wavelen - low_freq_factor) /
                            (high_freq_factor - low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    factors[static_cast<size_t>(i)] = static_cast<float>(f);
  }
  return factors;
}

namespace {

// One rotated tensor: [num_tokens, heads, head_dim].
struct RopeTarget {
  float* x;
  int64_t heads;
};

// Rotates every target by the same per-token angles, computed once per token for all of them.
void rotate(std::initializer_list<RopeTarget> targets, const int32_t* positions, int64_t num_tokens,
            int64_t head_dim, const RopeConfig& config) {
  const int64_t half = config.dims / 2;
  // Per-call buffers, kept per thread: no allocation per layer.
  thread_local std::vector<double> inv_freq;
  thread_local std::vector<float> cos_table, sin_table;
  inv_freq.resize(static_cast<size_t>(half));
  cos_table.resize(static_cast<size_t>(half));
  sin_table.resize(static_cast<size_t>(half));
  // The frequencies do not depend on the position: one pow per pair and call, not per token.
  for (int64_t i = 0; i < half; ++i)
    inv_freq[static_cast<size_t>(i)] = std::pow(
        config.freq_base, -2.0 * static_cast<double>(i) / static_cast<double>(config.dims));
  for (int64_t t = 0; t < num_tokens; ++t) {
    const double pos = static_cast<double>(positions[t]) * config.freq_scale;
    for (int64_t i = 0; i < half; ++i) {
      double theta = pos * inv_freq[static_cast<size_t>(i)];
      if (!config.freq_factors.empty()) theta /= config.freq_factors[static_cast<size_t>(i)];
      cos_table[static_cast<size_t>(i)] = static_cast<float>(std::cos(theta));
      sin_table[static_cast<size_t>(i)] = static_cast<float>(std::sin(theta));
    }
    for (const RopeTarget& target : targets) {
      for (int64_t h = 0; h < target.heads; ++h) {
        float* v = target.x + (t * target.heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = config.style == RopeStyle::kNormal ? 2 * i : i;
          const int64_t b = config.style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
          const float c = cos_table[static_cast<size_t>(i)], s = sin_table[static_cast<size_t>(i)];
          const float x0 = v[a], x1 = v[b];
          v[a] = x0 * c - x1 * s;
          v[b] = x0 * s + x1 * c;
        }
      }
    }
  }
}

}  // namespace

void apply_rope(float* x, const int32_t* positions, int64_t num_tokens, int64_t num_heads,
                int64_t head_dim, const RopeConfig& config) {
  rotate({{x, num_heads}}, positions, num_tokens, head_dim, config);
}

void apply_rope_qk(float* q, int64_t num_heads, float* k, int64_t num_kv_heads,
                   const int32_t* positions, int64_t num_tokens, int64_t head_dim,
                   const RopeConfig& config) {
  rotate({{q, num_heads}, {k, num_kv_heads}}, positions, num_tokens, head_dim, config);
}

}  // namespace pareto
