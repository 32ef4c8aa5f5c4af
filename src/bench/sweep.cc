// The pure parts of a sweep: grid expansion, medians over runs, labels, Pareto marking.
// Running it is sweep_runner.cc; writing its files is sweep_report.cc.
#include "bench/sweep.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "base/error.h"
#include "bench/pareto_frontier.h"

namespace pareto::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string format_rate(double rate) {
  if (std::isinf(rate)) return "inf";
  return fmt::format("{:g}", rate);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double number_or_nan(const nlohmann::json& j, const std::string& key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

}  // namespace

std::vector<SweepServerConfig> expand_server_configs(const SweepGrid& grid) {
  if (grid.max_num_seqs.empty() && grid.replicas.empty()) return {SweepServerConfig{}};
  const std::vector<int64_t> mns =
      grid.max_num_seqs.empty() ? std::vector<int64_t>{0} : grid.max_num_seqs;
  const std::vector<int64_t> reps = grid.replicas.empty() ? std::vector<int64_t>{1} : grid.replicas;
  std::vector<SweepServerConfig> out;
  for (int64_t m : mns) {
    if (m < 1 && !grid.max_num_seqs.empty()) fail("--max-num-seqs values must be >= 1, got {}", m);
    for (int64_t r : reps) {
      if (r < 1) fail("--replicas values must be >= 1, got {}", r);
      SweepServerConfig c;
      c.max_num_seqs = m;
      c.replicas = r;
      if (grid.total_threads > 0) {
        if (r > grid.total_threads)
          fail("--replicas {} needs at least {} threads, but --threads is {}", r, r,
               grid.total_threads);
        c.threads_per_replica = grid.total_threads / r;
      }
      out.push_back(c);
    }
  }
  return out;
}

std::vector<SweepLoad> expand_loads(const SweepGrid& grid) {
  for (int64_t c : grid.concurrency)
    if (c < 1) fail("--concurrency values must be >= 1, got {}", c);
  for (double r : grid.request_rates)
    if (!(r > 0)) fail("--request-rate values must be > 0 (or inf), got {}", r);
  std::vector<SweepLoad> out;
  if (grid.request_rates.empty()) {
    if (grid.concurrency.empty())
      fail("the sweep needs --concurrency and/or --request-rate values");
    for (int64_t c : grid.concurrency) out.push_back({c, std::nullopt});
    return out;
  }
  for (double r : grid.request_rates) {
    const std::optional<double> rate = std::isinf(r) ? std::nullopt : std::optional<double>(r);
    if (grid.concurrency.empty()) {
      out.push_back({0, rate});
    } else {
      for (int64_t c : grid.concurrency) out.push_back({c, rate});
    }
  }
  return out;
}

int64_t auto_num_prompts(const SweepLoad& load) {
  if (load.concurrency > 0) return std::max<int64_t>(16, 4 * load.concurrency);
  if (!load.request_rate) return 64;
  const auto ten_seconds = static_cast<int64_t>(std::ceil(10 * *load.request_rate));
  return std::clamp<int64_t>(ten_seconds, 16, 1000);
}

nlohmann::json median_of_runs(const std::vector<nlohmann::json>& runs) {
  if (runs.empty()) fail("median over runs: no runs");
  nlohmann::json out = nlohmann::json::object();
  std::set<std::string> keys;
  for (const nlohmann::json& r : runs)
    for (const auto& [k, v] : r.items()) keys.insert(k);
  for (const std::string& key : keys) {
    std::vector<double> values;
    const nlohmann::json* first = nullptr;
    for (const nlohmann::json& r : runs) {
      const auto it = r.find(key);
      if (it == r.end()) fail("median over runs: key '{}' is missing from a run", key);
      if (!first && !it->is_null()) first = &*it;
      if (it->is_number()) values.push_back(it->get<double>());
    }
    if (!first) {
      out[key] = nullptr;
    } else if (first->is_number()) {
      out[key] = median_of(values);
    } else {
      out[key] = *first;
    }
  }
  return out;
}

std::string server_label(const SweepServerConfig& s) {
  if (s.max_num_seqs <= 0 && s.replicas <= 0) return "server";
  std::string label;
  if (s.max_num_seqs > 0) label = fmt::format("mns={}", s.max_num_seqs);
  if (s.replicas > 0) label += fmt::format("{}r={}", label.empty() ? "" : " ", s.replicas);
  return label;
}

std::string point_label(const SweepServerConfig& server, const SweepLoad& load) {
  std::string label = server_label(server);
  label = label == "server" ? "" : label + " ";
  if (load.request_rate) {
    label += "rate=" + format_rate(*load.request_rate);
    if (load.concurrency > 0) label += fmt::format(" c={}", load.concurrency);
  } else {
    label += load.concurrency > 0 ? fmt::format("c={}", load.concurrency) : "c=inf";
  }
  return label;
}

double latency_ms(const SweepPoint& p, const std::string& metric) {
  if (number_or_nan(p.median, "completed") <= 0) return kNaN;
  return number_or_nan(p.median, "median_" + metric + "_ms");
}

double output_throughput(const SweepPoint& p) {
  if (number_or_nan(p.median, "completed") <= 0) return kNaN;
  return number_or_nan(p.median, "output_throughput");
}

double tokens_per_s_per_user(const SweepPoint& p) {
  if (number_or_nan(p.median, "completed") <= 0) return kNaN;
  const double tpot = number_or_nan(p.median, "median_tpot_ms");
  return tpot > 0 ? 1000.0 / tpot : kNaN;
}

void mark_pareto(SweepResult& result) {
  std::vector<FrontierPoint> lat, user;
  for (const SweepPoint& p : result.points) {
    lat.push_back({latency_ms(p, result.latency_metric), output_throughput(p)});
    user.push_back({output_throughput(p), tokens_per_s_per_user(p)});
  }
  for (SweepPoint& p : result.points) p.pareto_optimal = p.pareto_optimal_per_user = false;
  for (size_t i : latency_throughput_frontier(lat)) result.points[i].pareto_optimal = true;
  for (size_t i : maximize_both_frontier(user)) result.points[i].pareto_optimal_per_user = true;
}

}  // namespace pareto::bench
