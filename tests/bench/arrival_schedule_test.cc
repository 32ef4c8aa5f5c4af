#include "bench/arrival_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/error.h"

namespace pareto::bench {
namespace {

struct GapStats {
  double mean = 0, variance = 0;
};

GapStats gap_stats(const std::vector<double>& times) {
  std::vector<double> gaps;
  double prev = 0;
  for (double t : times) {
    gaps.push_back(t - prev);
    prev = t;
  }
  GapStats s;
  for (double g : gaps) s.mean += g;
  s.mean /= static_cast<double>(gaps.size());
  for (double g : gaps) s.variance += (g - s.mean) * (g - s.mean);
  s.variance /= static_cast<double>(gaps.size());
  return s;
}

TEST(ArrivalSchedule, PoissonGapsHaveExponentialMoments) {
  const auto t = arrival_times(20000, 10.0, 1.0, 1234);
  ASSERT_EQ(t.size(), 20000u);
  for (size_t i = 1; i < t.size(); ++i) ASSERT_GE(t[i], t[i - 1]);
  EXPECT_GT(t[0], 0.0);  // the first request waits one gap
  const GapStats s = gap_stats(t);
  EXPECT_NEAR(s.mean, 0.1, 0.1 * 0.02);
  EXPECT_NEAR(s.variance, 0.01, 0.01 * 0.05);
}

TEST(ArrivalSchedule, GammaBurstinessSetsTheVariance) {
  const double rate = 10, burstiness = 0.5;
  const GapStats s = gap_stats(arrival_times(20000, rate, burstiness, 1234));
  const double variance = 1.0 / (rate * rate * burstiness);  // 0.02: burstier than Poisson
  EXPECT_NEAR(s.mean, 0.1, 0.1 * 0.02);
  EXPECT_NEAR(s.variance, variance, variance * 0.05);
  // burstiness 4: more regular.
  const GapStats r = gap_stats(arrival_times(20000, rate, 4.0, 99));
  EXPECT_NEAR(r.mean, 0.1, 0.1 * 0.02);
  EXPECT_NEAR(r.variance, 1.0 / (rate * rate * 4.0), 0.0025 * 0.05);
}

TEST(ArrivalSchedule, DeterministicForASeed) {
  EXPECT_EQ(arrival_times(100, 5.0, 1.0, 7), arrival_times(100, 5.0, 1.0, 7));
  EXPECT_NE(arrival_times(100, 5.0, 1.0, 7), arrival_times(100, 5.0, 1.0, 8));
}

TEST(ArrivalSchedule, InfiniteRateSendsEverythingAtOnce) {
  const auto t = arrival_times(5, std::numeric_limits<double>::infinity(), 1.0, 0);
  EXPECT_EQ(t, std::vector<double>(5, 0.0));
  EXPECT_TRUE(arrival_times(0, 1.0, 1.0, 0).empty());
}

TEST(ArrivalSchedule, RejectsBadParameters) {
  EXPECT_THROW(arrival_times(10, 0.0, 1.0, 0), Error);
  EXPECT_THROW(arrival_times(10, -1.0, 1.0, 0), Error);
  EXPECT_THROW(arrival_times(10, std::nan(""), 1.0, 0), Error);
  EXPECT_THROW(arrival_times(10, 1.0, 0.0, 0), Error);
  EXPECT_THROW(arrival_times(10, 1.0, -2.0, 0), Error);
  EXPECT_THROW(arrival_times(-1, 1.0, 1.0, 0), Error);
}

}  // namespace
}  // namespace pareto::bench

namespace pareto::bench {
namespace {

TEST(ParseRequestRate, InfOrAPositiveNumber) {
  EXPECT_EQ(parse_request_rate("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_request_rate("infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_request_rate("2.5"), 2.5);
  for (const char* bad : {"0", "-1", "", "2x", "fast", "nan"})
    EXPECT_THROW(parse_request_rate(bad), Error) << bad;
}

}  // namespace
}  // namespace pareto::bench
