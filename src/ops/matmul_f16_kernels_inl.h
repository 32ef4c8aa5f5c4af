// F16 kernels for AVX-512, included by matmul_kernels_inl.h at that level only (same rules:
// inside the level's namespace, after its target pragma, no std:: templates).
//
// Why not the float tiles' dot form: there each output keeps a 16-lane vector of partial sums,
// so every FMA needs a whole vector of activations as well as of weights, and a 4 x 6 tile
// loads 10 vectors and widens 4 F16 vectors per 24 FMAs; from L2 at K = 2048 that ran at 40-65%
// of the FMA peak. Here a vector holds 16 output rows instead: 16 rows of a group are stored
// transposed, [k][16] (32 bytes per k), so one widened weight vector meets a 4-byte broadcast
// of each token's activation. A 32-row x 12-token tile then does 24 FMAs per 2 widenings and
// 12 scalar loads, and no horizontal sum is left at the end (a register-only loop of this tile
// ran at 98% of the FMA peak, the dot form's at 40%).
//
// Per output (row r, token t) the chain is fixed: acc = 0, then acc = fma(x[t][i], w[r][i],
// acc) for i = 0 .. K-1 in order, in F32. A lane is one output, so neither the tile shape, the
// group a row is packed in, the thread nor the batch changes a result.
//
// Models read into memory are packed once, in place (pack_weights, f16_repack: the same bytes,
// per group of 16 rows). Matrices left in the file's layout (--mmap, row counts not a multiple
// of 16) keep the float tiles' dot form: transposing them per call ran a GEMV at a third of
// the bandwidth. Their chains sum in another order, so their results differ from a packed
// copy's in the last bits; each matrix gets one form for every batch, so batch invariance holds.

// pack_weights for F16: a copy of 16 rows (w_stride apart, k values each) into the resident
// layout at out, [k][16] uint16: out[i * 16 + r] = row r's element i.
void f16_repack(const uint8_t* rows, size_t w_stride, int64_t k, uint8_t* out) {
  const uint8_t* rp[16];
  for (int r = 0; r < 16; ++r) rp[r] = rows + r * w_stride;
  uint16_t* o = reinterpret_cast<uint16_t*>(out);
  int64_t i = 0;
  // 8 elements (4 dwords) of each row at a time: dword j of the 16 rows, split into its low
  // (element 2j) and high (element 2j + 1) halves.
  for (; i + 8 <= k; i += 8) {
    __m512i d[4];
    transpose_16x4(rp, i * 2, d);
    for (int j = 0; j < 4; ++j) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + (i + 2 * j) * 16),
                          _mm512_maskz_cvtepi32_epi16(0xFFFF, d[j]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + (i + 2 * j + 1) * 16),
                          _mm512_maskz_cvtepi32_epi16(0xFFFF, _mm512_srli_epi32(d[j], 16)));
    }
  }
  for (; i < k; ++i)
    for (int r = 0; r < 16; ++r) {
      uint16_t v;
      __builtin_memcpy(&v, rp[r] + i * 2, 2);
      o[i * 16 + r] = v;
    }
}

// y[t * y_stride + r] for r < rows (<= 16 * V) and t < T, from V groups of transposed rows
// (group_bytes apart) and T tokens of F32 activations (act_stride bytes apart).
template <int V, int T>
void f16_tile(const uint8_t* w, size_t group_bytes, const uint8_t* act, size_t act_stride,
              int64_t k, float* y, int64_t y_stride, int rows) {
  __m512 acc[V][T];
  for (int v = 0; v < V; ++v)
    for (int t = 0; t < T; ++t) acc[v][t] = _mm512_setzero_ps();
  const float* x[T];
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const float*>(act + t * act_stride);
  for (int64_t i = 0; i < k; ++i) {
    __m512 wv[V];
    for (int v = 0; v < V; ++v) {
      const uint8_t* p = w + v * group_bytes + i * 32;
      // Each group is a sequential stream: ask for it kPrefetchBytes ahead, once a cache line.
      if ((i & 1) == 0) prefetch_ahead(p, kPrefetchBytes);
      wv[v] = _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p));
    }
    for (int t = 0; t < T; ++t) {
      const __m512 xb = _mm512_set1_ps(x[t][i]);
      for (int v = 0; v < V; ++v) acc[v][t] = _mm512_fmadd_ps(xb, wv[v], acc[v][t]);
    }
  }
  for (int v = 0; v < V; ++v) {
    const int left = rows - 16 * v;
    if (left <= 0) break;
    const __mmask16 mask = left >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << left) - 1);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + 16 * v, mask, acc[v][t]);
  }
}
