// Q6_K kernels for AVX-512 VNNI on the resident packed layout, included by
// matmul_kernels_inl.h at that level only (same rules: inside the level's namespace, after its
// target pragma, no std:: templates).
//
// As for Q4_K (matmul_q4k_kernels_inl.h), 16 rows are stored transposed so that int32 lane r of
// vpdpbusd belongs to row r. Per super-block of 256 values and output (row r, token t), with q
// the 6-bit values (0..63), x the int8 activations and sc_g the int8 scale of values 16g ..
// 16g + 15, all in exact int32:
//   A = sum_g sc_g * (sum of group g's 16 products q * x),   B = sum_g sc_g * bsums[g]
// then acc = fma(float(A - 32 * B), d_r * d_x, acc), super-blocks in order (the 32 is the
// format's zero point). The file layout's kernels (Q6_KKernel, kept for --mmap and row counts
// not a multiple of 16) sum in 8 lanes instead, so their results differ in the last bits.
//
// Resident layout of one super-block of 16 rows, the same 3,360 bytes as their 16 blocks: the
// 16 rows' dword m of ql (m < 32) at 64m, of qh (m < 16) at 2048 + 64m, of the scales (m < 4)
// at 3072 + 64m, one 64-byte vector each (lane r: row r), then d of the 16 rows (F16) at 3328.

inline constexpr int64_t kQ6KPackedBytes = 16 * 210;
static_assert(sizeof(BlockQ6_K) == 210);

// pack_weights for Q6_K: a copy of 16 rows (w_stride apart) of num_blocks super-blocks.
void q6k_repack(const uint8_t* rows, size_t w_stride, int64_t num_blocks, uint8_t* out) {
  for (int64_t b = 0; b < num_blocks; ++b) {
    const uint8_t* rp[16];
    group_rows(rows + b * sizeof(BlockQ6_K), w_stride, 16, rp);
    uint8_t* o = out + b * kQ6KPackedBytes;
    // 13 runs of 16 bytes: ql (8), qh (4), scales (1); 4 dwords each.
    for (int run = 0; run < 13; ++run) {
      __m512i v[4];
      transpose_16x4(rp, 16 * run, v);
      for (int j = 0; j < 4; ++j) _mm512_storeu_si512(o + 64 * (4 * run + j), v[j]);
    }
    for (int r = 0; r < 16; ++r)
      __builtin_memcpy(o + 3328 + 2 * r, rp[r] + offsetof(BlockQ6_K, d), 2);
  }
}

// Two int16 activation block sums as one int32 for a vpdpwssd broadcast: lo in the low half.
inline int32_t bsum_pair(const int16_t* bsums, int lo, int hi) {
  return static_cast<int32_t>(static_cast<uint16_t>(bsums[lo])) |
         static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(bsums[hi])) << 16);
}

// y[t * y_stride + r] for the 16 rows of a group in the resident layout and T tokens of
// ActQ8K super-blocks.
template <int T>
void q6k_resident(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t num_blocks,
                  float* y, int64_t y_stride, const uint8_t* /*ahead*/, int64_t /*ahead_bytes*/) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i low2 = _mm512_set1_epi8(0x03);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < num_blocks; ++b) {
    const uint8_t* p = w + b * kQ6KPackedBytes;
    prefetch_span_ahead<kQ6KPackedBytes>(p, kPrefetchBytes);
    __m512i sum_a[T];
    for (int t = 0; t < T; ++t) sum_a[t] = _mm512_setzero_si512();
    // Values 128h + 32k + l (l < 32): ql byte 64h + l (k even) or 64h + 32 + l (k odd), low
    // nibble for k < 2; qh byte 32h + l, bits 2k and 2k + 1; scale group 8h + 2k + l / 16.
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < 4; ++k) {
        __m512i q[8];
        for (int m = 0; m < 8; ++m) {
          const __m512i ql = _mm512_loadu_si512(p + 64 * (16 * h + 8 * (k % 2) + m));
          const __m512i qh = _mm512_loadu_si512(p + 2048 + 64 * (8 * h + m));
          const __m512i nib = _mm512_and_si512(k < 2 ? ql : _mm512_srli_epi16(ql, 4), low4);
          const __m512i hi =
              _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 2 * k), low2), 4);
          q[m] = _mm512_or_si512(nib, hi);
        }
        const int g = 8 * h + 2 * k;
        const __m512i sv = _mm512_loadu_si512(p + 3072 + 64 * (g / 4));
        const __m512i sc0 = _mm512_srai_epi32(_mm512_slli_epi32(sv, 24 - 8 * (g % 4)), 24);
        const __m512i sc1 = _mm512_srai_epi32(_mm512_slli_epi32(sv, 16 - 8 * (g % 4)), 24);
        for (int t = 0; t < T; ++t) {
          const int8_t* xq =
              reinterpret_cast<const ActQ8K*>(act + t * act_stride)[b].qs + 128 * h + 32 * k;
          __m512i d0 = _mm512_setzero_si512(), d1 = _mm512_setzero_si512();
          for (int m = 0; m < 4; ++m) {
            d0 = _mm512_dpbusd_epi32(d0, q[m], bcast4(xq + 4 * m));
            d1 = _mm512_dpbusd_epi32(d1, q[m + 4], bcast4(xq + 16 + 4 * m));
          }
          sum_a[t] = _mm512_add_epi32(
              sum_a[t], _mm512_add_epi32(_mm512_mullo_epi32(d0, sc0), _mm512_mullo_epi32(d1, sc1)));
        }
      }
    }
    const __m512 d = _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p + 3328));
    for (int t = 0; t < T; ++t) {
      const ActQ8K* x = reinterpret_cast<const ActQ8K*>(act + t * act_stride) + b;
      // B: per scale dword, its even bytes (groups 4w, 4w + 2) and odd bytes (4w + 1, 4w + 3)
      // as int16 pairs against the matching pairs of block sums.
      __m512i sum_b = _mm512_setzero_si512();
      for (int wd = 0; wd < 4; ++wd) {
        const __m512i sv = _mm512_loadu_si512(p + 3072 + 64 * wd);
        const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(sv, 8), 8);
        const __m512i odd = _mm512_srai_epi16(sv, 8);
        sum_b = _mm512_dpwssd_epi32(sum_b, even,
                                    _mm512_set1_epi32(bsum_pair(x->bsums, 4 * wd, 4 * wd + 2)));
        sum_b = _mm512_dpwssd_epi32(sum_b, odd,
                                    _mm512_set1_epi32(bsum_pair(x->bsums, 4 * wd + 1, 4 * wd + 3)));
      }
      const __m512i total = _mm512_sub_epi32(sum_a[t], _mm512_slli_epi32(sum_b, 5));
      acc[t] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xFFFF, total),
                               _mm512_mul_ps(d, _mm512_set1_ps(x->d)), acc[t]);
    }
  }
  group_store(acc, y, y_stride, 16);
}
