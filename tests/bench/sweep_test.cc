// The pure parts of `pareto bench sweep`: grid expansion, medians over runs, Pareto marking and
// the files written from fake summaries.
#include "bench/sweep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "base/error.h"
#include "bench/latency_summary.h"
#include "bench/sweep_report.h"
#include "support/test_paths.h"

namespace pareto::bench {
namespace {

TEST(Sweep, ExpandsServerConfigs) {
  SweepGrid g;
  g.max_num_seqs = {8, 32};
  g.replicas = {1, 2};
  g.total_threads = 4;
  const std::vector<SweepServerConfig> c = expand_server_configs(g);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].max_num_seqs, 8);
  EXPECT_EQ(c[0].replicas, 1);
  EXPECT_EQ(c[0].threads_per_replica, 4);
  EXPECT_EQ(c[1].replicas, 2);
  EXPECT_EQ(c[1].threads_per_replica, 2);
  EXPECT_EQ(c[3].max_num_seqs, 32);

  g.replicas = {8};
  EXPECT_THROW(expand_server_configs(g), Error);  // more replicas than threads
  g.replicas = {0};
  EXPECT_THROW(expand_server_configs(g), Error);
  g.replicas = {1};
  g.max_num_seqs = {0};
  EXPECT_THROW(expand_server_configs(g), Error);

  // An existing server: one unknown configuration.
  const std::vector<SweepServerConfig> unknown = expand_server_configs(SweepGrid{});
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(server_label(unknown[0]), "server");
}

TEST(Sweep, ExpandsLoads) {
  SweepGrid g;
  EXPECT_THROW(expand_loads(g), Error);
  g.concurrency = {1, 4};
  std::vector<SweepLoad> l = expand_loads(g);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].concurrency, 4);
  EXPECT_FALSE(l[1].request_rate);

  g.request_rates = {2, std::numeric_limits<double>::infinity()};
  l = expand_loads(g);
  ASSERT_EQ(l.size(), 4u);  // rates x concurrency caps
  EXPECT_EQ(*l[0].request_rate, 2);
  EXPECT_EQ(l[0].concurrency, 1);
  EXPECT_FALSE(l[3].request_rate);  // inf
  EXPECT_EQ(l[3].concurrency, 4);

  g.concurrency.clear();
  l = expand_loads(g);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].concurrency, 0);
  g.request_rates = {0};
  EXPECT_THROW(expand_loads(g), Error);
  g.request_rates.clear();
  g.concurrency = {0};
  EXPECT_THROW(expand_loads(g), Error);
}

TEST(Sweep, LabelsAndAutoPrompts) {
  EXPECT_EQ(point_label({32, 1, 2}, {16, std::nullopt}), "mns=32 r=1 c=16");
  EXPECT_EQ(point_label({8, 2, 1}, {0, 2.5}), "mns=8 r=2 rate=2.5");
  EXPECT_EQ(point_label({8, 2, 1}, {4, 2.5}), "mns=8 r=2 rate=2.5 c=4");
  EXPECT_EQ(point_label({}, {0, std::nullopt}), "c=inf");
  EXPECT_EQ(point_label({}, {8, std::nullopt}), "c=8");
  EXPECT_EQ(auto_num_prompts({1, std::nullopt}), 16);
  EXPECT_EQ(auto_num_prompts({64, std::nullopt}), 256);
  EXPECT_EQ(auto_num_prompts({0, 4.0}), 40);
  EXPECT_EQ(auto_num_prompts({0, 0.5}), 16);
  EXPECT_EQ(auto_num_prompts({0, 1e6}), 1000);
  EXPECT_EQ(auto_num_prompts({0, std::nullopt}), 64);
}

BenchSummary fake(double out_tps, double e2e_ms, double tpot_ms, std::optional<double> jpt) {
  BenchSummary s;
  s.completed = 16;
  s.duration_s = 2;
  s.total_output_tokens = static_cast<int64_t>(out_tps * 2);
  s.output_throughput = out_tps;
  s.e2el.median_ms = e2e_ms;
  s.tpot.median_ms = tpot_ms;
  s.ttft.median_ms = e2e_ms / 4;
  s.joules_per_output_token = jpt;
  s.energy_joules = jpt ? std::optional<double>(*jpt * 32) : std::nullopt;
  s.energy_source = jpt ? "rapl" : "unavailable: no counters";
  return s;
}

