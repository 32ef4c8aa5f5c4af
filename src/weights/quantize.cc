#include "weights/quantize.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "base/half.h"
#include "weights/dequantize.h"
#include "weights/quant_blocks.h"

namespace pareto {
namespace {

int nearest_int(float x) {
  return static_cast<int>(std::lrintf(x));
}

// Largest-magnitude value of x[0..n), with its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// ---------------------------------------------------------------------------------------------
// Legacy types: one round-to-nearest pass with the scale taken from the block's extremes, as the
// reference ggml quantizers do, so our files match theirs.

void quantize_q8_0(const float* x, BlockQ8_0* b, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

// Q4_0 / Q5_0: the largest-magnitude value maps to -2^(bits-1) exactly, so the full negative
// range is used on whichever side that value lies.
template <int kBits>
void quantize_symmetric(const float* x, float* d_out, uint8_t* q) {
  constexpr int kHalf = 1 << (kBits - 1);
  const float d = signed_absmax(x, kQK) / -static_cast<float>(kHalf);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = d;
  for (int j = 0; j < kQK; ++j) {
    // The sum is > 0, so truncation rounds half up.
    const int v = static_cast<int8_t>(x[j] * id + (static_cast<float>(kHalf) + 0.5f));
    q[j] = static_cast<uint8_t>(std::clamp(v, 0, 2 * kHalf - 1));
  }
}

// Q4_1 / Q5_1: min and max of the block map to 0 and 2^bits - 1.
template <int kBits>
void quantize_minmax(const float* x, float* d_out, float* m_out, uint8_t* q) {
  constexpr int kMax = (1 << kBits) - 1;
  float min = x[0], max = x[0];
  for (int j = 1; j < kQK; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
  const float d = (max - min) / static_cast<float>(kMax);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = d;
  *m_out = min;
  for (int j = 0; j < kQK; ++j) {
    const int v = static_cast<int>((x[j] - min) * id + 0.5f);
    q[j] = static_cast<uint8_t>(std::clamp(v, 0, kMax));
  }
}

void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j)
    qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + kQK / 2] & 0xF) << 4));
}

void pack_fifth_bits(const uint8_t* q, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kQK; ++j) bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(bits >> (8 * k));
}

