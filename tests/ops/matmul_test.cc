#include "ops/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "ops/matmul_isa.h"
#include "support/quant_types.h"
#include "support/test_paths.h"
#include "weights/dequantize.h"
#include "weights/gguf_file.h"
#include "weights/quantize.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

using test::kAllTypes;
using test::supported_isas;

std::vector<float> normal_data(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  return x;
}

// A random [n, k] weight matrix stored as t (storage owned by the struct).
struct TestMatrix {
  std::vector<uint8_t> bytes;
  WeightMatrix w;

  TestMatrix(DType t, int64_t k, int64_t n, std::mt19937& rng) {
    const auto values = normal_data(n * k, rng);
    bytes.resize(row_bytes(t, k) * static_cast<size_t>(n) + 1);
    for (int64_t r = 0; r < n; ++r)
      quantize_row(t, values.data() + r * k, bytes.data() + r * row_bytes(t, k), k);
    w = {t, k, n, bytes.data()};
  }

  // The same matrix dequantized to F32 (by the reference decoder).
  std::vector<float> dequantized() const {
    std::vector<float> out(static_cast<size_t>(w.out_features * w.in_features));
    for (int64_t r = 0; r < w.out_features; ++r)
      dequantize_row_ref(w.type, w.row(r), out.data() + r * w.in_features, w.in_features);
    return out;
  }
};

// Does isa multiply weights of type t with int8-quantized activations, and in blocks of how
// many values? (0: F32 activations.) See ops/matmul_isa.h.
int64_t act_block(SimdIsa isa, DType t) {
  if (isa == SimdIsa::kScalar) return 0;
  if (t == DType::Q8_0 || t == DType::Q4_0) return 32;
  if (t == DType::Q4_K || t == DType::Q6_K) return 256;
  return 0;
}

// Tolerance against the double reference, summed from two documented bounds:
// - float rounding: each output accumulates in 8 or 16 lanes, each lane summing at most K/8
//   terms, so |error| <= (K/8 + 8) * 2^-24 * sum_k |x_k w_k| (the 8 covers the per-block scale
//   products and the final reduction); 4x that is allowed. `sequential`: one chain of K terms
//   per output (packed F16), K in place of K/8;
// - int8 activations (act_block > 0): x_k is replaced by d_b * q_k with d_b = max_b|x| / 127 and
//   |x_k - d_b q_k| <= d_b / 2, so |error| <= sum_b (d_b / 2) * sum_{k in b} |w_k|; 1.01x that is
//   allowed. On N(0, 1) data this is ~1e-2 of sum_k |x_k w_k|.
void expect_close_to_ref(SimdIsa isa, const WeightMatrix& w, const std::vector<float>& x,
                         int64_t tokens, const std::vector<float>& got,
                         const std::vector<float>& want, const std::string& what,
                         bool sequential = false) {
  const int64_t k = w.in_features, n = w.out_features;
  const int64_t block = act_block(isa, w.type);
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    dequantize_row_ref(w.type, w.row(r), row.data(), k);
    for (int64_t t = 0; t < tokens; ++t) {
      const float* xt = x.data() + t * k;
      double abs_sum = 0, quant_err = 0;
      for (int64_t i = 0; i < k; ++i) abs_sum += std::fabs(xt[i] * row[i]);
      for (int64_t b0 = 0; block > 0 && b0 < k; b0 += block) {
        double amax = 0, wsum = 0;
        for (int64_t i = b0; i < b0 + block; ++i) {
          amax = std::max(amax, std::fabs(static_cast<double>(xt[i])));
          wsum += std::fabs(row[i]);
        }
        quant_err += amax / 127 / 2 * wsum;
      }
      const double terms = sequential ? static_cast<double>(k) : static_cast<double>(k) / 8;
      const double tol = 4.0 * (terms + 8) * std::ldexp(1.0, -24) * abs_sum + 1.01 * quant_err;
      ASSERT_NEAR(got[t * n + r], want[t * n + r], tol) << what << " token " << t << " row " << r;
    }
  }
}