TEST(Sweep, MedianOfRuns) {
  const std::vector<nlohmann::json> three = {to_json(fake(100, 300, 10, 0.5)),
                                             to_json(fake(120, 200, 12, std::nullopt)),
                                             to_json(fake(90, 250, 11, 0.7))};
  const nlohmann::json m = median_of_runs(three);
  EXPECT_EQ(m["output_throughput"], 100.0);
  EXPECT_EQ(m["median_e2el_ms"], 250.0);
  EXPECT_EQ(m["median_tpot_ms"], 11.0);
  EXPECT_EQ(m["completed"], 16.0);
  EXPECT_EQ(m["joules_per_output_token"], 0.6);  // the null run is left out: median of 0.5, 0.7
  EXPECT_EQ(m["energy_source"], "rapl");         // the first run's string
  // Even count: the mean of the two middle values, as numpy.
  const nlohmann::json two =
      median_of_runs({to_json(fake(100, 300, 10, std::nullopt)), to_json(fake(120, 200, 12, {}))});
  EXPECT_EQ(two["output_throughput"], 110.0);
  EXPECT_TRUE(two["joules_per_output_token"].is_null());
  EXPECT_EQ(two["energy_source"], "unavailable: no counters");
  // The median reads back as a summary.
  EXPECT_EQ(summary_from_json(m).output_throughput, 100.0);
  EXPECT_THROW(median_of_runs({}), Error);
  nlohmann::json missing = three[1];
  missing.erase("median_tpot_ms");
  EXPECT_THROW(median_of_runs({three[0], missing}), Error);
}

SweepResult fake_result() {
  SweepResult r;
  r.model = "fake-model";
  r.dataset = {{"name", "random"}, {"input_len", 16}, {"output_len", 8}};
  r.runs_per_point = 1;
  // (mns, c) -> (output tok/s, E2E ms, TPOT ms)
  const struct {
    int64_t mns, c;
    double tps, e2e, tpot;
  } rows[] = {{2, 1, 60, 120, 15},    // frontier (lowest latency)
              {2, 8, 110, 260, 30},   // dominated by (8, 4)
              {8, 1, 58, 125, 15.5},  // dominated by (2, 1)
              {8, 4, 190, 180, 20},   // frontier
              {8, 8, 330, 420, 50}};  // frontier (most throughput)
  for (const auto& row : rows) {
    SweepPoint p;
    p.server = {row.mns, 1, 2};
    p.load = {row.c, std::nullopt};
    p.num_prompts = 16;
    p.runs = {to_json(fake(row.tps, row.e2e, row.tpot, std::nullopt))};
    p.median = median_of_runs(p.runs);
    r.points.push_back(p);
  }
  mark_pareto(r);
  return r;
}

TEST(Sweep, MarksBothFrontiers) {
  const SweepResult r = fake_result();
  std::vector<bool> lat, user;
  for (const SweepPoint& p : r.points) lat.push_back(p.pareto_optimal);
  for (const SweepPoint& p : r.points) user.push_back(p.pareto_optimal_per_user);
  EXPECT_EQ(lat, (std::vector<bool>{true, false, false, true, true}));
  // Per user = 1000/TPOT: 66.7, 33.3, 64.5, 50, 20 against totals 60, 110, 58, 190, 330.
  EXPECT_EQ(user, (std::vector<bool>{true, false, false, true, true}));
  EXPECT_DOUBLE_EQ(tokens_per_s_per_user(r.points[3]), 50.0);

  // A point with no completed request is never on a frontier.
  SweepResult failed = r;
  failed.points[4].median["completed"] = 0.0;
  mark_pareto(failed);
  EXPECT_FALSE(failed.points[4].pareto_optimal);
  EXPECT_TRUE(std::isnan(output_throughput(failed.points[4])));
}