void quantize_q4_0(const float* x, BlockQ4_0* b, int64_t num_blocks) {
  uint8_t q[kQK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQK) {
    float d;
    quantize_symmetric<4>(x, &d, q);
    b[i].d = f32_to_fp16(d);
    pack_nibbles(q, b[i].qs);
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* b, int64_t num_blocks) {
  uint8_t q[kQK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQK) {
    float d;
    quantize_symmetric<5>(x, &d, q);
    b[i].d = f32_to_fp16(d);
    pack_nibbles(q, b[i].qs);
    pack_fifth_bits(q, b[i].qh);
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* b, int64_t num_blocks) {
  uint8_t q[kQK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQK) {
    float d, m;
    quantize_minmax<4>(x, &d, &m, q);
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(m);
    pack_nibbles(q, b[i].qs);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* b, int64_t num_blocks) {
  uint8_t q[kQK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQK) {
    float d, m;
    quantize_minmax<5>(x, &d, &m, q);
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(m);
    pack_nibbles(q, b[i].qs);
    pack_fifth_bits(q, b[i].qh);
  }
}

// ---------------------------------------------------------------------------------------------
// K-quants. Each sub-block gets a least-squares fit chosen among several candidate grids (the
// extremes-based grid clips nothing, but a slightly finer one that clips the outliers usually
// has lower total error); the sub-block scales are then quantized against the super-block's
// scale and the elements re-quantized against the scales actually stored.

constexpr int kSearchSteps = 8;          // candidate grids on each side of the extremes-based one
constexpr float kSearchSpacing = 0.15f;  // in units of the grid's largest level

// Sums over a sub-block quantized against the grid x ~ a * q + b.
struct GridFit {
  int sq = 0, sqq = 0;
  float sx = 0, sqx = 0;
  float err = 0;  // squared error of the grid itself
};

GridFit quantize_grid(const float* x, int n, int q_max, float a, float b) {
  const float ia = 1.0f / a;
  GridFit g;
  for (int j = 0; j < n; ++j) {
    const int q = std::clamp(nearest_int((x[j] - b) * ia), 0, q_max);
    g.sq += q;
    g.sqq += q * q;
    g.sx += x[j];
    g.sqx += static_cast<float>(q) * x[j];
    const float diff = a * static_cast<float>(q) + b - x[j];
    g.err += diff * diff;
  }
  return g;
}

// Least-squares (a, b) for the q behind g, with b <= 0. False when degenerate.
bool refit_grid(const GridFit& g, int n, float* a, float* b) {
  const double det = static_cast<double>(n) * g.sqq - static_cast<double>(g.sq) * g.sq;
  if (det <= 0) return false;
  double fa = (n * static_cast<double>(g.sqx) - g.sq * static_cast<double>(g.sx)) / det;
  double fb = (g.sqq * static_cast<double>(g.sx) - g.sq * static_cast<double>(g.sqx)) / det;
  if (fb > 0) {
    fb = 0;
    fa = static_cast<double>(g.sqx) / g.sqq;
  }
  if (!(fa > 0)) return false;
  *a = static_cast<float>(fa);
  *b = static_cast<float>(fb);
  return true;
}

// Fits x[0..n) ~ scale * q - min_neg with q in [0, q_max], scale >= 0, min_neg >= 0 (the offset
// is subtracted, so only blocks reaching below zero use it).
void fit_scale_min(const float* x, int n, int q_max, float* scale, float* min_neg) {
  float lo = 0.0f, hi = x[0];
  for (int j = 0; j < n; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  *scale = 0.0f;
  *min_neg = -lo;
  if (!(hi > lo)) return;
  float best_err = INFINITY;
  for (int step = -kSearchSteps; step <= kSearchSteps; ++step) {
    float a = (hi - lo) / (static_cast<float>(q_max) + kSearchSpacing * static_cast<float>(step));
    float b = lo;
    GridFit g = quantize_grid(x, n, q_max, a, b);
    for (int refit = 0;; ++refit) {
      if (g.err < best_err) {
        best_err = g.err;
        *scale = a;
        *min_neg = -b;
      }
      if (refit == 2 || !refit_grid(g, n, &a, &b)) break;
      g = quantize_grid(x, n, q_max, a, b);
    }
  }
}

// Fits x[0..n) ~ scale * q with q in [-32, 31]; scale may be negative so the asymmetric range
// goes to whichever side has the largest magnitude.
float fit_scale_symmetric(const float* x, int n) {
  const float max = signed_absmax(x, n);
  if (max == 0.0f) return 0.0f;
  float best_scale = 0.0f;
  double best_gain = -1.0;  // (sum q x)^2 / sum q^2: larger means smaller squared error
  for (int step = -kSearchSteps; step <= kSearchSteps; ++step) {
    const float iscale = -(32.0f + kSearchSpacing * static_cast<float>(step)) / max;
    double sqq = 0, sqx = 0;
    for (int j = 0; j < n; ++j) {
      const int q = std::clamp(nearest_int(iscale * x[j]), -32, 31);
      sqq += static_cast<double>(q) * q;
      sqx += static_cast<double>(q) * x[j];
    }
    if (sqq <= 0) continue;
    const double gain = sqx * sqx / sqq;
    if (gain > best_gain) {
      best_gain = gain;
      best_scale = static_cast<float>(sqx / sqq);
    }
  }
  return best_scale;
}

// Q4_K / Q5_K share everything but the width of q and where its fifth bit goes.
template <int kBits>
void quantize_k_4or5(const float* x, uint16_t* d_half, uint16_t* dmin_half, uint8_t* scales,
                     uint8_t* q /* [256] */) {
  constexpr int kMax = (1 << kBits) - 1;
  float sub_scale[8], sub_min[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int s = 0; s < 8; ++s) {
    fit_scale_min(x + 32 * s, 32, kMax, &sub_scale[s], &sub_min[s]);
    max_scale = std::max(max_scale, sub_scale[s]);
    max_min = std::max(max_min, sub_min[s]);
  }
  const float d = max_scale / 63.0f;
  const float dmin = max_min / 63.0f;
  *d_half = f32_to_fp16(d);
  *dmin_half = f32_to_fp16(dmin);
  const float d_stored = fp16_to_f32(*d_half);
  const float dmin_stored = fp16_to_f32(*dmin_half);
  uint8_t sc[8], mn[8];
  for (int s = 0; s < 8; ++s) {
    sc[s] = static_cast<uint8_t>(
        d_stored > 0 ? std::clamp(nearest_int(sub_scale[s] / d_stored), 0, 63) : 0);
    mn[s] = static_cast<uint8_t>(
        dmin_stored > 0 ? std::clamp(nearest_int(sub_min[s] / dmin_stored), 0, 63) : 0);
    const float ds = d_stored * static_cast<float>(sc[s]);
    const float dm = dmin_stored * static_cast<float>(mn[s]);
    for (int l = 0; l < 32; ++l) {
      const int v = ds > 0 ? nearest_int((x[32 * s + l] + dm) / ds) : 0;
      q[32 * s + l] = static_cast<uint8_t>(std::clamp(v, 0, kMax));
    }
  }
  pack_k_scale_min(sc, mn, scales);
}

void pack_k_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l)
      qs[32 * j + l] =
          static_cast<uint8_t>((q[64 * j + l] & 0xF) | ((q[64 * j + 32 + l] & 0xF) << 4));
}

void quantize_q4_k(const float* x, BlockQ4_K* b, int64_t num_blocks) {
  uint8_t q[kQKK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQKK) {
    quantize_k_4or5<4>(x, &b[i].d, &b[i].dmin, b[i].scales, q);
    pack_k_nibbles(q, b[i].qs);
  }
}

void quantize_q5_k(const float* x, BlockQ5_K* b, int64_t num_blocks) {
  uint8_t q[kQKK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQKK) {
    quantize_k_4or5<5>(x, &b[i].d, &b[i].dmin, b[i].scales, q);
    pack_k_nibbles(q, b[i].qs);
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int s = 0; s < 8; ++s)
      for (int l = 0; l < 32; ++l)
        b[i].qh[l] = static_cast<uint8_t>(b[i].qh[l] | ((q[32 * s + l] >> 4) << s));
  }
}

void quantize_q6_k(const float* x, BlockQ6_K* b, int64_t num_blocks) {
  uint8_t q[kQKK];
  for (int64_t i = 0; i < num_blocks; ++i, x += kQKK) {
    float sub_scale[16];
    float max_scale = 0.0f;  // signed: the largest-magnitude scale maps to -128
    for (int s = 0; s < 16; ++s) {
      sub_scale[s] = fit_scale_symmetric(x + 16 * s, 16);
      if (std::fabs(sub_scale[s]) > std::fabs(max_scale)) max_scale = sub_scale[s];
    }
    const float d = max_scale / -128.0f;
    b[i].d = f32_to_fp16(d);
    const float d_stored = fp16_to_f32(b[i].d);
    for (int s = 0; s < 16; ++s) {
      const int sc =
          d_stored != 0 ? std::clamp(nearest_int(sub_scale[s] / d_stored), -128, 127) : 0;
      b[i].scales[s] = static_cast<int8_t>(sc);
      const float ds = d_stored * static_cast<float>(sc);
      for (int l = 0; l < 16; ++l) {
        const int v = ds != 0 ? std::clamp(nearest_int(x[16 * s + l] / ds), -32, 31) : 0;
        q[16 * s + l] = static_cast<uint8_t>(v + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b[i].ql[64 * h + l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
        b[i].ql[64 * h + l + 32] =
            static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
        b[i].qh[32 * h + l] =
            static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) |
                                 ((qq[l + 64] >> 4) << 4) | ((qq[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace

bool can_quantize(DType t) {
  // Every type Pareto can read it can also write.
  return can_dequantize(t);
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  if (!can_quantize(t)) fail("quantize: unsupported type {}", dtype_name(t));
  const int64_t block = traits(t).block_elems;
  if (n < 0 || n % block != 0)
    fail("quantize: row of {} elements is not a multiple of {}'s block of {}", n, dtype_name(t),
         block);
  const int64_t num_blocks = n / block;
  switch (t) {
    case DType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = f32_to_fp16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q4_0:
      return quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), num_blocks);
    case DType::Q4_1:
      return quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), num_blocks);
    case DType::Q5_0:
      return quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), num_blocks);
    case DType::Q5_1:
      return quantize_q5_1(src, static_cast<BlockQ5_1*>(dst), num_blocks);
    case DType::Q8_0:
      return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), num_blocks);
    case DType::Q4_K:
      return quantize_q4_k(src, static_cast<BlockQ4_K*>(dst), num_blocks);
    case DType::Q5_K:
      return quantize_q5_k(src, static_cast<BlockQ5_K*>(dst), num_blocks);
    case DType::Q6_K:
      return quantize_q6_k(src, static_cast<BlockQ6_K*>(dst), num_blocks);
    default:
      fail("quantize: unsupported type {}", dtype_name(t));
  }
}

}  // namespace pareto
