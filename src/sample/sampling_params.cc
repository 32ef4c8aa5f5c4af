#include "sample/sampling_params.h"

#include <cmath>

#include "base/error.h"

namespace pareto {

void SamplingParams::validate() const {
  // Comparisons are written so that NaN fails them.
  if (!(temperature >= 0.0f) || std::isinf(temperature)) {
    fail("sampling params: temperature must be a finite number >= 0 (got {})", temperature);
  }
  if (top_k < -1) fail("sampling params: top_k must be >= 1, or 0 / -1 for off (got {})", top_k);
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    fail("sampling params: top_p must be in (0, 1] (got {})", top_p);
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    fail("sampling params: min_p must be in [0, 1] (got {})", min_p);
  }
  if (!(repetition_penalty > 0.0f) || std::isinf(repetition_penalty)) {
    fail("sampling params: repetition_penalty must be a finite number > 0 (got {})",
         repetition_penalty);
  }
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) {
    fail("sampling params: presence_penalty must be in [-2, 2] (got {})", presence_penalty);
  }
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) {
    fail("sampling params: frequency_penalty must be in [-2, 2] (got {})", frequency_penalty);
  }
  if (logprobs < -1) {
    fail("sampling params: logprobs must be >= 0, or -1 for off (got {})", logprobs);
  }
}

}  // namespace pareto