std::vector<float> run(SimdIsa isa, const WeightMatrix& w, const std::vector<float>& x,
                       int64_t tokens, int threads) {
  ThreadPool pool(threads);
  std::vector<float> y(static_cast<size_t>(tokens * w.out_features), NAN);
  matmul_isa(isa, w, x.data(), tokens, y.data(), pool);
  return y;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Matmul, EveryTypeAndIsaMatchesReference) {
  std::mt19937 rng(42);
  for (DType t : kAllTypes) {
    const int64_t block = traits(t).block_elems;
    std::vector<int64_t> ks = {256, 768};
    if (block == 1) ks = {1, 5, 32, 33, 47, 100, 256};
    if (block == 32) ks = {32, 64, 96, 544};
    for (int64_t k : ks) {
      // AVX-512 Q8_0/Q4_0 take rows in groups of 16: partial, whole plus one, whole plus half.
      for (int64_t n : {1, 3, 17, 40}) {
        const TestMatrix m(t, k, n, rng);
        for (int64_t tokens : {1, 2, 7, 37}) {
          const auto x = normal_data(tokens * k, rng);
          std::vector<float> want(static_cast<size_t>(tokens * n));
          matmul_ref(m.w, x.data(), tokens, want.data());
          for (SimdIsa isa : supported_isas()) {
            const std::string what = std::string(dtype_name(t)) + " " + simd_isa_name(isa) +
                                     " K=" + std::to_string(k) + " N=" + std::to_string(n) +
                                     " T=" + std::to_string(tokens);
            const auto got = run(isa, m.w, x, tokens, 1);
            expect_close_to_ref(isa, m.w, x, tokens, got, want, what);
            // Splitting rows across threads must not change a single bit.
            EXPECT_TRUE(same_bits(got, run(isa, m.w, x, tokens, 2))) << what;
          }
          ThreadPool pool(2);
          std::vector<float> got(static_cast<size_t>(tokens * n));
          matmul(m.w, x.data(), tokens, got.data(), pool);
          expect_close_to_ref(active_simd_isa(), m.w, x, tokens, got, want, "matmul");
        }
      }
    }
  }
}

TEST(Matmul, QuantizedMatchesF32OfItsDequantizedCopy) {
  std::mt19937 rng(43);
  ThreadPool pool(2);
  const int64_t k = 512, n = 19, tokens = 5;
  for (DType t : kAllTypes) {
    const TestMatrix m(t, k, n, rng);
    const auto w32 = m.dequantized();
    const WeightMatrix f32{DType::F32, k, n, w32.data()};
    const auto x = normal_data(tokens * k, rng);
    std::vector<float> want(static_cast<size_t>(tokens * n));
    matmul_ref(m.w, x.data(), tokens, want.data());
    for (SimdIsa isa : supported_isas()) {
      const std::string what = std::string(dtype_name(t)) + " " + simd_isa_name(isa);
      const auto y_q = run(isa, m.w, x, tokens, 2);
      const auto y_f = run(isa, f32, x, tokens, 2);
      expect_close_to_ref(isa, m.w, x, tokens, y_q, want, what);
      expect_close_to_ref(isa, m.w, x, tokens, y_f, want, what + " as f32");
      // The scalar level dequantizes and runs the same F32 dot on the same floats.
      if (isa == SimdIsa::kScalar) {
        EXPECT_TRUE(same_bits(y_q, y_f)) << what;
      }
    }
  }
}

// Larger shapes: several weight panels per thread, row tiles split unevenly across threads.
TEST(Matmul, ThreadCountNeverChangesResults) {
  std::mt19937 rng(44);
  for (DType t : {DType::Q4_K, DType::Q8_0, DType::F32, DType::F16}) {
    const int64_t k = 4096, n = 150, tokens = 3;
    const TestMatrix m(t, k, n, rng);
    const auto x = normal_data(tokens * k, rng);
    std::vector<float> want(static_cast<size_t>(tokens * n));
    matmul_ref(m.w, x.data(), tokens, want.data());
    for (SimdIsa isa : supported_isas()) {
      const auto one = run(isa, m.w, x, tokens, 1);
      expect_close_to_ref(isa, m.w, x, tokens, one, want, simd_isa_name(isa));
      for (int threads : {2, 3, 4})
        EXPECT_TRUE(same_bits(one, run(isa, m.w, x, tokens, threads)))
            << dtype_name(t) << " " << simd_isa_name(isa) << " threads=" << threads;
    }
  }
}

