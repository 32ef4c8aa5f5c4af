// Q8_0 and Q4_0 kernels for AVX-512 VNNI, included by matmul_kernels_inl.h at that level only
// (same rules: inside the level's namespace, after its target pragma, no std:: templates).
//
// Why a packed layout: in GGUF's layout one 64-byte vpdpbusd holds the products of one weight
// row and one token, so every output pays an int->float convert, a scale multiply and an FMA
// per block pair next to each dot product, and those share the two vector ports that run
// vpdpbusd (a third of the int8 peak at best). Here 16 weight rows are first packed so that
// int32 lane r of a vector belongs to row r: the 8 dot products of a block for 16 rows and one
// token land in one int32 vector, which is exact, and one convert, multiply and FMA finish the
// block for all 16 outputs together. The activation operand is a 4-byte broadcast from memory.
//
// Two ways to get there. Models read into memory are packed once, in place, into the resident
// layout (pack_weights, repack_group: same size as the 16 rows' blocks), which each call
// streams sequentially (group_resident). Matrices in the file's layout (--mmap, row counts not
// a multiple of 16) are transposed per call: in registers when the call has one token tile
// (group_direct), else once per group into a buffer all the tiles read (pack_group +
// group_tile). Reading 16 rows side by side loses the hardware prefetcher, so the per-call
// path's GEMV reaches about half the bandwidth of the resident layout's.
//
// Per output (row r, token t) the chain is fixed: per block, s = bias(t) + sum of the block's
// 32 products (exact int32), then acc = fma(float(s), d_w(r) * d_x(t), acc), blocks in order.
// Lanes never mix, so neither the group a row is packed in nor the tile a token is in changes
// a result.

// One block of a packed group: q[j] holds, for each of the 16 rows, elements 4j..4j+3 of the
// block as unsigned bytes (Q8_0 values + 128, Q4_0 nibbles); d the rows' scales as F32.
struct alignas(64) PackedBlock {
  uint8_t q[8][64];
  float d[16];
};
static_assert(sizeof(PackedBlock) == matmul_detail::kPackedBlockBytes);

// The 4 dwords at offset `off` of 16 rows (rows[r] + off), transposed: out[j] lane r = dword j
// of row r. Each 128-bit lane of an input vector holds 4 rows (i, i+4, i+8, i+12), so after the
// two unpack stages lane L of out[j] holds rows 4L..4L+3 in order.
inline void transpose_16x4(const uint8_t* const rows[16], int64_t off, __m512i out[4]) {
  __m512i z[4];
  for (int i = 0; i < 4; ++i) {
    __m512i v = _mm512_zextsi128_si512(loadu128(rows[i] + off));
    v = _mm512_mask_broadcast_i32x4(v, 0x00F0, loadu128(rows[i + 4] + off));
    v = _mm512_mask_broadcast_i32x4(v, 0x0F00, loadu128(rows[i + 8] + off));
    z[i] = _mm512_mask_broadcast_i32x4(v, 0xF000, loadu128(rows[i + 12] + off));
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]);
  const __m512i t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]);
  const __m512i t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Row pointers of a group; rows past `rows` read a block of zeros (zero scale, zero output).
inline void group_rows(const uint8_t* w, size_t w_stride, int rows, const uint8_t* rp[16]) {
  alignas(64) static const uint8_t kZeros[64] = {};
  for (int r = 0; r < 16; ++r) rp[r] = r < rows ? w + r * w_stride : kZeros;
}

// The scales (the first 2 bytes of each block) of 16 rows as F32. Gathered in general-purpose
// registers: 16 two-byte stores and a vector load of them would stall store forwarding.
inline __m512 load_scales(const uint8_t* const rp[16]) {
  uint64_t q[4];
  for (int i = 0; i < 4; ++i) {
    q[i] = 0;
    for (int e = 0; e < 4; ++e) {
      uint16_t h;
      __builtin_memcpy(&h, rp[4 * i + e], 2);
      q[i] |= static_cast<uint64_t>(h) << (16 * e);
    }
  }
  const __m256i h = _mm256_setr_epi64x(static_cast<long long>(q[0]), static_cast<long long>(q[1]),
                                       static_cast<long long>(q[2]), static_cast<long long>(q[3]));
  return _mm512_maskz_cvtph_ps(0xFFFF, h);
}

// Weights stream from memory once per call, 16 rows at a time: each row asks for the same
// place in the next group's row (at least kPrefetchBytes ahead, see prefetch_distance).
inline void prefetch_group(const uint8_t* const rp[16], int rows, int64_t distance) {
  for (int r = 0; r < rows; ++r) prefetch_ahead(rp[r], distance);
}

