#include "sample/sampling_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "base/error.h"

namespace pareto {
namespace {

// Runs validate() on defaults changed by `edit` and returns the error message ("" if none).
std::string validation_error(const std::function<void(SamplingParams&)>& edit) {
  SamplingParams params;
  edit(params);
  try {
    params.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SamplingParams, DefaultsAreValidAndOff) {
  SamplingParams params;
  EXPECT_NO_THROW(params.validate());
  EXPECT_EQ(params.temperature, 1.0f);
  EXPECT_EQ(params.top_k, 0);
  EXPECT_EQ(params.top_p, 1.0f);
  EXPECT_EQ(params.min_p, 0.0f);
  EXPECT_EQ(params.repetition_penalty, 1.0f);
  EXPECT_EQ(params.presence_penalty, 0.0f);
  EXPECT_EQ(params.frequency_penalty, 0.0f);
  EXPECT_FALSE(params.seed.has_value());
  EXPECT_EQ(params.logprobs, -1);
  EXPECT_FALSE(params.is_greedy());
}

TEST(SamplingParams, AcceptsBoundaryValues) {
  for (const auto& edit : std::vector<std::function<void(SamplingParams&)>>{
           [](SamplingParams& p) { p.temperature = 0.0f; },
           [](SamplingParams& p) { p.temperature = 100.0f; },
           [](SamplingParams& p) { p.top_k = -1; },
           [](SamplingParams& p) { p.top_k = 1; },
           [](SamplingParams& p) { p.top_p = 1e-6f; },
           [](SamplingParams& p) { p.min_p = 1.0f; },
           [](SamplingParams& p) { p.repetition_penalty = 0.5f; },
           [](SamplingParams& p) { p.presence_penalty = -2.0f; },
           [](SamplingParams& p) { p.frequency_penalty = 2.0f; },
           [](SamplingParams& p) { p.logprobs = 0; },
           [](SamplingParams& p) { p.seed = 0; },
       }) {
    EXPECT_EQ(validation_error(edit), "");
  }
}

TEST(SamplingParams, RejectsOutOfRangeValuesNamingTheField) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    std::function<void(SamplingParams&)> edit;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](SamplingParams& p) { p.temperature = -0.1f; }, "temperature must be"},
      {[&](SamplingParams& p) { p.temperature = nan; }, "temperature must be"},
      {[&](SamplingParams& p) { p.temperature = inf; }, "temperature must be"},
      {[](SamplingParams& p) { p.top_k = -2; }, "top_k must be"},
      {[](SamplingParams& p) { p.top_p = 0.0f; }, "top_p must be in (0, 1] (got 0)"},
      {[](SamplingParams& p) { p.top_p = 1.5f; }, "top_p must be in (0, 1] (got 1.5)"},
      {[&](SamplingParams& p) { p.top_p = nan; }, "top_p must be"},
      {[](SamplingParams& p) { p.min_p = -0.1f; }, "min_p must be in [0, 1]"},
      {[](SamplingParams& p) { p.min_p = 1.01f; }, "min_p must be in [0, 1]"},
      {[](SamplingParams& p) { p.repetition_penalty = 0.0f; }, "repetition_penalty must be"},
      {[](SamplingParams& p) { p.repetition_penalty = -1.0f; }, "repetition_penalty must be"},
      {[&](SamplingParams& p) { p.repetition_penalty = inf; }, "repetition_penalty must be"},
      {[](SamplingParams& p) { p.presence_penalty = 2.5f; }, "presence_penalty must be"},
      {[&](SamplingParams& p) { p.presence_penalty = nan; }, "presence_penalty must be"},
      {[](SamplingParams& p) { p.frequency_penalty = -3.0f; }, "frequency_penalty must be"},
      {[](SamplingParams& p) { p.logprobs = -2; }, "logprobs must be"},
  };
  for (const Case& c : cases) {
    const std::string message = validation_error(c.edit);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << "expected '" << c.expected << "' in '" << message << "'";
    EXPECT_EQ(message.rfind("sampling params: ", 0), 0u) << message;
  }
}

}  // namespace
}  // namespace pareto
