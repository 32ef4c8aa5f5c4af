#include "weights/dequantize.h"
#include "support/quant_types.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/half.h"
#include "support/test_paths.h"
#include "weights/gguf_file.h"
#include "weights/quant_blocks.h"
#include "weights/quantize.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

using test::kAllTypes;
using test::supported_isas;

std::string label(DType t, SimdIsa isa, int64_t n) {
  return std::string(dtype_name(t)) + " " + simd_isa_name(isa) + " n=" + std::to_string(n);
}

// Byte offsets of the half-float scale fields inside one block of t.
std::vector<size_t> half_fields(DType t) {
  switch (t) {
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
      return {0, 2};
    case DType::Q4_0:
    case DType::Q5_0:
    case DType::Q8_0:
      return {0};
    case DType::Q6_K:
      return {offsetof(BlockQ6_K, d)};
    default:
      return {};
  }
}

// Random bytes; with finite_scales, every scale field holds a finite half in [-4, 4].
std::vector<uint8_t> random_row(DType t, int64_t n, std::mt19937& rng, bool finite_scales) {
  std::vector<uint8_t> bytes(row_bytes(t, n));
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  if (!finite_scales) return bytes;
  const auto& tr = traits(t);
  std::uniform_real_distribution<float> scale(-4.0f, 4.0f);
  for (size_t block = 0; block < bytes.size() / tr.block_bytes; ++block) {
    for (size_t off : half_fields(t)) {
      const uint16_t h = f32_to_fp16(scale(rng));
      std::memcpy(&bytes[block * tr.block_bytes + off], &h, 2);
    }
  }
  if (t == DType::F32) {  // keep F32 finite too; F16/BF16 get every bit pattern on purpose
    auto* f = reinterpret_cast<float*>(bytes.data());
    for (int64_t i = 0; i < n; ++i) f[i] = scale(rng);
  }
  return bytes;
}

// Equal bit patterns, except that any two NaNs match (payloads are not specified).
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b,
                                     bool nan_any_payload) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (nan_any_payload && std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i]))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " (0x" << std::hex
                                           << std::bit_cast<uint32_t>(a[i]) << ") vs " << b[i]
                                           << " (0x" << std::bit_cast<uint32_t>(b[i]) << ")";
  }
  return ::testing::AssertionSuccess();
}

std::vector<int64_t> test_lengths(DType t) {
  const int64_t block = traits(t).block_elems;
  if (block == 1) return {0, 1, 7, 8, 15, 16, 17, 31, 33, 100, 257};
  return {block, 3 * block, 17 * block};
}

std::vector<float> decode(SimdIsa isa, DType t, const std::vector<uint8_t>& src, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n), -1.0f);
  dequantize_row_isa(isa, t, src.data(), out.data(), n);
  return out;
}

std::vector<float> decode_ref(DType t, const std::vector<uint8_t>& src, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n), -1.0f);
  dequantize_row_ref(t, src.data(), out.data(), n);
  return out;
}

TEST(Dequantize, EveryIsaMatchesReferenceOnRandomBlocks) {
  std::mt19937 rng(1234);
  for (DType t : kAllTypes) {
    for (int64_t n : test_lengths(t)) {
      const auto src = random_row(t, n, rng, /*finite_scales=*/true);
      const auto want = decode_ref(t, src, n);
      for (SimdIsa isa : supported_isas())
        EXPECT_TRUE(same_bits(decode(isa, t, src, n), want, false)) << label(t, isa, n);
      std::vector<float> got(static_cast<size_t>(n));
      dequantize_row(t, src.data(), got.data(), n);
      EXPECT_TRUE(same_bits(got, want, false)) << dtype_name(t) << " dequantize_row";
    }
  }
}

// Every byte random, so scales include infinities, NaNs and subnormals.
TEST(Dequantize, EveryIsaMatchesReferenceOnArbitraryBytes) {
  std::mt19937 rng(99);
  for (DType t : kAllTypes) {
    for (int64_t n : test_lengths(t)) {
      for (int rep = 0; rep < 20; ++rep) {
        const auto src = random_row(t, n, rng, /*finite_scales=*/false);
        const auto want = decode_ref(t, src, n);
        for (SimdIsa isa : supported_isas())
          EXPECT_TRUE(same_bits(decode(isa, t, src, n), want, true)) << label(t, isa, n);
      }
    }
  }
}

