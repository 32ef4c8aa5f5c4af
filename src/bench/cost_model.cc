#include "bench/cost_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "base/error.h"
#include "bench/model_bench.h"
#include "model/model.h"

namespace pareto::bench {

ModelShape model_shape(const Model& model, double kv_elem_bytes, int64_t block_size) {
  const ModelConfig& c = model.config();
  ModelShape s;
  s.name = c.name.empty() ? std::filesystem::path(model.gguf().path()).filename().string() : c.name;
  s.num_layers = c.num_layers;
  s.q_size = c.q_size();
  s.kv_size = c.kv_size();
  s.context_length = c.context_length;
  s.weight_bytes = static_cast<double>(model.weight_bytes());
  s.weight_params = static_cast<double>(weight_parameter_count(model));
  s.output_params = static_cast<double>(output_parameter_count(model));
  s.kv_elem_bytes = kv_elem_bytes;
  s.block_size = block_size;
  // The dtype holding most matrix elements decides which peak applies (a Q8_0 model may keep
  // a Q6_K output matrix; the bulk is what counts).
  std::map<DType, int64_t> elems;
  for (const GgufTensorInfo& t : model.gguf().tensors())
    if (t.shape.size() >= 2) elems[t.type] += t.num_elements();
  DType bulk = DType::F32;
  int64_t most = -1;
  for (const auto& [type, n] : elems)
    if (n > most) bulk = type, most = n;
  switch (bulk) {
    case DType::F32:
      s.compute_dtype = "f32";
      break;
    case DType::F16:
      s.compute_dtype = "f16";
      break;
    case DType::BF16:
      s.compute_dtype = "bf16";
      break;
    default:
      s.compute_dtype = "quantized";
      break;
  }
  return s;
}

namespace {

// Time of a phase that moves `bytes` and computes `flops`: whichever roof is lower binds.
double roofline_s(double bytes, double flops, double bytes_s, double flops_s) {
  return std::max(bytes / bytes_s, flops / flops_s);
}

}  // namespace

PlanResult plan(const ModelShape& m, const HardwareSpec& hw, const PlanInputs& in) {
  if (in.context_len < 1) fail("plan: --context must be >= 1, got {}", in.context_len);
  if (in.output_len < 1) fail("plan: --output-len must be >= 1, got {}", in.output_len);
  if (in.users < 1) fail("plan: --users must be >= 1, got {}", in.users);
  if (in.replicas < 1) fail("plan: replicas must be >= 1, got {}", in.replicas);
  if (in.max_num_seqs < 0) fail("plan: max_num_seqs must be >= 0, got {}", in.max_num_seqs);
  if (in.prefill_token_budget < 0)
    fail("plan: the prefill token budget must be >= 0, got {}", in.prefill_token_budget);
  if (m.num_layers < 1 || m.kv_size < 1 || m.q_size < 1 || m.block_size < 1 ||
      !(m.weight_params > 0) || !(m.weight_bytes > 0) || !(m.kv_elem_bytes > 0))
    fail("plan: model {} has an incomplete shape", m.name);
  const int64_t seq_tokens = in.context_len + in.output_len;
  const std::string dtype = m.compute_dtype == "quantized" ? hw.quantized_compute : m.compute_dtype;

  PlanResult r;
  // Still computed (the question may be what the hardware would do), but flagged: the engine
  // rejects such requests.
  r.exceeds_model_context = m.context_length > 0 && seq_tokens > m.context_length;
  const double L = static_cast<double>(in.context_len);
  const double N = static_cast<double>(in.output_len);
  const double R = static_cast<double>(in.replicas);
  const double layers = static_cast<double>(m.num_layers);
  const double q = static_cast<double>(m.q_size);

  // Memory: whole blocks for the final length of every resident sequence.
  r.kv_bytes_per_token = 2.0 * layers * static_cast<double>(m.kv_size) * m.kv_elem_bytes;
  const int64_t blocks = (seq_tokens + m.block_size - 1) / m.block_size;
  r.kv_bytes_per_seq = static_cast<double>(blocks * m.block_size) * r.kv_bytes_per_token;
  if (m.weight_bytes >= hw.memory_bytes)
    fail("plan: {}'s weights ({:.2f} GiB) do not fit in {}'s {:.2f} GiB", m.name,
         m.weight_bytes / (1 << 30), hw.name, hw.memory_bytes / (1 << 30));
  r.kv_memory_bytes = (hw.memory_bytes - m.weight_bytes) * (1.0 - hw.reserve_fraction);
  r.max_seqs_memory = static_cast<int64_t>(std::floor(r.kv_memory_bytes / r.kv_bytes_per_seq));
  if (r.max_seqs_memory < 1)
    fail("plan: one sequence of {} tokens needs {:.2f} GiB of KV cache; {} leaves {:.2f} GiB",
         seq_tokens, r.kv_bytes_per_seq / (1 << 30), hw.name, r.kv_memory_bytes / (1 << 30));
  r.concurrency = std::min(in.users, r.max_seqs_memory);
  if (in.max_num_seqs > 0) r.concurrency = std::min(r.concurrency, in.max_num_seqs * in.replicas);
  r.waves = (in.users + r.concurrency - 1) / r.concurrency;

  r.bandwidth_bytes_s = hw.memory_bandwidth_gb_s * 1e9 * hw.bandwidth_fraction;
  r.flops_s = hw.peak_for(dtype) * 1e12 * hw.flops_fraction;
  // One replica has 1/R of the machine.
  const double replica_bytes_s = r.bandwidth_bytes_s / R;
  const double replica_flops_s = r.flops_s / R;

  auto prefill_flops = [&](double tokens) {
    // Logits only for the last token.
    return 2.0 * (m.weight_params - m.output_params) * tokens + 2.0 * m.output_params +
           2.0 * layers * q * tokens * (tokens + 1);
  };
  r.prefill_flops = prefill_flops(L);
  r.prefill_s = roofline_s(m.weight_bytes, r.prefill_flops, replica_bytes_s, replica_flops_s);
  r.prefill_compute_bound = r.prefill_flops / replica_flops_s >= m.weight_bytes / replica_bytes_s;

  // Decode of b sequences at the mean context over the generation. With R replicas each of b/R
  // sequences on 1/R of the machine, the weights are streamed R times.
  const double ctx = L + N / 2;
  auto step_bytes = [&](double b) { return R * m.weight_bytes + b * ctx * r.kv_bytes_per_token; };
  auto step_flops = [&](double b) { return b * (2.0 * m.weight_params + 4.0 * layers * q * ctx); };
  auto step_s = [&](double b) {
    return roofline_s(step_bytes(b), step_flops(b), r.bandwidth_bytes_s, r.flops_s);
  };
  const double C = static_cast<double>(r.concurrency);
  r.decode_step_bytes = step_bytes(C);
  r.decode_step_flops = step_flops(C);
  r.decode_step_s = step_s(C);
  r.decode_compute_bound =
      r.decode_step_flops / r.flops_s >= r.decode_step_bytes / r.bandwidth_bytes_s;

  r.swap_s = 2.0 * r.kv_bytes_per_seq / (hw.host_link_gb_s * 1e9);
  r.recompute_s = roofline_s(m.weight_bytes, prefill_flops(static_cast<double>(seq_tokens)),
                             replica_bytes_s, replica_flops_s);

  // Mean time from a wave's start to a user's first token when a replica prefills `cr` prompts
  // back to back. Without a budget each prompt is its own step: (cr + 1) / 2 prefills. With a
  // budget T, user j's first token comes at the end of the step holding its prompt's last token:
  // after min(cr * L, ceil((j + 1) * L / T) * T) prompt tokens (prefill cost taken as linear in
  // tokens).
  auto mean_first_token_s = [&](int64_t cr) {
    if (in.prefill_token_budget <= 0) return (static_cast<double>(cr) + 1) / 2 * r.prefill_s;
    const int64_t budget = in.prefill_token_budget;
    double sum = 0;
    for (int64_t j = 0; j < cr; ++j) {
      const int64_t steps = ((j + 1) * in.context_len + budget - 1) / budget;
      const double tokens =
          std::min(static_cast<double>(cr) * L, static_cast<double>(steps * budget));
      sum += tokens / L * r.prefill_s;
    }
    return sum / static_cast<double>(cr);
  };

  // FCFS waves: a wave of c users prefills them (ceil(c / R) on each replica, in steps of the
  // token budget), then decodes the other N - 1 tokens of all c together. A user's first token
  // comes at the end of the prefill step that finishes its prompt; its last at the wave's end.
  double start = 0, ttft_sum = 0, tpot_sum = 0, e2e_sum = 0;
  for (int64_t w = 0; w < r.waves; ++w) {
    const int64_t c = std::min(r.concurrency, in.users - w * r.concurrency);
    const double per_replica = std::ceil(static_cast<double>(c) / R);
    const double wave = per_replica * r.prefill_s + (N - 1) * step_s(static_cast<double>(c));
    const double first = mean_first_token_s(static_cast<int64_t>(per_replica));
    ttft_sum += static_cast<double>(c) * (start + first);
    e2e_sum += static_cast<double>(c) * (start + wave);
    if (in.output_len > 1) tpot_sum += static_cast<double>(c) * (wave - first) / (N - 1);
    if (w == 0) r.wave_s = wave;
    start += wave;
  }
  const double U = static_cast<double>(in.users);
  r.total_s = start;
  r.output_tok_s = U * N / r.total_s;
  r.ttft_s = ttft_sum / U;
  r.tpot_s = tpot_sum / U;
  r.e2e_s = e2e_sum / U;

  // Time-sliced: each turn swaps a wave's contexts in (and the last wave's out) over the one
  // host link, then decodes N tokens for it.
  if (r.waves > 1) {
    for (int64_t w = 0; w < r.waves; ++w) {
      const int64_t c = std::min(r.concurrency, in.users - w * r.concurrency);
      r.sliced_round_s += static_cast<double>(c) * r.swap_s + N * step_s(static_cast<double>(c));
    }
    r.sliced_tpot_s = r.sliced_round_s / N;
    r.sliced_output_tok_s = U * N / r.sliced_round_s;
  }
  return r;
}

}  // namespace pareto::bench
