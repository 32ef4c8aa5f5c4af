#include "model/synthetic_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"
#include "weights/gguf_file.h"
#include "weights/quantize.h"

namespace pareto {
namespace {

constexpr float kWeightStd = 0.02f;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t tensor_key(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return splitmix64(seed ^ splitmix64(h));
}

// Standard normal samples by Marsaglia and Tsang's ziggurat (128 layers): one 64-bit random
// number per sample in ~99% of cases, several times faster than Box-Muller's log and sincos.
class Ziggurat {
 public:
  Ziggurat() {
    constexpr double m = 2147483648.0;  // 2^31: samples take a signed 32-bit integer
    double d = kR, t = kR;
    const double q = kArea / std::exp(-0.5 * d * d);
    k_[0] = static_cast<uint32_t>(d / q * m);
    k_[1] = 0;
    w_[0] = q / m;
    w_[127] = d / m;
    f_[0] = 1.0;
    f_[127] = std::exp(-0.5 * d * d);
    for (int i = 126; i >= 1; --i) {
      d = std::sqrt(-2.0 * std::log(kArea / d + std::exp(-0.5 * d * d)));
      k_[i + 1] = static_cast<uint32_t>(d / t * m);
      t = d;
      f_[i] = std::exp(-0.5 * d * d);
      w_[i] = d / m;
    }
  }

  // The sample for counter value `counter` of stream `key`; rejections draw further numbers
  // from a sub-stream of that counter, so every sample depends on (key, counter) alone.
  double sample(uint64_t key, uint64_t counter) const {
    uint64_t bits = splitmix64(key + counter);
    uint64_t sub = 0;
    auto uniform = [&] {  // in (0, 1)
      const uint64_t u = splitmix64(splitmix64(key ^ kSubSalt ^ counter) + ++sub);
      return (static_cast<double>(u >> 11) + 0.5) * 0x1p-53;
    };
    for (;;) {
      const int32_t j = static_cast<int32_t>(static_cast<uint32_t>(bits));
      const int i = static_cast<int>(bits >> 57);
      const double x = j * w_[i];
      if (static_cast<uint32_t>(std::abs(static_cast<int64_t>(j))) < k_[i]) return x;
      if (i == 0) {  // the tail beyond kR
        double tx, ty;
        do {
          tx = -std::log(uniform()) / kR;
          ty = -std::log(uniform());
        } while (ty + ty < tx * tx);
        return j > 0 ? kR + tx : -kR - tx;
      }
      if (f_[i] + uniform() * (f_[i - 1] - f_[i]) < std::exp(-0.5 * x * x)) return x;
      bits = splitmix64(splitmix64(key ^ kSubSalt ^ counter) + ++sub);
    }
  }