TEST(Sweep, WritesAllFiles) {
  const SweepResult r = fake_result();
  const std::string dir = test::scratch_dir() + "/sweep_test_out";
  std::filesystem::remove_all(dir);
  const std::vector<std::string> paths = write_sweep_outputs(r, dir);
  ASSERT_EQ(paths.size(), 5u);
  for (const std::string& p : paths) EXPECT_TRUE(std::filesystem::file_size(p) > 0) << p;

  const nlohmann::json j = nlohmann::json::parse(test::read_file(dir + "/sweep.json"));
  EXPECT_EQ(j["model"], "fake-model");
  ASSERT_EQ(j["points"].size(), 5u);
  const nlohmann::json& p3 = j["points"][3];
  EXPECT_EQ(p3["max_num_seqs"], 8);
  EXPECT_EQ(p3["replicas"], 1);
  EXPECT_EQ(p3["threads_per_replica"], 2);
  EXPECT_EQ(p3["concurrency"], 4);
  EXPECT_TRUE(p3["request_rate"].is_null());
  EXPECT_EQ(p3["label"], "mns=8 r=1 c=4");
  EXPECT_EQ(p3["runs"].size(), 1u);
  EXPECT_EQ(p3["median"]["output_throughput"], 190.0);
  EXPECT_EQ(p3["pareto_optimal"], true);
  EXPECT_EQ(j["points"][1]["pareto_optimal"], false);
  EXPECT_EQ(summary_from_json(p3["runs"][0]).output_throughput, 190.0);

  const std::string csv = test::read_file(dir + "/sweep.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);  // header + 5 points
  EXPECT_NE(csv.find("\n8,1,2,4,inf,16,1,16,0,190,50,"), std::string::npos) << csv;

  const std::string md = test::read_file(dir + "/sweep.md");
  EXPECT_NE(md.find("| mns=8 r=1 | c=4 | 190.0 | 50.0 | 45.0 | 20.00 | 180.0 | n/a | 0 | ★ | ★ |"),
            std::string::npos)
      << md;

  const std::string svg = test::read_file(dir + "/throughput_vs_latency.svg");
  EXPECT_NE(svg.find(">mns=8 r=1 c=4</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Pareto frontier</text>"), std::string::npos);
  EXPECT_NE(test::read_file(dir + "/per_user_vs_total.svg").find("</svg>"), std::string::npos);
}

TEST(Sweep, JsonRoundTrip) {
  SweepResult r = fake_result();
  r.notes = {"a note"};
  r.points[1].load = {0, 2.5};
  const nlohmann::json j = sweep_to_json(r);
  const SweepResult back = sweep_from_json(j);
  EXPECT_EQ(sweep_to_json(back), j);
  EXPECT_EQ(*back.points[1].load.request_rate, 2.5);
  EXPECT_EQ(back.points[1].load.concurrency, 0);
  nlohmann::json bad = j;
  bad["points"][0].erase("median");
  EXPECT_THROW(sweep_from_json(bad), Error);
  bad = j;
  bad["points"][0]["concurrency"] = "four";
  EXPECT_THROW(sweep_from_json(bad), Error);
  EXPECT_THROW(sweep_from_json(nlohmann::json::array()), Error);
}

TEST(Sweep, PlotLabelsAndLogAxes) {
  SweepResult r = fake_result();
  std::string svg = throughput_latency_svg(r);
  EXPECT_EQ(svg.find("(log scale)"), std::string::npos);            // 120..420 ms: linear
  EXPECT_NE(svg.find(">mns=8 r=1 c=8</text>"), std::string::npos);  // frontier: full label
  EXPECT_EQ(svg.find(">mns=2 r=1 c=8</text>"), std::string::npos);  // others: the load only
  EXPECT_NE(svg.find(">c=8</text>"), std::string::npos);
  // Latencies over more than a factor of 20: a log x axis.
  r.points[4].median["median_e2el_ms"] = 12000.0;
  svg = throughput_latency_svg(r);
  EXPECT_NE(svg.find("median E2E latency (ms) (log scale)"), std::string::npos);
  EXPECT_EQ(svg.find("tokens/s (log scale)"), std::string::npos);
}

}  // namespace
}  // namespace pareto::bench
