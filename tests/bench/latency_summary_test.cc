#include "bench/latency_summary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "base/error.h"

namespace pareto::bench {
namespace {

constexpr double kEps = 1e-9;

TEST(Percentile, MatchesNumpyLinearInterpolation) {
  // numpy.percentile(np.arange(1, 11), q): rank (n-1)*q/100 between sorted values.
  std::vector<double> v = {10, 3, 1, 7, 5, 2, 9, 4, 8, 6};  // order does not matter
  EXPECT_NEAR(percentile(v, 90), 9.1, kEps);
  EXPECT_NEAR(percentile(v, 99), 9.91, kEps);
  EXPECT_NEAR(percentile(v, 50), 5.5, kEps);
  EXPECT_NEAR(percentile(v, 25), 3.25, kEps);
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 10);
  EXPECT_DOUBLE_EQ(percentile({42}, 99), 42);
  EXPECT_DOUBLE_EQ(percentile({}, 50), 0);
  EXPECT_THROW(percentile(v, 101), Error);
  EXPECT_THROW(percentile(v, -1), Error);
  EXPECT_THROW(percentile(v, std::nan("")), Error);
}

TEST(ParseSlo, ReadsKeysInAnyOrder) {
  const SloTargets a = parse_slo("ttft=500,tpot=50,e2e=2000");
  EXPECT_EQ(a.ttft_ms, 500);
  EXPECT_EQ(a.tpot_ms, 50);
  EXPECT_EQ(a.e2e_ms, 2000);
  const SloTargets b = parse_slo(" tpot = 12.5 ");
  EXPECT_FALSE(b.ttft_ms.has_value());
  EXPECT_EQ(b.tpot_ms, 12.5);
  EXPECT_FALSE(b.e2e_ms.has_value());
  const SloTargets none = parse_slo("");
  EXPECT_FALSE(none.ttft_ms || none.tpot_ms || none.e2e_ms);
}

TEST(ParseSlo, RejectsBadSpecs) {
  for (const char* bad :
       {"ttft", "ttft=", "ttft=abc", "ttft=5ms", "ttft=-1", "latency=5", "ttft=5,", "ttft=inf"}) {
    EXPECT_THROW(parse_slo(bad), Error) << bad;
  }
  try {
    parse_slo("foo=1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'foo'"), std::string::npos) << e.what();
  }
}

RequestRecord ok(int64_t prompt, int64_t out, double ttft, double e2e, std::vector<double> itl) {
  RequestRecord r;
  r.success = true;
  r.prompt_len = prompt;
  r.output_len = out;
  r.ttft_s = ttft;
  r.e2e_s = e2e;
  r.itl_s = std::move(itl);
  return r;
}

// Three successes and a failure:
//   a: 5 tokens, ttft 100 ms, e2e 500 ms  -> tpot (500-100)/4 = 100 ms
//   b: 3 tokens, ttft 200 ms, e2e 1200 ms -> tpot (1200-200)/2 = 500 ms
//   c: 1 token,  ttft 300 ms, e2e 300 ms  -> no tpot (counts as 0 for the SLO)
std::vector<RequestRecord> records() {
  RequestRecord failed;
  failed.error = "HTTP 500";
  failed.prompt_len = 100;
  failed.ttft_s = 0.001;
  failed.e2e_s = 0.001;
  return {ok(10, 5, 0.1, 0.5, {0.1, 0.1, 0.1, 0.1}), ok(20, 3, 0.2, 1.2, {0.5, 0.5}),
          ok(5, 1, 0.3, 0.3, {}), failed};
}

TEST(Summarize, HandMadeRecords) {
  const BenchSummary s = summarize(records(), 2.0, {});
  EXPECT_EQ(s.completed, 3);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.duration_s, 2.0);
  EXPECT_EQ(s.total_input_tokens,
            35);  // the failed request's tokens are not counted
  EXPECT_EQ(s.total_output_tokens, 9);
  EXPECT_NEAR(s.request_throughput, 1.5, kEps);
  EXPECT_NEAR(s.output_throughput, 4.5, kEps);
  EXPECT_NEAR(s.total_token_throughput, 22.0, kEps);
  EXPECT_NEAR(s.request_goodput, 1.5,
              kEps);  // no SLO: every completed request counts

  EXPECT_NEAR(s.ttft.mean_ms, 200, kEps);
  EXPECT_NEAR(s.ttft.median_ms, 200, kEps);
  EXPECT_NEAR(s.ttft.p90_ms, 280, kEps);
  EXPECT_NEAR(s.ttft.p99_ms, 298, kEps);
  EXPECT_NEAR(s.ttft.std_ms, std::sqrt(20000.0 / 3),
              kEps);  // population std, as numpy

  EXPECT_NEAR(s.tpot.mean_ms, 300,
              kEps);  // only the requests with more than one token
  EXPECT_NEAR(s.tpot.median_ms, 300, kEps);
  EXPECT_NEAR(s.tpot.p90_ms, 460, kEps);
  EXPECT_NEAR(s.tpot.p99_ms, 496, kEps);
  EXPECT_NEAR(s.tpot.std_ms, 200, kEps);

  EXPECT_NEAR(s.itl.mean_ms, 1400.0 / 6, kEps);  // all six gaps of all requests
  EXPECT_NEAR(s.itl.median_ms, 100, kEps);
  EXPECT_NEAR(s.itl.p90_ms, 500, kEps);

  EXPECT_NEAR(s.e2el.mean_ms, 2000.0 / 3, kEps);
  EXPECT_NEAR(s.e2el.median_ms, 500, kEps);
  EXPECT_NEAR(s.e2el.p99_ms, 500 + 0.98 * 700, kEps);

  EXPECT_FALSE(s.energy_joules.has_value());
  EXPECT_FALSE(s.joules_per_output_token.has_value());
  EXPECT_EQ(s.energy_source, "unavailable");
}