TEST(Matmul, EmptyShapes) {
  ThreadPool pool(2);
  const std::vector<float> w(64, 1.0f), x(64, 1.0f);
  std::vector<float> y(8, NAN);
  matmul({DType::F32, 32, 2, w.data()}, x.data(), 0, y.data(), pool);  // no tokens
  EXPECT_TRUE(std::isnan(y[0]));
  matmul({DType::F32, 0, 2, w.data()}, x.data(), 2, y.data(), pool);  // K = 0: zeros
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[3], 0.0f);
  matmul({DType::F32, 32, 0, w.data()}, x.data(), 2, y.data(), pool);  // N = 0
  matmul_ref({DType::F32, 32, 2, w.data()}, x.data(), 2, y.data());
  EXPECT_EQ(y[0], 32.0f);
}

TEST(Matmul, RejectsBadArguments) {
  ThreadPool pool(1);
  std::vector<uint8_t> w(4096);
  std::vector<float> x(512), y(64);
  EXPECT_THROW(matmul({DType::Q4_0, 48, 2, w.data()}, x.data(), 1, y.data(), pool), Error);
  EXPECT_THROW(matmul({DType::Q4_K, 128, 2, w.data()}, x.data(), 1, y.data(), pool), Error);
  EXPECT_THROW(matmul({DType::Q2_K, 256, 2, w.data()}, x.data(), 1, y.data(), pool), Error);
  EXPECT_THROW(matmul_ref({DType::Q8_0, 33, 2, w.data()}, x.data(), 1, y.data()), Error);
  EXPECT_THROW(matmul({DType::F32, 32, 2, nullptr}, x.data(), 1, y.data(), pool), Error);
}

// pack_weights changes the layout, never a result: packed Q8_0/Q4_0 matrices give the unpacked
// matrix's bits for every batch size, alone or in a matmul_multi call beside a matrix whose row
// count is not a multiple of 16, on 1 and 2 threads. Packed F16/BF16
// (ops/matmul_half_kernels_inl.h) and Q4_K/Q6_K (ops/matmul_q4k/q6k_kernels_inl.h) sum each output
// in another order than the file layout's kernels: they must match the reference, and give each
// token in any batch, on any thread count, its bits alone.
TEST(Matmul, PackedWeightsGiveTheUnpackedBits) {
  std::mt19937 rng(46);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::F16, DType::BF16}) {
    const bool half = t == DType::F16 || t == DType::BF16;
    const bool k_quant = t == DType::Q4_K || t == DType::Q6_K;
    const bool own_order = half || k_quant;
    // F16/BF16 also with K not a multiple of the 8 elements their transposition takes at a time.
    const std::vector<int64_t> ks = half      ? std::vector<int64_t>{13, 96, 300}
                                    : k_quant ? std::vector<int64_t>{256, 512}
                                              : std::vector<int64_t>{32, 96, 576};
    for (int64_t k : ks) {
      // F16/BF16 pack units of 32 rows.
      const std::vector<int64_t> ns =
          half ? std::vector<int64_t>{32, 64, 224} : std::vector<int64_t>{16, 48, 208};
      for (int64_t n : ns) {
        TestMatrix plain(t, k, n, rng);
        TestMatrix packed = plain;
        packed.w.data = packed.bytes.data();
        if (!can_pack_weights(packed.w)) GTEST_SKIP() << "no AVX-512 VNNI";
        pack_weights(packed.w, packed.bytes.data());
        ASSERT_TRUE(packed.w.packed);
        EXPECT_NE(packed.bytes, plain.bytes);
        const TestMatrix odd(t, k, 17, rng);
        for (int64_t tokens : {1, 2, 8, 9, 13, 37}) {
          const std::string what = std::string(dtype_name(t)) + " K=" + std::to_string(k) +
                                   " N=" + std::to_string(n) + " T=" + std::to_string(tokens);
          const auto x = normal_data(tokens * k, rng);
          for (int threads : {1, 2}) {
            ThreadPool pool(threads);
            std::vector<float> want(static_cast<size_t>(tokens * n)), got(want.size(), NAN);
            std::vector<float> odd_want(static_cast<size_t>(tokens * 17)), odd_got(odd_want.size());
            if (own_order) {
              std::vector<float> ref(want.size());
              matmul_ref(plain.w, x.data(), tokens, ref.data());
              ThreadPool one(1);
              for (int64_t i = 0; i < tokens; ++i)
                matmul(packed.w, &x[i * k], 1, &want[i * n], one);
              expect_close_to_ref(active_simd_isa(), plain.w, x, tokens, want, ref, what, true);
            } else {
              matmul(plain.w, x.data(), tokens, want.data(), pool);
            }
            matmul(odd.w, x.data(), tokens, odd_want.data(), pool);
            matmul(packed.w, x.data(), tokens, got.data(), pool);
            EXPECT_TRUE(same_bits(got, want)) << what << " threads=" << threads;
            std::fill(got.begin(), got.end(), NAN);
            const MatmulTarget targets[2] = {{odd.w, odd_got.data()}, {packed.w, got.data()}};
            matmul_multi(targets, 2, x.data(), tokens, pool);
            EXPECT_TRUE(same_bits(got, want)) << what << " multi, threads=" << threads;
            EXPECT_TRUE(same_bits(odd_got, odd_want)) << what << " multi, threads=" << threads;
          }
        }
        // Only the AVX-512 VNNI kernels read the packed layout.
        ThreadPool pool(1);
        std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
        EXPECT_THROW(matmul_isa(SimdIsa::kAvx2, packed.w, x.data(), 1, y.data(), pool), Error);
        EXPECT_THROW(matmul_ref(packed.w, x.data(), 1, y.data()), Error);
        EXPECT_THROW(pack_weights(packed.w, packed.bytes.data()), Error);
      }
    }
  }
}