 private:
  static constexpr double kR = 3.442619855899;          // start of the tail
  static constexpr double kArea = 9.91256303526217e-3;  // area of each layer
  static constexpr uint64_t kSubSalt = 0x5bd1e9955bd1e995ull;
  uint32_t k_[128];
  double w_[128];
  double f_[128];
};

// Writes N(0, stddev) samples for elements [begin, end) of the stream `key`.
void normal_fill(uint64_t key, int64_t begin, int64_t end, float stddev, float* out) {
  static const Ziggurat zig;
  for (int64_t e = begin; e < end; ++e)
    out[e - begin] = static_cast<float>(stddev * zig.sample(key, static_cast<uint64_t>(e)));
}

// llama.cpp's llama_ftype for a file whose matrices are mostly of type t.
uint32_t file_type_code(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::F16:
      return 1;
    case DType::Q4_0:
      return 2;
    case DType::Q4_1:
      return 3;
    case DType::Q8_0:
      return 7;
    case DType::Q5_0:
      return 8;
    case DType::Q5_1:
      return 9;
    case DType::Q4_K:
      return 14;  // Q4_K_S: every matrix Q4_K
    case DType::Q5_K:
      return 16;  // Q5_K_S
    case DType::Q6_K:
      return 18;
    case DType::BF16:
      return 32;
    default:
      fail("synth: no GGUF file type for {}", dtype_name(t));
  }
}

enum class Init { kNormal, kOnes };

struct TensorPlan {
  std::string name;
  std::vector<int64_t> shape;  // GGUF order
  DType type;
  Init init;
};

// Matrices take the requested type when their rows are whole blocks of it, else F16 (or F32
// when F32 was asked for); vectors (norms, biases) are always F32, as converters write them.
DType storage_type(DType requested, const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return DType::F32;
  if (shape[0] % traits(requested).block_elems == 0) return requested;
  return requested == DType::F32 ? DType::F32 : DType::F16;
}

std::vector<TensorPlan> plan_tensors(const SyntheticShape& s, int64_t vocab, DType type) {
  std::vector<TensorPlan> plans;
  auto add = [&](std::string name, std::vector<int64_t> shape, Init init = Init::kNormal) {
    const DType t = storage_type(type, shape);
    plans.push_back({std::move(name), std::move(shape), t, init});
  };
  const int64_t h = s.hidden_size;
  add("token_embd.weight", {h, vocab});
  add("output_norm.weight", {h}, Init::kOnes);
  if (!s.tied_embeddings) add("output.weight", {h, vocab});
  for (int64_t i = 0; i < s.num_layers; ++i) {
    const std::string p = fmt::format("blk.{}.", i);
    add(p + "attn_norm.weight", {h}, Init::kOnes);
    add(p + "attn_q.weight", {h, s.q_size()});
    add(p + "attn_k.weight", {h, s.kv_size()});
    add(p + "attn_v.weight", {h, s.kv_size()});
    if (s.qkv_bias) {
      add(p + "attn_q.bias", {s.q_size()});
      add(p + "attn_k.bias", {s.kv_size()});
      add(p + "attn_v.bias", {s.kv_size()});
    }
    add(p + "attn_output.weight", {s.q_size(), h});
    add(p + "ffn_norm.weight", {h}, Init::kOnes);
    add(p + "ffn_gate.weight", {h, s.ffn_size});
    add(p + "ffn_up.weight", {h, s.ffn_size});
    add(p + "ffn_down.weight", {s.ffn_size, h});
  }
  return plans;
}

void set_model_metadata(GgufWriter& w, const SyntheticShape& s, int64_t vocab, DType type) {
  const std::string a = s.architecture + ".";
  auto u32 = [&](const std::string& key, int64_t v) { w.set_u32(key, static_cast<uint32_t>(v)); };
  w.set_string("general.architecture", s.architecture);
  w.set_string("general.name", s.name);
  u32("general.file_type", file_type_code(type));
  if (traits(type).block_elems > 1) u32("general.quantization_version", 2);
  w.set_alignment(static_cast<uint32_t>(GgufFile::kDefaultAlignment));
  u32(a + "context_length", s.context_length);
  u32(a + "embedding_length", s.hidden_size);
  u32(a + "block_count", s.num_layers);
  u32(a + "feed_forward_length", s.ffn_size);
  u32(a + "attention.head_count", s.num_heads);
  u32(a + "attention.head_count_kv", s.num_kv_heads);
  if (s.resolved_head_dim() != s.hidden_size / s.num_heads) {
    u32(a + "attention.key_length", s.resolved_head_dim());
    u32(a + "attention.value_length", s.resolved_head_dim());
  }
  w.set_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(s.rms_eps));
  w.set_f32(a + "rope.freq_base", static_cast<float>(s.rope_freq_base));
  u32(a + "rope.dimension_count", s.resolved_head_dim());
  u32(a + "vocab_size", vocab);
}

// Fills one tensor: rows are generated in parallel, each thread converting its rows into the
// storage type through a per-thread F32 row buffer.
void fill_tensor(ThreadPool& pool, const TensorPlan& t, uint64_t key, uint8_t* dst) {
  const int64_t cols = t.shape[0];
  int64_t rows = 1;
  for (size_t d = 1; d < t.shape.size(); ++d) rows *= t.shape[d];
  const size_t bytes_per_row = row_bytes(t.type, cols);
  // Enough rows per task that thread hand-off stays cheap next to the work.
  const int64_t grain = std::max<int64_t>(1, 16384 / cols);
  pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end, int) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = begin; r < end; ++r) {
          if (t.init == Init::kOnes) {
            std::fill(row.begin(), row.end(), 1.0f);
          } else {
            normal_fill(key, r * cols, (r + 1) * cols, kWeightStd, row.data());
          }
          quantize_row(t.type, row.data(), dst + static_cast<size_t>(r) * bytes_per_row, cols);
        }
      },
      grain);
}

}  // namespace

SyntheticModelInfo write_synthetic_model(const SyntheticShape& shape, const GgufFile& vocab_from,
                                         DType type, uint64_t seed, const std::string& out_path,
                                         ThreadPool& pool, const GgufWriter::Progress& progress) {
  shape.validate(shape.name);
  if (!can_quantize(type)) fail("synth: cannot store weights as {}", dtype_name(type));
  const GgufValue* tokens = vocab_from.find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->is_array() || tokens->as_array().empty())
    fail("{}: no tokenizer.ggml.tokens array to take the vocabulary from", vocab_from.path());
  const auto vocab = static_cast<int64_t>(tokens->as_array().size());

  GgufWriter w;
  set_model_metadata(w, shape, vocab, type);
  for (const auto& [key, value] : vocab_from.metadata())
    if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);

  const auto plans = plan_tensors(shape, vocab, type);
  SyntheticModelInfo info;
  info.num_tensors = plans.size();
  for (const auto& t : plans) {
    const uint64_t key = tensor_key(seed, t.name);
    w.add_tensor(t.name, t.shape, t.type,
                 [&pool, &t, key](uint8_t* dst, size_t) { fill_tensor(pool, t, key, dst); });
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    info.num_parameters += static_cast<uint64_t>(n);
  }
  w.write(out_path, progress);
  return info;
}

}  // namespace pareto