TEST(Summarize, GoodputCountsRequestsMeetingEverySlo) {
  const auto recs = records();
  auto goodput = [&](const std::string& spec) {
    return summarize(recs, 2.0, parse_slo(spec)).request_goodput;
  };
  EXPECT_NEAR(goodput("ttft=250"), 1.0, kEps);           // a, b
  EXPECT_NEAR(goodput("tpot=200"), 1.0, kEps);           // a, c (one token: tpot 0)
  EXPECT_NEAR(goodput("e2e=400"), 0.5, kEps);            // c
  EXPECT_NEAR(goodput("ttft=100"), 0.5, kEps);           // a: the bound is inclusive
  EXPECT_NEAR(goodput("ttft=250,tpot=200"), 0.5, kEps);  // a
  EXPECT_NEAR(goodput("ttft=1,tpot=1,e2e=1"), 0.0,
              kEps);  // the failed one never counts
}

TEST(Summarize, EmptyAndZeroDuration) {
  const BenchSummary e = summarize({}, 1.0, {});
  EXPECT_EQ(e.completed, 0);
  EXPECT_EQ(e.request_throughput, 0);
  EXPECT_EQ(e.ttft.mean_ms, 0);
  const BenchSummary z = summarize(records(), 0.0, {});
  EXPECT_EQ(z.completed, 3);
  EXPECT_EQ(z.request_throughput, 0);
  EXPECT_EQ(z.request_goodput, 0);
}

TEST(SummaryJson, FlatKeysAndNullEnergy) {
  const nlohmann::json j = to_json(summarize(records(), 2.0, {}));
  for (const char* key :
       {"completed", "failed", "duration", "total_input_tokens", "total_output_tokens",
        "request_throughput", "output_throughput", "total_token_throughput", "request_goodput",
        "energy_joules", "joules_per_output_token", "energy_source"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* stat : {"mean", "median", "p90", "p99", "std"}) {
    for (const char* m : {"ttft", "tpot", "itl", "e2el"}) {
      EXPECT_TRUE(j.contains(std::string(stat) + "_" + m + "_ms")) << stat << " " << m;
    }
  }
  EXPECT_EQ(j.size(), 12u + 20u);
  EXPECT_TRUE(j["energy_joules"].is_null());
  EXPECT_TRUE(j["joules_per_output_token"].is_null());
  EXPECT_EQ(j["energy_source"], "unavailable");
  EXPECT_EQ(j["completed"], 3);
  EXPECT_NEAR(j["p90_ttft_ms"].get<double>(), 280, kEps);
}

TEST(SummaryJson, RoundTrip) {
  BenchSummary s = summarize(records(), 2.0, parse_slo("ttft=250"));
  const BenchSummary back = summary_from_json(to_json(s));
  EXPECT_EQ(to_json(back), to_json(s));
  EXPECT_FALSE(back.energy_joules.has_value());

  s.energy_joules = 12.5;
  s.joules_per_output_token = 12.5 / 9;
  s.energy_source = "rapl";
  // Through text too, as sweep and plan --validate read the files.
  const BenchSummary back2 = summary_from_json(nlohmann::json::parse(to_json(s).dump()));
  EXPECT_EQ(back2.energy_joules, 12.5);
  EXPECT_DOUBLE_EQ(*back2.joules_per_output_token, 12.5 / 9);
  EXPECT_EQ(back2.energy_source, "rapl");
  EXPECT_EQ(back2.completed, 3);
  EXPECT_DOUBLE_EQ(back2.tpot.p99_ms, s.tpot.p99_ms);
  EXPECT_DOUBLE_EQ(back2.request_goodput, s.request_goodput);
}

TEST(SummaryJson, BadInputNamesTheKey) {
  nlohmann::json j = to_json(summarize(records(), 2.0, {}));
  j.erase("p99_itl_ms");
  try {
    summary_from_json(j);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("p99_itl_ms"), std::string::npos) << e.what();
  }
  j = to_json(summarize(records(), 2.0, {}));
  j["duration"] = "long";
  EXPECT_THROW(summary_from_json(j), Error);
  EXPECT_THROW(summary_from_json(nlohmann::json::array()), Error);
}

}  // namespace
}  // namespace pareto::bench