TEST(Matmul, PackWeightsRefusesWhatItCannotPack) {
  std::mt19937 rng(47);
  TestMatrix q8(DType::Q8_0, 64, 20, rng);  // 20 rows: not whole groups of 16
  EXPECT_FALSE(can_pack_weights(q8.w));
  EXPECT_THROW(pack_weights(q8.w, q8.bytes.data()), Error);
  TestMatrix f32(DType::F32, 64, 32, rng);
  EXPECT_FALSE(can_pack_weights(f32.w));
  TestMatrix f16(DType::F16, 64, 48, rng);  // 48 rows: not whole units of 32
  EXPECT_FALSE(can_pack_weights(f16.w));
  TestMatrix bf16(DType::BF16, 64, 16, rng);
  EXPECT_FALSE(can_pack_weights(bf16.w));
  TestMatrix q4(DType::Q4_0, 64, 32, rng);
  if (can_pack_weights(q4.w)) {
    std::vector<uint8_t> other = q4.bytes;
    EXPECT_THROW(pack_weights(q4.w, other.data()), Error);  // not the matrix's own bytes
  }
}

// Real weight matrices from llama.cpp files, including output.weight (512 x 256) and
// ffn_down (K = 768).
TEST(Matmul, ReferenceModelMatrices) {
  std::mt19937 rng(45);
  ThreadPool pool(2);
  const std::string dir = test::reference_dir() + "/synthetic/";
  for (const char* name : {"tiny-llama-Q4_K.gguf", "tiny-llama-Q4_0.gguf"}) {
    const GgufFile file = GgufFile::open(dir + name);
    for (const char* tensor : {"output.weight", "blk.0.ffn_down.weight", "blk.1.attn_v.weight"}) {
      SCOPED_TRACE(std::string(name) + " " + tensor);
      const GgufTensorInfo* info = file.find_tensor(tensor);
      ASSERT_NE(info, nullptr);
      ASSERT_EQ(info->shape.size(), 2u);
      const WeightMatrix w{info->type, info->shape[0], info->shape[1], info->data};
      const int64_t tokens = 3;
      const auto x = normal_data(tokens * w.in_features, rng);
      std::vector<float> got(static_cast<size_t>(tokens * w.out_features)), want(got.size());
      matmul(w, x.data(), tokens, got.data(), pool);
      matmul_ref(w, x.data(), tokens, want.data());
      expect_close_to_ref(active_simd_isa(), w, x, tokens, got, want, dtype_name(w.type).data());
    }
  }
}

}  // namespace
}  // namespace pareto
