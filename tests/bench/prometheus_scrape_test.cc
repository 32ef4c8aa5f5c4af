// Prometheus text parsing on a fixed page: HELP/TYPE skipped, labels kept verbatim (quoted '}' and
// escapes included), special values, timestamps, malformed lines; and the before/after delta.
#include "bench/prometheus_scrape.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pareto::bench {
namespace {

TEST(PrometheusScrape, ParsesSamplesAndSkipsComments) {
  const std::string page =
      "# HELP pareto:generation_tokens_total Tokens generated.\n"
      "# TYPE pareto:generation_tokens_total counter\n"
      "pareto:generation_tokens_total 384\n"
      "pareto:request_success_total{finished_reason=\"length\"} 24\n"
      "http_req{path=\"/a}b\",q=\"x\\\"y\"} 2 1700000000000\n"
      "ttft_bucket{le=\"+Inf\"} 7\r\n"
      "g_inf +Inf\n"
      "g_neg -Inf\n"
      "g_nan NaN\n"
      "g_exp 1.5e-05\n"
      "\n"
      "   \n"
      "broken_no_value\n"
      "broken_value abc\n"
      "broken_labels{le=\"1\" 3\n";
  const auto m = parse_prometheus_text(page);
  EXPECT_EQ(m.size(), 8u);
  EXPECT_EQ(m.at("pareto:generation_tokens_total"), 384);
  EXPECT_EQ(m.at("pareto:request_success_total{finished_reason=\"length\"}"), 24);
  EXPECT_EQ(m.at("http_req{path=\"/a}b\",q=\"x\\\"y\"}"), 2);
  EXPECT_EQ(m.at("ttft_bucket{le=\"+Inf\"}"), 7);
  EXPECT_EQ(m.at("g_inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.at("g_neg"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(m.at("g_nan")));
  EXPECT_EQ(m.at("g_exp"), 1.5e-05);
}

TEST(PrometheusScrape, EmptyPageGivesNothing) {
  EXPECT_TRUE(parse_prometheus_text("").empty());
  EXPECT_TRUE(parse_prometheus_text("# only a comment\n").empty());
}

TEST(PrometheusScrape, DeltaCoversKeysInBoth) {
  const std::map<std::string, double> before = {{"a", 1}, {"b", 10}, {"gone", 3}};
  const std::map<std::string, double> after = {{"a", 4}, {"b", 7}, {"new", 5}};
  const auto d = metrics_delta(before, after);
  EXPECT_EQ(d, (std::map<std::string, double>{{"a", 3}, {"b", -3}}));
}

TEST(PrometheusScrape, UnreachableServerGivesEmptyMap) {
  // Port 1 on loopback: nothing listens there in a test environment, the connect is refused.
  EXPECT_TRUE(scrape_metrics("http://127.0.0.1:1", "", 5).empty());
}

}  // namespace
}  // namespace pareto::bench
