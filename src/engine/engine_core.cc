#include "engine/engine_core.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "base/error.h"

namespace pareto {

struct EngineCore::RequestState {
  int64_t request_id = 0;
  GenerationRequest request;
  std::vector<int32_t> prompt;
  std::vector<int64_t> seq_ids;           // by completion index; -1 until forked
  std::vector<int32_t> pending_children;  // completion indices forked after the first sample
  int32_t num_unfinished = 0;
  int64_t num_cached_tokens = -1;  // recorded at the first step that runs the request
};

struct EngineCore::SequenceState {
  int64_t seq_id = 0;
  int32_t index = 0;
  RequestState* request = nullptr;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<SequenceOutputProcessor> output;
  std::vector<int32_t> output_tokens;
};

int64_t resolve_kv_cache_bytes(const Model& model, const EngineConfig& config) {
  if (config.kv_cache_memory > 0) return config.kv_cache_memory;
  const ModelConfig& mc = model.config();
  int64_t max_len = config.max_model_len > 0 ? config.max_model_len : mc.context_length;
  if (max_len <= 0) max_len = 2048;
  const int64_t block_size = std::max<int64_t>(1, config.block_size);
  const auto block_bytes =
      static_cast<int64_t>(KvArena::bytes_per_block(mc, block_size, config.kv_cache_dtype));
  const int64_t blocks_per_seq = (max_len + block_size - 1) / block_size;
  const int64_t useful = std::max<int64_t>(1, config.max_num_seqs) * blocks_per_seq * block_bytes;
  return default_kv_cache_bytes(static_cast<int64_t>(model.weight_bytes()), useful,
                                blocks_per_seq * block_bytes);
}

EngineCore::EngineCore(Model& model, const Tokenizer& tokenizer, const EngineConfig& config)
    : model_(model),
      tokenizer_(tokenizer),
      config_(config),
      pool_(config.num_threads, config.cpu_affinity) {
  const ModelConfig& mc = model.config();
  if (config_.block_size <= 0 || config_.block_size > 1024)
    fail("--block-size must be in 1..1024, got {}", config_.block_size);
  if (config_.kv_cache_dtype != DType::F16 && config_.kv_cache_dtype != DType::F32)
    fail("--kv-cache-dtype must be f16 or f32");
  if (config_.max_model_len < 0) fail("--max-model-len cannot be negative");
  if (config_.swap_space < 0) fail("--swap-space cannot be negative");
  int64_t max_len = config_.max_model_len > 0 ? config_.max_model_len : mc.context_length;
  if (max_len <= 0) max_len = 2048;

  const auto block_bytes = static_cast<int64_t>(
      KvArena::bytes_per_block(mc, config_.block_size, config_.kv_cache_dtype));
  const int64_t kv_bytes = resolve_kv_cache_bytes(model, config_);
  const int64_t num_blocks = kv_bytes / block_bytes;
  if (num_blocks < 1)
    fail("a KV cache of {} bytes cannot hold one block ({} bytes for {} tokens)", kv_bytes,
         block_bytes, config_.block_size);
  const int64_t num_host_blocks = config_.swap_space / block_bytes;
  if (config_.preemption_mode == PreemptionMode::kSwap && num_host_blocks == 0)
    spdlog::warn("preemption by swap needs --swap-space; preempted requests will be recomputed");

  arena_ = std::make_unique<KvArena>(mc, num_blocks, config_.block_size, config_.kv_cache_dtype);
  if (num_host_blocks > 0)
    host_ = std::make_unique<HostKvPool>(num_host_blocks, arena_->block_bytes());
  KvCacheConfig kc;
  kc.num_blocks = num_blocks;
  kc.block_size = config_.block_size;
  kc.num_host_blocks = num_host_blocks;
  kc.enable_prefix_caching = config_.enable_prefix_caching;
  kv_ = std::make_unique<KvCacheManager>(kc);
  // One sequence must always fit in the whole cache, or it could never finish.
  const int64_t capacity = num_blocks * config_.block_size;
  config_.max_model_len = std::min(max_len, capacity);
  SchedulerConfig sc;
  sc.max_num_batched_tokens = config_.max_num_batched_tokens;
  sc.max_num_seqs = config_.max_num_seqs;
  sc.max_model_len = config_.max_model_len;
  sc.preemption_mode = config_.preemption_mode;
  scheduler_ = std::make_unique<Scheduler>(sc, *kv_);
  runner_ = std::make_unique<ModelRunner>(model, *arena_, host_.get(), pool_);
  spdlog::info(
      "KV cache: {} blocks of {} tokens = {} tokens ({:.1f} MiB, {}); swap space {} blocks; "
      "prefix caching {}; max model len {}; {} threads",
      num_blocks, config_.block_size, capacity,
      static_cast<double>(arena_->num_bytes()) / (1 << 20), dtype_name(config_.kv_cache_dtype),
      num_host_blocks, config_.enable_prefix_caching ? "on" : "off", config_.max_model_len,
      pool_.num_threads());
}

EngineCore::~EngineCore() = default;

void EngineCore::reject(int64_t request_id, int64_t num_prompt_tokens, const std::string& message) {
  RequestOutput out;
  out.request_id = request_id;
  out.finished = true;
  out.error = message;
  out.num_prompt_tokens = num_prompt_tokens;
  pending_outputs_.push_back(std::move(out));
  ++counters_.num_requests_rejected;
  ++counters_.num_requests_finished;
}

void EngineCore::add_sequence_state(RequestState& req, int32_t index, int64_t seq_id) {
  auto seq = std::make_unique<SequenceState>();
  seq->seq_id = seq_id;
  seq->index = index;
  seq->request = &req;
  SamplingParams params = req.request.sampling;
  if (params.seed) params.seed = *params.seed + static_cast<uint64_t>(index);
  seq->sampler =
      std::make_unique<Sampler>(params, static_cast<int32_t>(model_.config().vocab_size));
  seq->output = std::make_unique<SequenceOutputProcessor>(tokenizer_, req.prompt, req.request.stop);
  req.seq_ids[static_cast<size_t>(index)] = seq_id;
  sequences_[seq_id] = std::move(seq);
}

void EngineCore::add_request(int64_t request_id, GenerationRequest request) {
  ++counters_.num_requests_added;
  if (requests_.count(request_id)) {
    reject(request_id, 0, fmt::format("request id {} is already in use", request_id));
    return;
  }
  std::vector<int32_t> prompt;
  try {
    request.sampling.validate();
    request.stop.validate();
    if (request.n < 1 || request.n > 1024) fail("n must be in 1..1024, got {}", request.n);
    if (request.prompt_text)
      prompt =
          tokenizer_.encode(*request.prompt_text, request.add_bos && tokenizer_.add_bos_default(),
                            request.parse_special);
    else
      prompt = request.prompt_token_ids;
    if (prompt.empty()) fail("the prompt is empty");
    for (int32_t t : prompt)
      if (t < 0 || t >= model_.config().vocab_size)
        fail("prompt token id {} is outside the vocabulary of {}", t, model_.config().vocab_size);
  } catch (const std::exception& e) {
    reject(request_id, static_cast<int64_t>(prompt.size()), e.what());
    return;
  }
  const auto num_prompt = static_cast<int64_t>(prompt.size());
  // Saturating: max_tokens may be "as many as fit" (huge).
  const int64_t max_total =
      request.stop.max_tokens >= config_.max_model_len
          ? config_.max_model_len
          : std::min(config_.max_model_len, num_prompt + request.stop.max_tokens);
  if (auto err = scheduler_->admission_error(num_prompt, max_total)) {
    reject(request_id, num_prompt, *err);
    return;
  }

  counters_.num_prompt_tokens += num_prompt;
  auto req = std::make_unique<RequestState>();
  req->request_id = request_id;
  req->prompt = std::move(prompt);
  req->request = std::move(request);
  req->request.prompt_token_ids.clear();
  req->seq_ids.assign(static_cast<size_t>(req->request.n), -1);
  req->num_unfinished = req->request.n;
  RequestState& r = *req;
  requests_[request_id] = std::move(req);

  if (r.request.stop.max_tokens == 0) {  // nothing to generate: done without running
    RequestOutput out;
    out.request_id = request_id;
    out.num_prompt_tokens = num_prompt;
    out.finished = true;
    for (int32_t i = 0; i < r.request.n; ++i) {
      CompletionDelta d;
      d.index = i;
      d.finish_reason = FinishReason::kLength;
      out.completions.push_back(std::move(d));
    }
    pending_outputs_.push_back(std::move(out));
    ++counters_.num_requests_finished;
    requests_.erase(request_id);
    return;
  }

  const int64_t seq_id = next_seq_id_++;
  add_sequence_state(r, 0, seq_id);
  for (int32_t i = 1; i < r.request.n; ++i) r.pending_children.push_back(i);
  Sequence seq;
  seq.seq_id = seq_id;
  seq.priority = r.request.priority;
  seq.cache_key = r.request.cache_salt;
  seq.token_ids = r.prompt;
  seq.num_prompt_tokens = num_prompt;
  scheduler_->add_sequence(std::move(seq));
}

void EngineCore::abort_request(int64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  RequestState& req = *it->second;
  RequestOutput out;
  out.request_id = request_id;
  out.num_prompt_tokens = static_cast<int64_t>(req.prompt.size());
  out.num_cached_tokens = std::max<int64_t>(0, req.num_cached_tokens);
  for (size_t i = 0; i < req.seq_ids.size(); ++i) {
    const int64_t seq_id = req.seq_ids[i];
    if (seq_id < 0) {  // a completion that was never forked
      CompletionDelta d;
      d.index = static_cast<int32_t>(i);
      d.finish_reason = FinishReason::kAbort;
      out.completions.push_back(std::move(d));
      continue;
    }
    auto sit = sequences_.find(seq_id);
    if (sit == sequences_.end()) continue;  // already finished
    SequenceState& seq = *sit->second;
    const OutputDelta delta = seq.output->finish(FinishReason::kAbort);
    CompletionDelta d;
    d.index = seq.index;
    d.text = delta.text;
    d.finish_reason = FinishReason::kAbort;
    out.completions.push_back(std::move(d));
    scheduler_->finish_sequence(seq_id);
    sequences_.erase(sit);
  }
  out.finished = true;
  pending_outputs_.push_back(std::move(out));
  ++counters_.num_requests_finished;
  requests_.erase(it);
}

void EngineCore::finish_sequence(SequenceState& seq, RequestOutput& out) {
  RequestState& req = *seq.request;
  scheduler_->finish_sequence(seq.seq_id);
  if (--req.num_unfinished == 0) out.finished = true;
  sequences_.erase(seq.seq_id);  // destroys seq
}

void EngineCore::sample_and_apply(SequenceState& seq, std::span<const float> logits,
                                  RequestOutput& out) {
  RequestState& req = *seq.request;
  const StopConditions& stop = req.request.stop;
  if (static_cast<int64_t>(seq.output_tokens.size()) < stop.min_tokens) {
    // Before min_tokens, the tokens that would stop the sequence cannot be sampled at all (as
    // vLLM does), rather than being sampled and ignored.
    masked_logits_.assign(logits.begin(), logits.end());
    const auto mask = [&](int32_t id) {
      if (id >= 0 && static_cast<size_t>(id) < masked_logits_.size())
        masked_logits_[static_cast<size_t>(id)] = -std::numeric_limits<float>::infinity();
    };
    if (!stop.ignore_eos)
      for (int32_t id : tokenizer_.eog_ids()) mask(id);
    for (int32_t id : stop.stop_token_ids) mask(id);
    logits = masked_logits_;
  }
  const SampledToken tok = seq.sampler->sample(logits, req.prompt, seq.output_tokens, workspace_);
  seq.output_tokens.push_back(tok.token_id);
  ++counters_.num_generated_tokens;
  OutputDelta delta = seq.output->feed(tok.token_id);
  const int64_t length = static_cast<int64_t>(req.prompt.size() + seq.output_tokens.size());
  if (!delta.finished && length >= config_.max_model_len) {
    OutputDelta rest = seq.output->finish(FinishReason::kLength);
    delta.text += rest.text;
    delta.finished = true;
    delta.finish_reason = FinishReason::kLength;
  }
  CompletionDelta* d = nullptr;
  for (auto& c : out.completions)
    if (c.index == seq.index) d = &c;
  if (!d) {
    out.completions.push_back({});
    d = &out.completions.back();
    d->index = seq.index;
  }
  d->token_ids.push_back(tok.token_id);
  d->text += delta.text;
  if (req.request.sampling.logprobs >= 0) d->logprobs.push_back(tok);
  if (delta.finished) {
    d->finish_reason = delta.finish_reason;
    d->stop_reason = delta.stop_reason;
    finish_sequence(seq, out);
  } else {
    scheduler_->append_token(seq.seq_id, tok.token_id);
  }
}

std::vector<RequestOutput> EngineCore::step(const OutputSink& sink) {
  std::vector<RequestOutput> outputs = std::move(pending_outputs_);
  pending_outputs_.clear();
  if (sequences_.empty()) return outputs;

  const SchedulerOutput plan = scheduler_->schedule();
  ++counters_.num_steps;
  counters_.num_computed_tokens += plan.num_batched_tokens;
  const StepResult& result = runner_->execute(plan);
  counters_.peak_used_kv_blocks =
      std::max(counters_.peak_used_kv_blocks, kv_->stats().num_used_blocks);
  {
    const SchedulerStats ss = scheduler_->stats();
    counters_.sum_kv_tokens += ss.num_kv_tokens;
    counters_.sum_kv_slots += ss.num_kv_slots;
  }

  // Prefix-cache hits of each request's first run.
  for (const ScheduledSequence& s : plan.sequences) {
    auto it = sequences_.find(s.seq_id);
    if (it == sequences_.end()) continue;
    RequestState& req = *it->second->request;
    if (req.num_cached_tokens < 0) {
      const Sequence* seq = scheduler_->find(s.seq_id);
      req.num_cached_tokens = seq ? seq->num_cached_tokens : 0;
    }
  }

  std::unordered_map<int64_t, size_t> out_idx;  // request id -> index in outputs
  auto output_for = [&](RequestState& req) -> RequestOutput& {
    auto [it, inserted] = out_idx.try_emplace(req.request_id, outputs.size());
    if (inserted) {
      outputs.push_back({});
      outputs.back().request_id = req.request_id;
      outputs.back().num_prompt_tokens = static_cast<int64_t>(req.prompt.size());
      outputs.back().num_cached_tokens = std::max<int64_t>(0, req.num_cached_tokens);
    }
    return outputs[it->second];
  };

  // A request whose final output leaves this step is no longer the core's.
  auto count_if_finished = [&](const RequestOutput& out) {
    if (out.finished && !out.error && requests_.erase(out.request_id))
      ++counters_.num_requests_finished;
  };

  // With a sink, a request's output leaves after its last sequence in this batch.
  std::unordered_map<int64_t, size_t> last_index;  // request id -> index in result.seq_ids
  std::vector<bool> emitted;
  if (sink) {
    for (size_t i = 0; i < result.seq_ids.size(); ++i) {
      auto it = sequences_.find(result.seq_ids[i]);
      if (it != sequences_.end()) last_index[it->second->request->request_id] = i;
    }
  }

  const int64_t vocab = model_.config().vocab_size;
  for (size_t i = 0; i < result.seq_ids.size(); ++i) {
    auto it = sequences_.find(result.seq_ids[i]);
    if (it == sequences_.end()) continue;
    SequenceState& seq = *it->second;
    RequestState& req = *seq.request;
    const int64_t request_id = req.request_id;
    RequestOutput& out = output_for(req);
    const std::span<const float> row = result.row(i, vocab);
    // The other n-1 completions start here, sharing the prompt's blocks.
    std::vector<SequenceState*> children;
    for (int32_t index : req.pending_children) {
      const int64_t child_id = next_seq_id_++;
      scheduler_->fork_sequence(seq.seq_id, child_id);
      add_sequence_state(req, index, child_id);
      children.push_back(sequences_.at(child_id).get());
    }
    req.pending_children.clear();
    sample_and_apply(seq, row, out);
    for (SequenceState* child : children) sample_and_apply(*child, row, out);
    if (sink && last_index.at(request_id) == i) {
      const size_t idx = out_idx.at(request_id);
      RequestOutput& done = outputs[idx];
      count_if_finished(done);
      emitted.resize(outputs.size());
      emitted[idx] = true;
      sink(std::move(done));
    }
  }
  if (!sink) {
    for (const RequestOutput& out : outputs) count_if_finished(out);
    return outputs;
  }
  emitted.resize(outputs.size());
  std::vector<RequestOutput> rest;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (emitted[i]) continue;
    count_if_finished(outputs[i]);
    rest.push_back(std::move(outputs[i]));
  }
  return rest;
}

bool EngineCore::has_unfinished() const {
  return !requests_.empty() || !pending_outputs_.empty();
}

EngineStats EngineCore::stats() const {
  EngineStats s = counters_;
  const SchedulerStats ss = scheduler_->stats();
  s.num_waiting = ss.num_waiting;
  s.num_running = ss.num_running;
  s.num_swapped = ss.num_swapped;
  s.num_preemptions = ss.num_preemptions;
  s.num_kv_tokens = ss.num_kv_tokens;
  s.num_kv_slots = ss.num_kv_slots;
  const KvCacheStats ks = kv_->stats();
  s.prefix_query_tokens = ks.prefix_query_tokens;
  s.prefix_hit_tokens = ks.prefix_hit_tokens;
  s.num_kv_blocks = ks.num_blocks;
  s.num_used_kv_blocks = ks.num_used_blocks;
  s.kv_capacity_tokens = ks.num_blocks * config_.block_size;
  s.max_model_len = config_.max_model_len;
  return s;
}

}  // namespace pareto
