// What a client submits to the engine and what it gets back, step by step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/output_processor.h"
#include "sample/sampler.h"
#include "sample/sampling_params.h"

namespace pareto {

struct GenerationRequest {
  // The prompt as text (tokenized by the engine) or as token ids (used as is).
  std::optional<std::string> prompt_text;
  std::vector<int32_t> prompt_token_ids;
  bool add_bos = true;        // text prompts: add BOS when the tokenizer wants one
  bool parse_special = true;  // text prompts: "<|im_start|>"-style text becomes special tokens

  // Completions per request; they share the prompt's KV blocks (copy-on-write). With a seed,
  // completion i samples with seed + i.
  int32_t n = 1;
  SamplingParams sampling;
  StopConditions stop;  // stop strings/tokens, max_tokens, min_tokens, ignore_eos, ...
  // Lower = more important (scheduled first, preempted last); equal priorities are FCFS.
  int32_t priority = 0;
  // Mixed into prefix-cache hashes: requests with different salts never share cached blocks.
  uint64_t cache_salt = 0;
};

// New output of one completion since the previous RequestOutput.
struct CompletionDelta {
  int32_t index = 0;                   // which of the n completions
  std::vector<int32_t> token_ids;      // tokens sampled this step (including a final stop token)
  std::string text;                    // text that became final this step
  std::vector<SampledToken> logprobs;  // per token, when sampling.logprobs >= 0
  std::optional<FinishReason> finish_reason;
  std::variant<std::monostate, std::string, int32_t> stop_reason;
};

// Why a request failed, for callers that map failures to statuses (the server: 400, 503, 500).
enum class RequestErrorKind {
  kInvalidRequest,  // the request can never run: empty or too long prompt, bad parameters
  kUnavailable,     // the engine is shutting down: retry elsewhere or later
  kInternal,        // the engine failed (a step threw): not the request's fault
};

struct RequestOutput {
  int64_t request_id = 0;
  std::vector<CompletionDelta> completions;  // only completions that changed
  bool finished = false;                     // all n completions are done: the last output
  std::optional<std::string> error;          // rejected (e.g. prompt too long); finished too
  RequestErrorKind error_kind = RequestErrorKind::kInvalidRequest;  // meaningful with error
  int64_t num_prompt_tokens = 0;
  int64_t num_cached_tokens = 0;  // prompt tokens found in the prefix cache (first admission)
};

}  // namespace pareto
