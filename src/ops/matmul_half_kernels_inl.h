// Kernels for 16-bit float weights (F16, BF16) on AVX-512, included by matmul_kernels_inl.h at
// that level only (same rules: inside the level's namespace, after its target pragma, no std::
// templates).
//
// Why not the float tiles' dot form: there each output keeps a 16-lane vector of partial sums,
// so every FMA needs a whole vector of activations as well as of weights, and a 4 x 6 tile
// loads 10 vectors and widens 4 F16 vectors per 24 FMAs; from L2 at K = 2048 that ran at 40-65%
// of the FMA peak. Here a vector holds 16 output rows instead: the rows are stored transposed,
// so one widened weight vector meets a 4-byte broadcast of each token's activation. A 32-row x
// 12-token tile then does 24 FMAs per 2 widenings and 12 scalar loads, and no horizontal sum is
// left at the end (a register-only loop of this tile ran at 98% of the FMA peak, the dot
// form's at 40%).
//
// Per output (row r, token t) the chain is fixed: acc = 0, then acc = fma(x[t][i], w[r][i],
// acc) for i = 0 .. K-1 in order, in F32. A lane is one output, so neither the tile shape, the
// thread nor the batch changes a result.
//
// Models read into memory are packed once, in place (pack_weights, half_repack: the same bytes),
// in units of 32 rows, [k][32]: 64 bytes, one cache line, per k. A unit is then one sequential
// stream for a GEMV, and its two chains hide half the FMA latency (groups of 16 rows read two
// or four side by side decoded llama-135m 15-40% slower than the file layout). Matrices left in
// the file's layout (--mmap, row counts not a multiple of 32) keep the float tiles' dot form:
// transposing them per call ran a GEMV at a third of the bandwidth. Their chains sum in another
// order, so their results differ from a packed copy's in the last bits; each matrix gets one
// form for every batch, so batch invariance holds.

// pack_weights for F16 and BF16: a copy of 32 rows (w_stride apart, k values each) into the
// resident layout at out, [k][32] uint16: out[i * 32 + r] = row r's element i.
void half_repack(const uint8_t* rows, size_t w_stride, int64_t k, uint8_t* out) {
  uint16_t* o = reinterpret_cast<uint16_t*>(out);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* rp[16];
    for (int r = 0; r < 16; ++r) rp[r] = rows + (16 * half + r) * w_stride;
    uint16_t* oh = o + 16 * half;
    int64_t i = 0;
    // 8 elements (4 dwords) of each row at a time: dword j of the 16 rows, split into its low
    // (element 2j) and high (element 2j + 1) halves.
    for (; i + 8 <= k; i += 8) {
      __m512i d[4];
      transpose_16x4(rp, i * 2, d);
      for (int j = 0; j < 4; ++j) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(oh + (i + 2 * j) * 32),
                            _mm512_maskz_cvtepi32_epi16(0xFFFF, d[j]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(oh + (i + 2 * j + 1) * 32),
                            _mm512_maskz_cvtepi32_epi16(0xFFFF, _mm512_srli_epi32(d[j], 16)));
      }
    }
    for (; i < k; ++i)
      for (int r = 0; r < 16; ++r) {
        uint16_t v;
        __builtin_memcpy(&v, rp[r] + i * 2, 2);
        oh[i * 32 + r] = v;
      }
  }
}

// Widening of 16 consecutive 16-bit floats to F32: F16 by vcvtph2ps, BF16 by a shift (its
// bits are the top half of an F32's).
struct WidenF16 {
  static __m512 load(const uint8_t* p) { return _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p)); }
};
struct WidenBF16 {
  static __m512 load(const uint8_t* p) {
    const __m512i wide = _mm512_maskz_cvtepu16_epi32(0xFFFF, loadu256(p));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, wide, 16));
  }
};

// y[t * y_stride + r] for r < 32 and t < T, from a unit in the resident layout and T tokens of
// F32 activations (act_stride bytes apart).
template <class W, int T>
void half_tile(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t k, float* y,
               int64_t y_stride) {
  __m512 acc[2][T];
  for (int v = 0; v < 2; ++v)
    for (int t = 0; t < T; ++t) acc[v][t] = _mm512_setzero_ps();
  const float* x[T];
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const float*>(act + t * act_stride);
  for (int64_t i = 0; i < k; ++i) {
    const uint8_t* p = w + i * 64;
    prefetch_ahead(p, kPrefetchBytes);
    const __m512 w0 = W::load(p);
    const __m512 w1 = W::load(p + 32);
    for (int t = 0; t < T; ++t) {
      const __m512 xb = _mm512_set1_ps(x[t][i]);
      acc[0][t] = _mm512_fmadd_ps(xb, w0, acc[0][t]);
      acc[1][t] = _mm512_fmadd_ps(xb, w1, acc[1][t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm512_storeu_ps(y + t * y_stride, acc[0][t]);
    _mm512_storeu_ps(y + t * y_stride + 16, acc[1][t]);
  }
}
