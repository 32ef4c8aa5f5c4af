#include "bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include "base/error.h"
#include "runner/single_sequence_runner.h"

namespace pareto::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Fixed ids spread over the vocabulary (a multiplicative hash of the position); never 0, which
// is often <unk> or padding.
std::vector<int32_t> bench_tokens(int64_t count, int64_t vocab, uint64_t salt) {
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t h = (static_cast<uint64_t>(i) + salt) * 0x9e3779b97f4a7c15ull;
    ids[static_cast<size_t>(i)] = static_cast<int32_t>(1 + (h >> 33) % (vocab - 1));
  }
  return ids;
}

}  // namespace

uint64_t weight_parameter_count(const Model& model) {
  uint64_t n = 0;
  for (const GgufTensorInfo& t : model.gguf().tensors()) {
    if (t.shape.size() < 2) continue;
    if (t.name == "token_embd.weight" && !model.config().tied_embeddings) continue;
    n += static_cast<uint64_t>(t.num_elements());
  }
  return n;
}

uint64_t output_parameter_count(const Model& model) {
  const std::string name = model.config().tied_embeddings ? "token_embd.weight" : "output.weight";
  for (const GgufTensorInfo& t : model.gguf().tensors())
    if (t.name == name) return static_cast<uint64_t>(t.num_elements());
  return 0;
}

ModelBenchResult run_model_bench(Model& model, const ModelBenchOptions& o, ThreadPool& pool,
                                 const ModelBenchProgress& progress) {
  const ModelConfig& c = model.config();
  if (o.prompt_tokens < 0 || o.gen_tokens < 0)
    fail("bench: token counts must be >= 0 (p {}, n {})", o.prompt_tokens, o.gen_tokens);
  if (o.prompt_tokens + o.gen_tokens == 0) fail("bench: nothing to run (p and n are both 0)");
  if (o.prompt_tokens + o.gen_tokens > c.context_length)
    fail("bench: p + n = {} exceeds the model's context length {}", o.prompt_tokens + o.gen_tokens,
         c.context_length);
  if (o.reps < 1) fail("bench: reps must be >= 1, got {}", o.reps);
  if (o.ubatch < 0) fail("bench: ubatch must be >= 0, got {}", o.ubatch);
  if (o.kv_dtype != DType::F16 && o.kv_dtype != DType::F32)
    fail("bench: the KV cache must be f16 or f32, not {}", dtype_name(o.kv_dtype));
  if (c.vocab_size < 2) fail("bench: the model's vocabulary has {} tokens", c.vocab_size);

  ModelBenchResult r;
  r.model =
      c.name.empty() ? std::filesystem::path(model.gguf().path()).filename().string() : c.name;
  r.threads = pool.num_threads();
  r.prompt_tokens = o.prompt_tokens;
  r.gen_tokens = o.gen_tokens;
  r.ubatch = o.ubatch;
  r.reps = o.reps;
  r.kv_dtype = o.kv_dtype;
  r.weight_bytes = model.weight_bytes();
  r.weight_params = weight_parameter_count(model);
  r.output_params = output_parameter_count(model);

  const std::vector<int32_t> prompt = bench_tokens(o.prompt_tokens, c.vocab_size, 0);
  const std::vector<int32_t> gen = bench_tokens(o.gen_tokens, c.vocab_size, 1u << 20);
  const int64_t chunk = o.ubatch > 0 ? o.ubatch : std::max<int64_t>(o.prompt_tokens, 1);
  SingleSequenceRunner runner(model, o.prompt_tokens + o.gen_tokens, o.kv_dtype);
  std::vector<float> logits;

  // Warm-up: one token pulls every weight page in from the file and wakes the workers.
  runner.forward({gen.empty() ? prompt.data() : gen.data(), 1}, false, logits, pool);

  for (int rep = 0; rep < o.reps; ++rep) {
    runner.reset();
    if (o.prompt_tokens > 0) {
      if (progress) progress(rep, "prefill");
      const auto start = std::chrono::steady_clock::now();
      for (int64_t pos = 0; pos < o.prompt_tokens; pos += chunk) {
        const int64_t len = std::min(chunk, o.prompt_tokens - pos);
        runner.forward({prompt.data() + pos, static_cast<size_t>(len)}, false, logits, pool);
      }
      r.prefill_seconds.push_back(seconds_since(start));
    }
    if (o.gen_tokens > 0) {
      if (progress) progress(rep, "decode");
      const auto start = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < o.gen_tokens; ++i)
        runner.forward({gen.data() + i, 1}, false, logits, pool);
      r.decode_seconds.push_back(seconds_since(start));
    }
  }

  const double params = static_cast<double>(r.weight_params);
  if (o.prompt_tokens > 0) {
    const double p = static_cast<double>(o.prompt_tokens);
    const double secs = median(r.prefill_seconds);
    r.prefill_tok_s = p / secs;
    // QK^T and PV over positions 0..t: 2 * 2 * q_size FLOPs per position per layer.
    const double attention = 2.0 * static_cast<double>(c.num_layers * c.q_size()) * p * (p + 1);
    // Logits only for each chunk's last token.
    const double out = static_cast<double>(r.output_params);
    const auto chunks = static_cast<double>((o.prompt_tokens + chunk - 1) / chunk);
    r.prefill_gflops = (2.0 * (params - out) * p + 2.0 * out * chunks + attention) / secs / 1e9;
  }
  if (o.gen_tokens > 0) {
    r.decode_tok_s = static_cast<double>(o.gen_tokens) / median(r.decode_seconds);
    r.weight_gb_s = static_cast<double>(r.weight_bytes) * r.decode_tok_s / 1e9;
    r.decode_gflops = 2.0 * params * r.decode_tok_s / 1e9;
  }
  if (o.peak_gflops > 0) {
    r.peak_gflops = o.peak_gflops;
    r.peak_fraction = r.prefill_gflops / o.peak_gflops;
  }
  if (o.roofline_gb_s > 0) {
    r.roofline_gb_s = o.roofline_gb_s;
    r.roofline_fraction = r.weight_gb_s / o.roofline_gb_s;
  }
  return r;
}

}  // namespace pareto::bench
