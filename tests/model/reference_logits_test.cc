// Golden tests: our forward pass against llama.cpp's logits and greedy continuations
// (../shared/reference/stories260K and ../shared/reference/synthetic).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "runner/single_sequence_runner.h"
#include "support/test_paths.h"

namespace pareto {
namespace {

struct ReferenceCase {
  std::string dir;
  std::string file;
};

std::vector<ReferenceCase> all_cases() {
  std::vector<ReferenceCase> cases;
  for (const char* dir : {"stories260K", "synthetic"}) {
    const std::string path = test::reference_dir() + "/" + dir;
    if (!std::filesystem::exists(path)) continue;
    for (const auto& e : std::filesystem::directory_iterator(path))
      if (e.path().extension() == ".json") cases.push_back({dir, e.path().filename().string()});
  }
  std::sort(cases.begin(), cases.end(), [](auto& a, auto& b) { return a.file < b.file; });
  return cases;
}

int32_t argmax(const float* v, int64_t n) {
  return static_cast<int32_t>(std::max_element(v, v + n) - v);
}

class ReferenceLogits : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(ReferenceLogits, MatchesReference) {
  const ReferenceCase& rc = GetParam();
  const auto j =
      nlohmann::json::parse(test::read_file(test::reference_dir() + "/" + rc.dir + "/" + rc.file));
  const std::string model_file = j["model"];
  const std::string model_path = rc.dir == "stories260K"
                                     ? test::stories_model()
                                     : test::reference_dir() + "/" + rc.dir + "/" + model_file;
  auto model = Model::load(model_path);
  const int64_t vocab = model->config().vocab_size;
  const auto prompt = j["prompt_tokens"].get<std::vector<int32_t>>();
  const auto ref_logits = j["logits"].get<std::vector<std::vector<float>>>();
  const double max_abs_tol = j["tolerance"]["max_abs"];
  const double rms_tol = j["tolerance"].value("rms", max_abs_tol);
  ASSERT_EQ(ref_logits.size(), prompt.size());

  const auto greedy = j.value("greedy_tokens", std::vector<int32_t>{});
  ThreadPool pool(2);
  SingleSequenceRunner runner(*model, static_cast<int64_t>(prompt.size() + greedy.size() + 1));
  std::vector<float> logits;
  runner.forward(prompt, true, logits, pool);
  ASSERT_EQ(logits.size(), prompt.size() * static_cast<size_t>(vocab));

  double max_abs = 0.0, sum_sq = 0.0;
  for (size_t t = 0; t < prompt.size(); ++t) {
    ASSERT_EQ(ref_logits[t].size(), static_cast<size_t>(vocab));
    for (int64_t i = 0; i < vocab; ++i) {
      const double d = std::abs(logits[t * vocab + i] - ref_logits[t][i]);
      max_abs = std::max(max_abs, d);
      sum_sq += d * d;
    }
  }
  const double rms = std::sqrt(sum_sq / static_cast<double>(prompt.size() * vocab));
  EXPECT_LE(max_abs, max_abs_tol) << rc.file;
  EXPECT_LE(rms, rms_tol) << rc.file;
  RecordProperty("max_abs_error", std::to_string(max_abs));

  if (greedy.empty()) return;  // quantized cases compare logits only
  std::vector<int32_t> generated;
  int32_t next = argmax(logits.data() + (prompt.size() - 1) * vocab, vocab);
  while (generated.size() < greedy.size()) {
    generated.push_back(next);
    const int32_t token = next;
    runner.forward({&token, 1}, false, logits, pool);
    next = argmax(logits.data(), vocab);
  }
  EXPECT_EQ(generated, greedy) << rc.file;
}

INSTANTIATE_TEST_SUITE_P(Cases, ReferenceLogits, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace pareto
