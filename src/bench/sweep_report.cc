#include "bench/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/error.h"
#include "bench/svg_plot.h"

namespace pareto::bench {
namespace {

nlohmann::json or_null(int64_t v) {
  return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string metric_name(const std::string& metric) {
  if (metric == "e2el") return "E2E latency";
  if (metric == "tpot") return "time per output token";
  if (metric == "ttft") return "time to first token";
  return metric;
}

// "%.1f", or "n/a" for NaN.
std::string fixed(double v, int digits = 1) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a";
}

double median_number(const SweepPoint& p, const std::string& key) {
  const auto it = p.median.find(key);
  return it != p.median.end() && it->is_number() ? it->get<double>() : NAN;
}

std::string subtitle(const SweepResult& r) {
  std::string s = r.model;
  const nlohmann::json& d = r.dataset;
  if (d.contains("name")) {
    s += fmt::format(" | {} prompts", d["name"].get<std::string>());
    if (d.contains("input_len") && d.contains("output_len"))
      s += fmt::format(" {} in / {} out tokens", d["input_len"].dump(), d["output_len"].dump());
  }
  s += fmt::format(" | median of {} run{}", r.runs_per_point, r.runs_per_point == 1 ? "" : "s");
  return s;
}

// One series per server configuration, in the order configurations first appear.
std::vector<PlotSeries> series_by_server(const SweepResult& r,
                                         const std::function<PlotPoint(const SweepPoint&)>& xy) {
  std::vector<PlotSeries> series;
  std::map<std::string, size_t> index;
  for (const SweepPoint& p : r.points) {
    const std::string name = server_label(p.server);
    auto [it, added] = index.emplace(name, series.size());
    if (added) {
      series.emplace_back();
      series.back().name = name;
    }
    // The colour names the configuration (legend), so a series point's label is only its load;
    // frontier points get the full label.
    PlotPoint point = xy(p);
    point.label = point_label(SweepServerConfig{}, p.load);
    series[it->second].points.push_back(point);
  }
  return series;
}

// A log axis when the values span more than a factor of 20 (e.g. latency from c=1 to c=64),
// so the low-load points are not squeezed against the origin.
bool wide(const std::vector<PlotSeries>& series, bool x) {
  double lo = INFINITY, hi = 0;
  for (const PlotSeries& s : series)
    for (const PlotPoint& p : s.points) {
      const double v = x ? p.x : p.y;
      if (!std::isfinite(v)) continue;
      if (v <= 0) return false;
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
  return hi > 20 * lo;
}

}  // namespace

nlohmann::json sweep_to_json(const SweepResult& r) {
  nlohmann::json points = nlohmann::json::array();
  for (const SweepPoint& p : r.points) {
    nlohmann::json runs = nlohmann::json::array();
    for (const nlohmann::json& run : p.runs) runs.push_back(run);
    points.push_back({{"max_num_seqs", or_null(p.server.max_num_seqs)},
                      {"replicas", or_null(p.server.replicas)},
                      {"threads_per_replica", or_null(p.server.threads_per_replica)},
                      {"concurrency", or_null(p.load.concurrency)},
                      {"request_rate", p.load.request_rate ? nlohmann::json(*p.load.request_rate)
                                                           : nlohmann::json(nullptr)},
                      {"num_prompts", p.num_prompts},
                      {"label", point_label(p.server, p.load)},
                      {"runs", std::move(runs)},
                      {"median", p.median},
                      {"pareto_optimal", p.pareto_optimal},
                      {"pareto_optimal_per_user", p.pareto_optimal_per_user}});
  }
  return {{"model", r.model},
          {"model_path", r.model_path},
          {"base_url", r.base_url},
          {"dataset", r.dataset},
          {"latency_metric", r.latency_metric},
          {"runs_per_point", r.runs_per_point},
          {"notes", r.notes},
          {"points", std::move(points)}};
}

namespace {

const nlohmann::json& need(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) fail("sweep JSON: {} has no \"{}\"", where, key);
  return *it;
}

int64_t count_or_zero(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = need(j, key, where);
  if (v.is_null()) return 0;
  if (!v.is_number()) fail("sweep JSON: {}.{} must be a number or null", where, key);
  return v.get<int64_t>();
}

}  // namespace

SweepResult sweep_from_json(const nlohmann::json& j) {
  if (!j.is_object()) fail("sweep JSON: not an object");
  SweepResult r;
  try {
    r.model = need(j, "model", "the file").get<std::string>();
    r.model_path = j.value("model_path", "");
    r.base_url = j.value("base_url", "");
    r.dataset = need(j, "dataset", "the file");
    r.latency_metric = j.value("latency_metric", "e2el");
    r.runs_per_point = j.value("runs_per_point", int64_t{0});
    r.notes = j.value("notes", std::vector<std::string>{});
    const nlohmann::json& points = need(j, "points", "the file");
    if (!points.is_array()) fail("sweep JSON: \"points\" must be an array");
    for (size_t i = 0; i < points.size(); ++i) {
      const nlohmann::json& pj = points[i];
      const std::string where = fmt::format("points[{}]", i);
      SweepPoint p;
      p.server.max_num_seqs = count_or_zero(pj, "max_num_seqs", where);
      p.server.replicas = count_or_zero(pj, "replicas", where);
      p.server.threads_per_replica = count_or_zero(pj, "threads_per_replica", where);
      p.load.concurrency = count_or_zero(pj, "concurrency", where);
      const nlohmann::json& rate = need(pj, "request_rate", where);
      if (!rate.is_null()) p.load.request_rate = rate.get<double>();
      p.num_prompts = pj.value("num_prompts", int64_t{0});
      for (const nlohmann::json& run : need(pj, "runs", where)) p.runs.push_back(run);
      p.median = need(pj, "median", where);
      if (!p.median.is_object()) fail("sweep JSON: {}.median must be an object", where);
      p.pareto_optimal = pj.value("pareto_optimal", false);
      p.pareto_optimal_per_user = pj.value("pareto_optimal_per_user", false);
      r.points.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("sweep JSON: {}", e.what());
  }
  return r;
}

std::string sweep_csv(const SweepResult& r) {
  std::string out =
      "max_num_seqs,replicas,threads_per_replica,concurrency,request_rate,num_prompts,runs,"
      "completed,failed,output_throughput,output_tokens_per_s_per_user,request_throughput,"
      "median_ttft_ms,median_tpot_ms,median_itl_ms,median_e2el_ms,p99_ttft_ms,p99_tpot_ms,"
      "p99_e2el_ms,joules_per_output_token,pareto_optimal,pareto_optimal_per_user\n";
  auto cell = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); };
  auto count = [](int64_t v) { return v > 0 ? std::to_string(v) : std::string(); };
  for (const SweepPoint& p : r.points) {
    out += fmt::format(
        "{},{},{},{},{},{},{}", count(p.server.max_num_seqs), count(p.server.replicas),
        count(p.server.threads_per_replica), count(p.load.concurrency),
        p.load.request_rate ? cell(*p.load.request_rate) : "inf", p.num_prompts, p.runs.size());
    for (const char* key : {"completed", "failed", "output_throughput"})
      out += fmt::format(",{}", cell(median_number(p, key)));
    out += fmt::format(",{}", cell(tokens_per_s_per_user(p)));
    for (const char* key :
         {"request_throughput", "median_ttft_ms", "median_tpot_ms", "median_itl_ms",
          "median_e2el_ms", "p99_ttft_ms", "p99_tpot_ms", "p99_e2el_ms", "joules_per_output_token"})
      out += fmt::format(",{}", cell(median_number(p, key)));
    out += fmt::format(",{},{}\n", p.pareto_optimal, p.pareto_optimal_per_user);
  }
  return out;
}