TEST(Dequantize, EveryIsaMatchesReferenceOnQuantizedData) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  for (DType t : kAllTypes) {
    const int64_t n = 8 * traits(t).block_elems * (traits(t).block_elems == 1 ? 37 : 1);
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> q(row_bytes(t, n));
    quantize_row(t, x.data(), q.data(), n);
    const auto want = decode_ref(t, q, n);
    for (SimdIsa isa : supported_isas())
      EXPECT_TRUE(same_bits(decode(isa, t, q, n), want, false)) << label(t, isa, n);
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-built blocks. The expected values are small multiples of powers of two, so they are
// exact whatever the rounding of the decoder.

template <typename Block>
std::vector<uint8_t> bytes_of(const Block& b) {
  std::vector<uint8_t> v(sizeof(Block));
  std::memcpy(v.data(), &b, sizeof(Block));
  return v;
}

void expect_decodes_to(DType t, const std::vector<uint8_t>& src, const std::vector<float>& want) {
  const auto n = static_cast<int64_t>(want.size());
  EXPECT_EQ(decode_ref(t, src, n), want) << dtype_name(t) << " reference";
  for (SimdIsa isa : supported_isas())
    EXPECT_EQ(decode(isa, t, src, n), want) << dtype_name(t) << " " << simd_isa_name(isa);
}

TEST(Dequantize, HandBuiltQ4_0) {
  BlockQ4_0 b{};
  b.d = f32_to_fp16(0.5f);
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    want[j] = 0.5f * static_cast<float>(j - 8);
    want[j + 16] = 0.5f * static_cast<float>(7 - j);
  }
  expect_decodes_to(DType::Q4_0, bytes_of(b), want);
}

TEST(Dequantize, HandBuiltQ4_1) {
  BlockQ4_1 b{};
  b.d = f32_to_fp16(0.25f);
  b.m = f32_to_fp16(-1.5f);
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>(((j * 7) & 15) | (j << 4));
    want[j] = 0.25f * static_cast<float>((j * 7) & 15) - 1.5f;
    want[j + 16] = 0.25f * static_cast<float>(j) - 1.5f;
  }
  expect_decodes_to(DType::Q4_1, bytes_of(b), want);
}

// Fifth bits: element i has bit i of qh = 0x9A5C3E61 (little-endian bytes 61 3E 5C 9A).
constexpr uint32_t kQh = 0x9A5C3E61u;
constexpr uint8_t kQhBytes[4] = {0x61, 0x3E, 0x5C, 0x9A};

TEST(Dequantize, HandBuiltQ5_0) {
  BlockQ5_0 b{};
  b.d = f32_to_fp16(2.0f);
  std::memcpy(b.qh, kQhBytes, 4);
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>((15 - j) | (j << 4));
    const int lo = (15 - j) + 16 * static_cast<int>((kQh >> j) & 1);
    const int hi = j + 16 * static_cast<int>((kQh >> (j + 16)) & 1);
    want[j] = 2.0f * static_cast<float>(lo - 16);
    want[j + 16] = 2.0f * static_cast<float>(hi - 16);
  }
  expect_decodes_to(DType::Q5_0, bytes_of(b), want);
}

TEST(Dequantize, HandBuiltQ5_1) {
  BlockQ5_1 b{};
  b.d = f32_to_fp16(0.125f);
  b.m = f32_to_fp16(3.0f);
  std::memcpy(b.qh, kQhBytes, 4);
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>(j | (((j + 5) & 15) << 4));
    const int lo = j + 16 * static_cast<int>((kQh >> j) & 1);
    const int hi = ((j + 5) & 15) + 16 * static_cast<int>((kQh >> (j + 16)) & 1);
    want[j] = 0.125f * static_cast<float>(lo) + 3.0f;
    want[j + 16] = 0.125f * static_cast<float>(hi) + 3.0f;
  }
  expect_decodes_to(DType::Q5_1, bytes_of(b), want);
}

TEST(Dequantize, HandBuiltQ8_0) {
  BlockQ8_0 b{};
  b.d = f32_to_fp16(-0.0625f);
  std::vector<float> want(32);
  for (int j = 0; j < 32; ++j) {
    b.qs[j] = static_cast<int8_t>(j * 8 - 128);
    want[j] = -0.0625f * static_cast<float>(j * 8 - 128);
  }
  expect_decodes_to(DType::Q8_0, bytes_of(b), want);
}

// Scales and mins of the 8 sub-blocks of a K block; several need all 6 bits.
constexpr uint8_t kSc[8] = {1, 17, 33, 63, 2, 47, 60, 31};
constexpr uint8_t kMn[8] = {0, 5, 63, 40, 16, 9, 52, 33};

