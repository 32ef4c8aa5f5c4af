// Per-request sampling settings, with the defaults and meanings of the OpenAI / vLLM APIs.
// Every "off" value leaves the distribution untouched, so a default SamplingParams samples from
// the model's plain softmax.
#pragma once

#include <cstdint>
#include <optional>

namespace pareto {

struct SamplingParams {
  // Divides the logits; 0 means greedy (argmax, ties to the lowest token id).
  float temperature = 1.0f;
  // Keep only the k most likely tokens; 0 or -1 = off.
  int32_t top_k = 0;
  // Keep the smallest set of most likely tokens whose probability sums to >= top_p; 1 = off.
  float top_p = 1.0f;
  // Keep tokens whose probability is >= min_p * (probability of the most likely token); 0 = off.
  float min_p = 0.0f;
  // CTRL / Hugging Face style, over tokens seen in prompt + output: a positive logit is divided
  // by it, a negative one multiplied, once per distinct token; 1 = off.
  float repetition_penalty = 1.0f;
  // OpenAI style, over generated tokens only: logit -= presence * (count > 0) + frequency * count.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // Same seed, same params, same logits -> same tokens, on every machine. Absent = a fresh seed
  // from std::random_device.
  std::optional<uint64_t> seed;
  // How many top (token, logprob) pairs to return with each token: -1 = no logprobs at all,
  // 0 = only the chosen token's logprob.
  int32_t logprobs = -1;

  bool is_greedy() const { return temperature == 0.0f; }

  // Throws pareto::Error naming the first field that is out of range and its value.
  void validate() const;
};

}  // namespace pareto