// One block of 16 rows in PackedBlock's form, in registers; each advances the row pointers of
// real rows (r < rows) to the next block.
struct GroupQ8_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);
  static constexpr bool kPrefetchNextGroup = true;  // TileTable::prefetch_next_group
  static void load(const uint8_t* rp[16], int rows, __m512i wq[8], __m512& dw) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int h = 0; h < 2; ++h) {
      transpose_16x4(rp, 2 + 16 * h, wq + 4 * h);
      for (int j = 0; j < 4; ++j) wq[4 * h + j] = _mm512_xor_si512(wq[4 * h + j], flip);
    }
    dw = load_scales(rp);
    for (int r = 0; r < rows; ++r) rp[r] += kBlockBytes;
  }
  // The resident packed layout (pack_weights): the 8 vectors of load, then the 16 scales as
  // F16, the same 544 bytes as the 16 rows' blocks in the file.
  static constexpr int64_t kPackedBytes = 16 * kBlockBytes;
  static void store_packed(const uint8_t* rp[16], uint8_t* out) {
    __m512i wq[8];
    __m512 dw;
    load(rp, 16, wq, dw);
    for (int j = 0; j < 8; ++j) _mm512_storeu_si512(out + 64 * j, wq[j]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 512),
                        _mm512_cvtps_ph(dw, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  static void load_packed(const uint8_t* p, __m512i wq[8], __m512& dw) {
    for (int j = 0; j < 8; ++j) wq[j] = _mm512_loadu_si512(p + 64 * j);
    dw = _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p + 512));
  }
};

struct GroupQ4_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_0);
  static constexpr bool kPrefetchNextGroup = false;
  static void load(const uint8_t* rp[16], int rows, __m512i wq[8], __m512& dw) {
    // Byte i of a block holds element i (low nibble) and element i + 16 (high nibble).
    __m512i v[4];
    transpose_16x4(rp, 2, v);
    split_nibbles(v, wq);
    dw = load_scales(rp);
    for (int r = 0; r < rows; ++r) rp[r] += kBlockBytes;
  }
  static void split_nibbles(const __m512i v[4], __m512i wq[8]) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int j = 0; j < 4; ++j) {
      wq[j] = _mm512_and_si512(v[j], low4);
      wq[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v[j], 4), low4);
    }
  }
  // The resident packed layout (pack_weights): the 4 transposed vectors, nibbles still paired,
  // then the 16 scales as F16: the same 288 bytes as the 16 rows' blocks in the file.
  static constexpr int64_t kPackedBytes = 16 * kBlockBytes;
  static void store_packed(const uint8_t* rp[16], uint8_t* out) {
    __m512i v[4];
    transpose_16x4(rp, 2, v);
    for (int j = 0; j < 4; ++j) _mm512_storeu_si512(out + 64 * j, v[j]);
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(out + 256),
        _mm512_cvtps_ph(load_scales(rp), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (int r = 0; r < 16; ++r) rp[r] += kBlockBytes;
  }
  static void load_packed(const uint8_t* p, __m512i wq[8], __m512& dw) {
    __m512i v[4];
    for (int j = 0; j < 4; ++j) v[j] = _mm512_loadu_si512(p + 64 * j);
    split_nibbles(v, wq);
    dw = _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p + 256));
  }
};

template <class G>
void pack_group(const uint8_t* w, size_t w_stride, int rows, int64_t num_blocks, uint8_t* out) {
  const uint8_t* rp[16];
  group_rows(w, w_stride, rows, rp);
  const int64_t distance = prefetch_distance<16>(w_stride);
  PackedBlock* pb = reinterpret_cast<PackedBlock*>(out);
  for (int64_t b = 0; b < num_blocks; ++b) {
    prefetch_group(rp, rows, distance);
    __m512i wq[8];
    __m512 dw;
    G::load(rp, rows, wq, dw);
    for (int j = 0; j < 8; ++j) _mm512_store_si512(pb[b].q[j], wq[j]);
    _mm512_store_ps(pb[b].d, dw);
  }
}

inline __m512i bcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Block b of T tokens' ActQ8 rows against one block of 16 rows (acc lane r: row r).
template <int T>
inline void group_step(const __m512i wq[8], __m512 dw, const uint8_t* act, size_t act_stride,
                       int64_t b, __m512 (&acc)[T]) {
  for (int t = 0; t < T; ++t) {
    const ActQ8* x = reinterpret_cast<const ActQ8*>(act + t * act_stride) + b;
    // Two chains of 4 dot products: integer sums are exact in any order, and vpdpbusd's
    // latency would otherwise bound a one-token tile.
    __m512i s0 = _mm512_set1_epi32(x->bias);
    __m512i s1 = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      s0 = _mm512_dpbusd_epi32(s0, wq[2 * j], bcast4(x->qs + 8 * j));
      s1 = _mm512_dpbusd_epi32(s1, wq[2 * j + 1], bcast4(x->qs + 8 * j + 4));
    }
    const __m512 s = _mm512_maskz_cvtepi32_ps(0xFFFF, _mm512_add_epi32(s0, s1));
    acc[t] = _mm512_fmadd_ps(s, _mm512_mul_ps(dw, _mm512_set1_ps(x->d)), acc[t]);
  }
}

template <int T>
inline void group_store(const __m512 (&acc)[T], float* y, int64_t y_stride, int rows) {
  const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1);
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride, mask, acc[t]);
}