// The packing written out from the GGUF spec, independently of pack_k_scale_min.
void spec_pack_scales(uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((kSc[j] & 63) | ((kSc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((kMn[j] & 63) | ((kMn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((kSc[j + 4] & 15) | ((kMn[j + 4] & 15) << 4));
  }
}

TEST(Dequantize, KScalePackingRoundTrips) {
  uint8_t s[12];
  spec_pack_scales(s);
  uint8_t packed[12];
  pack_k_scale_min(kSc, kMn, packed);
  EXPECT_EQ(std::memcmp(s, packed, 12), 0);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, mn;
    unpack_k_scale_min(s, j, &sc, &mn);
    EXPECT_EQ(sc, kSc[j]) << j;
    EXPECT_EQ(mn, kMn[j]) << j;
  }
}

// Element i of a K block gets q = (i * 7 + i / 32) mod 2^bits.
int k_q(int i, int bits) {
  return (i * 7 + i / 32) & ((1 << bits) - 1);
}

TEST(Dequantize, HandBuiltQ4_K) {
  BlockQ4_K b{};
  b.d = f32_to_fp16(0.5f);
  b.dmin = f32_to_fp16(0.25f);
  spec_pack_scales(b.scales);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int group = i / 64, l = i % 32, high = (i / 32) % 2;
    b.qs[32 * group + l] |= static_cast<uint8_t>(k_q(i, 4) << (4 * high));
    const int sub = i / 32;
    want[i] = 0.5f * kSc[sub] * static_cast<float>(k_q(i, 4)) - 0.25f * kMn[sub];
  }
  expect_decodes_to(DType::Q4_K, bytes_of(b), want);
}

TEST(Dequantize, HandBuiltQ5_K) {
  BlockQ5_K b{};
  b.d = f32_to_fp16(0.25f);
  b.dmin = f32_to_fp16(0.5f);
  spec_pack_scales(b.scales);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int group = i / 64, l = i % 32, high = (i / 32) % 2, sub = i / 32;
    const int q = k_q(i, 5);
    b.qs[32 * group + l] |= static_cast<uint8_t>((q & 15) << (4 * high));
    b.qh[l] |= static_cast<uint8_t>((q >> 4) << sub);
    want[i] = 0.25f * kSc[sub] * static_cast<float>(q) - 0.5f * kMn[sub];
  }
  expect_decodes_to(DType::Q5_K, bytes_of(b), want);
}

TEST(Dequantize, HandBuiltQ6_K) {
  BlockQ6_K b{};
  b.d = f32_to_fp16(0.125f);
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s * 17 - 128);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int q = k_q(i, 6);
    // Within a half of 128: quarter k of 32 elements, position l.
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    b.ql[64 * half + l + 32 * (k % 2)] |= static_cast<uint8_t>((q & 15) << (4 * (k / 2)));
    b.qh[32 * half + l] |= static_cast<uint8_t>((q >> 4) << (2 * k));
    want[i] = 0.125f * static_cast<float>(b.scales[i / 16]) * static_cast<float>(q - 32);
  }
  expect_decodes_to(DType::Q6_K, bytes_of(b), want);
}

// ---------------------------------------------------------------------------------------------
// Half and bfloat16 conversions.

float f16_decode(uint16_t h) {
  std::vector<uint8_t> src(2);
  std::memcpy(src.data(), &h, 2);
  const float ref = decode_ref(DType::F16, src, 1)[0];
  for (SimdIsa isa : supported_isas()) {
    // Put the value inside a long row too, so the vector loop (not the tail) converts it.
    std::vector<uint8_t> row(64);
    for (int i = 0; i < 32; ++i) std::memcpy(&row[2 * i], &h, 2);
    const auto wide = decode(isa, DType::F16, row, 32);
    EXPECT_TRUE(same_bits(wide, std::vector<float>(32, ref), false)) << simd_isa_name(isa);
  }
  return ref;
}

uint32_t bits(float f) {
  return std::bit_cast<uint32_t>(f);
}