std::string sweep_markdown(const SweepResult& r) {
  std::string out = fmt::format("# Sweep: {}\n\n", r.model);
  out += fmt::format("Workload: `{}`. Each row is the median of {} run(s) per point",
                     r.dataset.dump(), r.runs_per_point);
  out += r.base_url.empty() ? " (a fresh `pareto serve` per server configuration).\n\n"
                            : fmt::format(" against {}.\n\n", r.base_url);
  for (const std::string& note : r.notes) out += "Note: " + note + "\n\n";
  out +=
      "| config | load | output tok/s | tok/s per user | TTFT ms | TPOT ms | E2E ms | J/token | "
      "failed | Pareto: tput/latency | Pareto: user/total |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|\n";
  for (const SweepPoint& p : r.points) {
    std::string load = point_label(SweepServerConfig{}, p.load);
    const double jpt = median_number(p, "joules_per_output_token");
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                       server_label(p.server), load, fixed(median_number(p, "output_throughput")),
                       fixed(tokens_per_s_per_user(p)), fixed(median_number(p, "median_ttft_ms")),
                       fixed(median_number(p, "median_tpot_ms"), 2),
                       fixed(median_number(p, "median_e2el_ms")),
                       std::isfinite(jpt) ? fmt::format("{:.4g}", jpt) : "n/a",
                       fixed(median_number(p, "failed"), 0), p.pareto_optimal ? "★" : "",
                       p.pareto_optimal_per_user ? "★" : "");
  }
  out += fmt::format(
      "\n★ = Pareto-optimal: no other point is at least as good on both axes and better on one. "
      "Pareto: tput/latency compares median {} (lower is better) with output tok/s (higher is "
      "better); Pareto: user/total compares total output tok/s with tok/s per user (1000 / "
      "median TPOT), both higher is better.\n",
      metric_name(r.latency_metric));
  return out;
}

