// Q4_K kernels for AVX-512 VNNI on the resident packed layout, included by
// matmul_kernels_inl.h at that level only (same rules: inside the level's namespace, after its
// target pragma, no std:: templates).
//
// As for Q8_0/Q4_0 (matmul_group_kernels_inl.h), 16 rows are stored transposed so that int32
// lane r of vpdpbusd belongs to row r and a token's 4 activation bytes are a broadcast. Per
// super-block of 256 values and output (row r, token t), all in exact int32:
//   D_s = sum of sub-block s's 32 products q * x   (q the 4-bit values, x the int8 activations)
//   A   = sum_s sc_s * D_s,   M = sum_s mn_s * (bsums[2s] + bsums[2s + 1])
// then acc = fma(float(A), d_r * d_x, acc) and acc = fnmadd(float(M), dmin_r * d_x, acc),
// super-blocks in order. Lanes never mix, so the tile a token is in does not change a result.
// The file layout's kernels (Q4_KKernel, kept for --mmap and row counts not a multiple of 16)
// sum in 8 lanes instead, so their results differ from a packed copy's in the last bits.
//
// Resident layout of one super-block of 16 rows, the same 2,304 bytes as their 16 blocks:
//   [0, 2048)      for chunk j < 4 (values 64j .. 64j + 63) and dword q < 8: the 16 rows'
//                  bytes 4q .. 4q + 3 of the chunk's qs (low nibbles: sub-block 2j, high:
//                  2j + 1), one 64-byte vector each, at 512j + 64q;
//   [2048, 2240)   the 16 rows' 12 scale bytes as 3 vectors of dwords (lane r: row r);
//   [2240, 2272)   d of the 16 rows (F16); [2272, 2304) dmin.

inline constexpr int64_t kQ4KPackedBytes = 16 * 144;
static_assert(sizeof(BlockQ4_K) == 144);

// pack_weights for Q4_K: a copy of 16 rows (w_stride apart) of num_blocks super-blocks.
void q4k_repack(const uint8_t* rows, size_t w_stride, int64_t num_blocks, uint8_t* out) {
  for (int64_t b = 0; b < num_blocks; ++b) {
    const uint8_t* rp[16];
    group_rows(rows + b * sizeof(BlockQ4_K), w_stride, 16, rp);
    uint8_t* o = out + b * kQ4KPackedBytes;
    for (int j = 0; j < 4; ++j) {
      __m512i v[8];
      transpose_16x4(rp, offsetof(BlockQ4_K, qs) + 32 * j, v);
      transpose_16x4(rp, offsetof(BlockQ4_K, qs) + 32 * j + 16, v + 4);
      for (int q = 0; q < 8; ++q) _mm512_storeu_si512(o + 512 * j + 64 * q, v[q]);
    }
    for (int w = 0; w < 3; ++w)
      for (int r = 0; r < 16; ++r)
        __builtin_memcpy(o + 2048 + 64 * w + 4 * r, rp[r] + offsetof(BlockQ4_K, scales) + 4 * w, 4);
    for (int r = 0; r < 16; ++r) {
      __builtin_memcpy(o + 2240 + 2 * r, rp[r] + offsetof(BlockQ4_K, d), 2);
      __builtin_memcpy(o + 2272 + 2 * r, rp[r] + offsetof(BlockQ4_K, dmin), 2);
    }
  }
}

// y[t * y_stride + r] for the 16 rows of a group in the resident layout and T tokens of
// ActQ8K super-blocks.
template <int T>
void q4k_resident(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t num_blocks,
                  float* y, int64_t y_stride, const uint8_t* /*ahead*/, int64_t /*ahead_bytes*/) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i six = _mm512_set1_epi32(0x3F3F3F3F);
  const __m512i low_nib = _mm512_set1_epi32(0x0F0F0F0F);
  const __m512i top2 = _mm512_set1_epi32(0x30303030);
  const __m512i byte = _mm512_set1_epi32(0xFF);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < num_blocks; ++b) {
    const uint8_t* p = w + b * kQ4KPackedBytes;
    prefetch_span_ahead<kQ4KPackedBytes>(p, kPrefetchBytes);
    // unpack_k_scales on 16 rows at once: 4 scales (mins) per dword, one byte each.
    const __m512i a = _mm512_loadu_si512(p + 2048), bb = _mm512_loadu_si512(p + 2112),
                  c = _mm512_loadu_si512(p + 2176);
    const __m512i sc4[2] = {_mm512_and_si512(a, six),
                            _mm512_or_si512(_mm512_and_si512(c, low_nib),
                                            _mm512_and_si512(_mm512_srli_epi32(a, 2), top2))};
    const __m512i mn4[2] = {_mm512_and_si512(bb, six),
                            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low_nib),
                                            _mm512_and_si512(_mm512_srli_epi32(bb, 2), top2))};
    __m512i sum_a[T], sum_m[T];
    for (int t = 0; t < T; ++t) sum_a[t] = sum_m[t] = _mm512_setzero_si512();
    for (int s = 0; s < 8; ++s) {
      const int j = s / 2;
      __m512i q[8];
      for (int k = 0; k < 8; ++k) {
        const __m512i v = _mm512_loadu_si512(p + 512 * j + 64 * k);
        q[k] = _mm512_and_si512(s % 2 == 0 ? v : _mm512_srli_epi16(v, 4), low4);
      }
      const int shift = 8 * (s % 4);
      const __m512i sc = _mm512_and_si512(_mm512_srli_epi32(sc4[s / 4], shift), byte);
      // The sub-block's min in both int16 halves of each lane, for vpdpwssd against the pair
      // bsums[2s], bsums[2s + 1].
      const __m512i mn = _mm512_and_si512(_mm512_srli_epi32(mn4[s / 4], shift), byte);
      const __m512i mn2 = _mm512_or_si512(mn, _mm512_slli_epi32(mn, 16));
      for (int t = 0; t < T; ++t) {
        const ActQ8K* x = reinterpret_cast<const ActQ8K*>(act + t * act_stride) + b;
        __m512i d0 = _mm512_setzero_si512(), d1 = _mm512_setzero_si512();
        for (int k = 0; k < 8; k += 2) {
          d0 = _mm512_dpbusd_epi32(d0, q[k], bcast4(x->qs + 32 * s + 4 * k));
          d1 = _mm512_dpbusd_epi32(d1, q[k + 1], bcast4(x->qs + 32 * s + 4 * k + 4));
        }
        sum_a[t] = _mm512_add_epi32(sum_a[t], _mm512_mullo_epi32(_mm512_add_epi32(d0, d1), sc));
        int32_t pair;
        __builtin_memcpy(&pair, x->bsums + 2 * s, 4);
        sum_m[t] = _mm512_dpwssd_epi32(sum_m[t], mn2, _mm512_set1_epi32(pair));
      }
    }
    const __m512 d = _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p + 2240));
    const __m512 dmin = _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p + 2272));
    for (int t = 0; t < T; ++t) {
      const ActQ8K* x = reinterpret_cast<const ActQ8K*>(act + t * act_stride) + b;
      const __m512 dx = _mm512_set1_ps(x->d);
      acc[t] =
          _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xFFFF, sum_a[t]), _mm512_mul_ps(d, dx), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_maskz_cvtepi32_ps(0xFFFF, sum_m[t]), _mm512_mul_ps(dmin, dx),
                                acc[t]);
    }
  }
  group_store(acc, y, y_stride, 16);
}