TEST(Dequantize, HalfSpecialValues) {
  EXPECT_EQ(bits(f16_decode(0x0000)), 0x00000000u);
  EXPECT_EQ(bits(f16_decode(0x8000)), 0x80000000u);         // -0
  EXPECT_EQ(f16_decode(0x0001), std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(f16_decode(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(f16_decode(0x8200), -std::ldexp(1.0f, -15));    // negative subnormal
  EXPECT_EQ(f16_decode(0x0400), std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(f16_decode(0x3c00), 1.0f);
  EXPECT_EQ(f16_decode(0x3c01), 1.0f + std::ldexp(1.0f, -10));
  EXPECT_EQ(f16_decode(0xc000), -2.0f);
  EXPECT_EQ(f16_decode(0x7bff), 65504.0f);
  EXPECT_EQ(f16_decode(0x7c00), INFINITY);
  EXPECT_EQ(f16_decode(0xfc00), -INFINITY);
  EXPECT_TRUE(std::isnan(f16_decode(0x7e00)));
  // A signalling NaN comes back quiet (as F16C hardware does), payload kept.
  EXPECT_EQ(bits(f16_decode(0x7c01)), 0x7fc02000u);
  EXPECT_EQ(bits(f16_decode(0xfd55)), 0xffeaa000u);
}

TEST(Dequantize, HalfEveryPatternMatchesAcrossIsas) {
  std::vector<uint8_t> all(2 * 65536);
  for (uint32_t h = 0; h < 65536; ++h) {
    all[2 * h] = static_cast<uint8_t>(h);
    all[2 * h + 1] = static_cast<uint8_t>(h >> 8);
  }
  for (DType t : {DType::F16, DType::BF16}) {
    const auto want = decode_ref(t, all, 65536);
    for (SimdIsa isa : supported_isas())
      EXPECT_TRUE(same_bits(decode(isa, t, all, 65536), want, false)) << label(t, isa, 65536);
  }
}

TEST(Dequantize, BFloat16Values) {
  auto bf16 = [](uint16_t b) {
    std::vector<uint8_t> src = {static_cast<uint8_t>(b), static_cast<uint8_t>(b >> 8)};
    return decode_ref(DType::BF16, src, 1)[0];
  };
  EXPECT_EQ(bf16(0x3f80), 1.0f);
  EXPECT_EQ(bf16(0xc0a0), -5.0f);
  EXPECT_EQ(bf16(0x0001), std::ldexp(1.0f, -133));  // subnormal
  EXPECT_EQ(bf16(0x7f80), INFINITY);
  EXPECT_EQ(bf16(0xff80), -INFINITY);
  EXPECT_TRUE(std::isnan(bf16(0x7fc0)));
  EXPECT_EQ(bits(bf16(0x8000)), 0x80000000u);
}

// float -> half -> float through quantize_row / dequantize_row, round-to-nearest-even.
float through_f16(float f) {
  uint16_t h;
  quantize_row(DType::F16, &f, &h, 1);
  float back;
  dequantize_row(DType::F16, &h, &back, 1);
  return back;
}

float through_bf16(float f) {
  uint16_t h;
  quantize_row(DType::BF16, &f, &h, 1);
  float back;
  dequantize_row(DType::BF16, &h, &back, 1);
  return back;
}

TEST(Dequantize, HalfRoundingTies) {
  const float ulp1 = std::ldexp(1.0f, -10);                      // half ulp at 1.0
  EXPECT_EQ(through_f16(1.0f + ulp1 / 2), 1.0f);                 // tie -> even (down)
  EXPECT_EQ(through_f16(1.0f + 3 * ulp1 / 2), 1.0f + 2 * ulp1);  // tie -> even (up)
  EXPECT_EQ(through_f16(1.0f + ulp1 / 2 + std::ldexp(1.0f, -20)), 1.0f + ulp1);  // above tie
  EXPECT_EQ(through_f16(65519.0f), 65504.0f);
  EXPECT_EQ(through_f16(65520.0f), INFINITY);  // tie between 65504 and 2^16 -> even -> inf
  EXPECT_EQ(through_f16(1e10f), INFINITY);
  EXPECT_EQ(through_f16(-1e10f), -INFINITY);
  // Subnormal results.
  EXPECT_EQ(through_f16(std::ldexp(1.0f, -24)), std::ldexp(1.0f, -24));
  EXPECT_EQ(through_f16(std::ldexp(1.0f, -25)), 0.0f);                   // tie -> 0
  EXPECT_EQ(through_f16(std::ldexp(3.0f, -25)), std::ldexp(2.0f, -24));  // tie -> even
  EXPECT_EQ(through_f16(std::ldexp(1.0f, -25) * 1.0001f), std::ldexp(1.0f, -24));
  EXPECT_EQ(bits(through_f16(-std::ldexp(1.0f, -30))), 0x80000000u);  // sign kept
  EXPECT_TRUE(std::isnan(through_f16(NAN)));
  EXPECT_EQ(through_f16(INFINITY), INFINITY);
}

TEST(Dequantize, BFloat16RoundingTies) {
  const float ulp1 = std::ldexp(1.0f, -7);
  EXPECT_EQ(through_bf16(1.0f + ulp1 / 2), 1.0f);
  EXPECT_EQ(through_bf16(1.0f + 3 * ulp1 / 2), 1.0f + 2 * ulp1);
  EXPECT_EQ(through_bf16(1.0f + ulp1 / 2 + std::ldexp(1.0f, -20)), 1.0f + ulp1);
  EXPECT_EQ(through_bf16(std::numeric_limits<float>::max()), INFINITY);
  EXPECT_TRUE(std::isnan(through_bf16(NAN)));
  EXPECT_EQ(through_bf16(-INFINITY), -INFINITY);
}

TEST(Dequantize, RejectsBadArguments) {
  std::vector<uint8_t> src(1024);
  std::vector<float> dst(1024);
  EXPECT_THROW(dequantize_row_ref(DType::Q4_0, src.data(), dst.data(), 33), Error);
  EXPECT_THROW(dequantize_row(DType::Q4_K, src.data(), dst.data(), 32), Error);
  EXPECT_THROW(dequantize_row(DType::Q8_K, src.data(), dst.data(), 256), Error);
  EXPECT_THROW(dequantize_row_ref(DType::I32, src.data(), dst.data(), 4), Error);
  EXPECT_FALSE(can_dequantize(DType::Q2_K));
  for (DType t : kAllTypes) EXPECT_TRUE(can_dequantize(t)) << dtype_name(t);
}

// ---------------------------------------------------------------------------------------------
// Real files written by llama.cpp: every tensor decodes identically on every path, to finite
// values of the right size. The F32 file holds the same weights, so it also tells how far each
// decoded tensor is from the original: a layout mistake is off by about 100%, not a few %.

struct FileCase {
  const char* name;
  double max_rel_rms;  // RMS(decoded - F32) / RMS(F32), per tensor
};

TEST(Dequantize, ReferenceModelsDecodeConsistently) {
  const std::string dir = test::reference_dir() + "/synthetic/";
  const GgufFile f32 = GgufFile::open(dir + "tiny-llama-F32.gguf");
  // llama.cpp keeps some tensors at higher precision; the bound is for the file's main type
  // and any better one (measured: Q4_0 0.087, Q4_K 0.072, Q6_K 0.018, Q8_0 0.0054, F16 0.0002).
  for (const FileCase& c :
       {FileCase{"tiny-llama-Q4_0.gguf", 0.10}, FileCase{"tiny-llama-Q4_K.gguf", 0.08},
        FileCase{"tiny-llama-Q6_K.gguf", 0.02}, FileCase{"tiny-llama-Q8_0.gguf", 0.007},
        FileCase{"tiny-llama-F16.gguf", 0.0005}}) {
    SCOPED_TRACE(c.name);
    const GgufFile file = GgufFile::open(dir + c.name);
    ASSERT_FALSE(file.tensors().empty());
    for (const GgufTensorInfo& t : file.tensors()) {
      SCOPED_TRACE(t.name);
      ASSERT_TRUE(can_dequantize(t.type)) << dtype_name(t.type);
      const int64_t k = t.shape[0];
      const int64_t rows = t.num_elements() / k;
      const size_t stride = row_bytes(t.type, k);
      ASSERT_EQ(stride * static_cast<size_t>(rows), t.num_bytes);
      const GgufTensorInfo* orig = f32.find_tensor(t.name);
      ASSERT_NE(orig, nullptr);
      ASSERT_EQ(orig->type, DType::F32);
      std::vector<float> ref(static_cast<size_t>(k)), fast(static_cast<size_t>(k));
      double sq_err = 0, sq_orig = 0, max_abs = 0;
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row_ref(t.type, t.data + r * stride, ref.data(), k);
        dequantize_row(t.type, t.data + r * stride, fast.data(), k);
        ASSERT_TRUE(same_bits(fast, ref, false)) << "row " << r;
        const float* o = reinterpret_cast<const float*>(orig->data) + r * k;
        for (int64_t i = 0; i < k; ++i) {
          ASSERT_TRUE(std::isfinite(ref[i])) << "row " << r << " element " << i;
          max_abs = std::max(max_abs, std::fabs(static_cast<double>(ref[i])));
          sq_err += (ref[i] - o[i]) * static_cast<double>(ref[i] - o[i]);
          sq_orig += o[i] * static_cast<double>(o[i]);
        }
      }
      const double rms = std::sqrt(sq_orig / static_cast<double>(k * rows));
      // Weights are ~N(0, 0.1) and norm gains ~1: nothing near the fp16 range.
      EXPECT_GT(rms, 0.01);
      EXPECT_LT(rms, 3.0);
      EXPECT_LT(max_abs, 20.0);
      EXPECT_LE(std::sqrt(sq_err / sq_orig), c.max_rel_rms);
    }
  }
}

}  // namespace
}  // namespace pareto