std::string throughput_latency_svg(const SweepResult& r) {
  PlotSpec spec;
  spec.title = fmt::format("Output throughput vs median {}", metric_name(r.latency_metric));
  spec.subtitle = subtitle(r);
  spec.x.label = fmt::format("median {} (ms)", metric_name(r.latency_metric));
  spec.y.label = "output tokens/s";
  auto xy = [&](const SweepPoint& p) {
    return PlotPoint{latency_ms(p, r.latency_metric), output_throughput(p),
                     point_label(p.server, p.load)};
  };
  spec.series = series_by_server(r, xy);
  spec.x.log = wide(spec.series, true);
  spec.y.log = wide(spec.series, false);
  PlotFrontier f;
  f.style = FrontierStyle::kStepHV;
  for (const SweepPoint& p : r.points)
    if (p.pareto_optimal) f.points.push_back(xy(p));
  std::sort(f.points.begin(), f.points.end(),
            [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
  spec.frontier = f;
  return render_svg(spec);
}

std::string per_user_svg(const SweepResult& r) {
  PlotSpec spec;
  spec.title = "Tokens/s per user vs total tokens/s";
  spec.subtitle = subtitle(r);
  spec.x.label = "total output tokens/s";
  spec.y.label = "output tokens/s per user (1000 / median TPOT ms)";
  auto xy = [&](const SweepPoint& p) {
    return PlotPoint{output_throughput(p), tokens_per_s_per_user(p), point_label(p.server, p.load)};
  };
  spec.series = series_by_server(r, xy);
  spec.x.log = wide(spec.series, true);
  spec.y.log = wide(spec.series, false);
  PlotFrontier f;
  f.style = FrontierStyle::kStepVH;
  for (const SweepPoint& p : r.points)
    if (p.pareto_optimal_per_user) f.points.push_back(xy(p));
  std::sort(f.points.begin(), f.points.end(),
            [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
  spec.frontier = f;
  return render_svg(spec);
}

std::vector<std::string> write_sweep_outputs(const SweepResult& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("cannot create the output directory {}: {}", dir, ec.message());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"sweep.json", sweep_to_json(r).dump(2) + "\n"},
      {"sweep.csv", sweep_csv(r)},
      {"sweep.md", sweep_markdown(r)},
      {"throughput_vs_latency.svg", throughput_latency_svg(r)},
      {"per_user_vs_total.svg", per_user_svg(r)}};
  std::vector<std::string> paths;
  for (const auto& [name, content] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    if (!out) fail("cannot write {}", path);
    paths.push_back(path);
  }
  return paths;
}

}  // namespace pareto::bench