// y[t * y_stride + r] for r < rows, t < T, from a packed group and T tokens of ActQ8 blocks.
template <int T>
void group_tile(const uint8_t* packed, const uint8_t* act, size_t act_stride, int64_t num_blocks,
                float* y, int64_t y_stride, int rows) {
  const PackedBlock* pb = reinterpret_cast<const PackedBlock*>(packed);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < num_blocks; ++b) {
    __m512i wq[8];
    for (int j = 0; j < 8; ++j) wq[j] = _mm512_load_si512(pb[b].q[j]);
    group_step<T>(wq, _mm512_load_ps(pb[b].d), act, act_stride, b, acc);
  }
  group_store(acc, y, y_stride, rows);
}

// As pack_group + group_tile, with each block packed in registers only: for a call with one
// token tile, where a packed copy would be read once. Same operations per output.
template <class G, int T>
void group_direct(const uint8_t* w, size_t w_stride, int rows, const uint8_t* act,
                  size_t act_stride, int64_t num_blocks, float* y, int64_t y_stride) {
  const uint8_t* rp[16];
  group_rows(w, w_stride, rows, rp);
  const int64_t distance = prefetch_distance<16>(w_stride);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < num_blocks; ++b) {
    prefetch_group(rp, rows, distance);
    __m512i wq[8];
    __m512 dw;
    G::load(rp, rows, wq, dw);
    group_step<T>(wq, dw, act, act_stride, b, acc);
  }
  group_store(acc, y, y_stride, rows);
}

// Block b of a group in the resident packed layout (pack_weights): num_blocks blocks of
// G::kPackedBytes one after another, one sequential stream, prefetched as prefetch_resident
// says.
template <class G>
inline void load_resident(const uint8_t* w, int64_t b, int64_t num_blocks, const uint8_t* ahead,
                          int64_t ahead_bytes, __m512i wq[8], __m512& dw) {
  const uint8_t* p = w + b * G::kPackedBytes;
  if constexpr (G::kPrefetchNextGroup)
    prefetch_resident<G::kPackedBytes>(p, b, num_blocks, ahead, ahead_bytes);
  else
    prefetch_span_ahead<G::kPackedBytes>(p, kPrefetchBytes);
  G::load_packed(p, wq, dw);
}

// y for a group of 16 rows in the resident packed layout and T tokens.
template <class G, int T>
void group_resident(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t num_blocks,
                    float* y, int64_t y_stride, const uint8_t* ahead, int64_t ahead_bytes) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < num_blocks; ++b) {
    __m512i wq[8];
    __m512 dw;
    load_resident<G>(w, b, num_blocks, ahead, ahead_bytes, wq, dw);
    group_step<T>(wq, dw, act, act_stride, b, acc);
  }
  group_store(acc, y, y_stride, 16);
}

// A group in the resident packed layout unpacked into PackedBlocks (aligned, F32 scales, Q4_0
// nibbles split) for calls of several token tiles: each tile then reads it as it reads
// pack_group's output.
template <class G>
void expand_group(const uint8_t* w, int64_t num_blocks, uint8_t* out) {
  PackedBlock* pb = reinterpret_cast<PackedBlock*>(out);
  for (int64_t b = 0; b < num_blocks; ++b) {
    __m512i wq[8];
    __m512 dw;
    load_resident<G>(w, b, num_blocks, nullptr, 0, wq, dw);
    for (int j = 0; j < 8; ++j) _mm512_store_si512(pb[b].q[j], wq[j]);
    _mm512_store_ps(pb[b].d, dw);
  }
}

// Rewrites 16 rows (a copy of them in `rows`, w_stride apart) into the resident packed layout
// at out. F16 scales round-trip through F32 exactly.
template <class G>
void repack_group(const uint8_t* rows, size_t w_stride, int64_t num_blocks, uint8_t* out) {
  const uint8_t* rp[16];
  group_rows(rows, w_stride, 16, rp);
  for (int64_t b = 0; b < num_blocks; ++b) G::store_packed(rp, out + b * G::kPackedBytes);
}

// quantize_act_q8, 32 values per step. Same operations as the scalar quantize_block: the
// maximum is exact in any order, d and its inverse are the same scalar divisions, x * id is one
// rounded product, and round-to-nearest-even by roundscale equals the scalar's add/subtract of
// 1.5 * 2^23 for |x * id| <= 127 (NaN inputs aside).
void quantize_q8(const float* x, int64_t k, int32_t zero_point, void* out_v) {
  ActQ8* out = static_cast<ActQ8*>(out_v);
  for (int64_t b = 0; b < k / 32; ++b) {
    const float* xb = x + b * 32;
    const __m512 v0 = _mm512_loadu_ps(xb);
    const __m512 v1 = _mm512_loadu_ps(xb + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
    const __m512i i0 = quantize16(v0, id);
    const __m512i i1 = quantize16(v1, id);
    out[b].d = d;
    out[b].bias = -zero_point * _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs), _mm512_cvtepi32_epi8(i0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16), _mm512_cvtepi32_epi8(i1));
  }
}
