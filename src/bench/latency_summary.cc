#include "bench/latency_summary.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

#include "base/error.h"

namespace pareto::bench {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

double parse_ms(std::string_view key, std::string_view text, const std::string& spec) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) ||
      v < 0) {
    fail("--slo '{}': the value of {} must be a number of milliseconds >= 0, got '{}'", spec, key,
         text);
  }
  return v;
}

// Population standard deviation (numpy's default ddof=0), as vLLM reports.
LatencyStats stats_ms(std::vector<double> seconds) {
  LatencyStats s;
  if (seconds.empty()) return s;
  for (double& v : seconds) v *= 1000.0;
  double sum = 0;
  for (double v : seconds) sum += v;
  const double n = static_cast<double>(seconds.size());
  s.mean_ms = sum / n;
  double sq = 0;
  for (double v : seconds) sq += (v - s.mean_ms) * (v - s.mean_ms);
  s.std_ms = std::sqrt(sq / n);
  std::sort(seconds.begin(), seconds.end());
  s.median_ms = percentile(seconds, 50);
  s.p90_ms = percentile(seconds, 90);
  s.p99_ms = percentile(seconds, 99);
  return s;
}

// TPOT of one request; requests with a single output token have no decode phase: 0.
double tpot_s(const RequestRecord& r) {
  if (r.output_len <= 1) return 0;
  return (r.e2e_s - r.ttft_s) / static_cast<double>(r.output_len - 1);
}

constexpr std::array<std::string_view, 4> kMetricNames = {"ttft", "tpot", "itl", "e2el"};

std::array<LatencyStats*, 4> metric_fields(BenchSummary& s) {
  return {&s.ttft, &s.tpot, &s.itl, &s.e2el};
}

template <typename T>
T get_key(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) fail("benchmark summary JSON: missing key '{}'", key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("benchmark summary JSON: key '{}' has the wrong type ({})", key, it->type_name());
  }
}

double get_number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) fail("benchmark summary JSON: missing key '{}'", key);
  if (!it->is_number()) {
    fail("benchmark summary JSON: key '{}' must be a number, got {}", key, it->type_name());
  }
  return it->get<double>();
}

std::optional<double> get_optional_number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return get_number(j, key);
}

}  // namespace

SloTargets parse_slo(const std::string& spec) {
  SloTargets slo;
  std::string_view rest = spec;
  if (trim(rest).empty()) return slo;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      fail("--slo '{}': expected key=milliseconds (keys ttft, tpot, e2e), got '{}'", spec, item);
    }
    const std::string_view key = trim(item.substr(0, eq));
    const double ms = parse_ms(key, trim(item.substr(eq + 1)), spec);
    if (key == "ttft") {
      slo.ttft_ms = ms;
    } else if (key == "tpot") {
      slo.tpot_ms = ms;
    } else if (key == "e2e" || key == "e2el") {
      slo.e2e_ms = ms;
    } else {
      fail("--slo '{}': unknown key '{}' (expected ttft, tpot or e2e)", spec, key);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return slo;
}

double percentile(std::vector<double> values, double p) {
  if (!(p >= 0 && p <= 100)) fail("percentile must be in [0, 100], got {}", p);
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = static_cast<double>(values.size() - 1) * p / 100.0;
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

BenchSummary summarize(const std::vector<RequestRecord>& records, double duration_s,
                       const SloTargets& slo) {
  BenchSummary s;
  s.duration_s = duration_s;
  std::vector<double> ttfts, tpots, itls, e2es;
  int64_t good = 0;
  for (const RequestRecord& r : records) {
    if (!r.success) {
      ++s.failed;
      continue;
    }
    ++s.completed;
    s.total_input_tokens += r.prompt_len;
    s.total_output_tokens += r.output_len;
    ttfts.push_back(r.ttft_s);
    e2es.push_back(r.e2e_s);
    if (r.output_len > 1) tpots.push_back(tpot_s(r));
    itls.insert(itls.end(), r.itl_s.begin(), r.itl_s.end());
    const bool ok = (!slo.ttft_ms || r.ttft_s * 1000.0 <= *slo.ttft_ms) &&
                    (!slo.tpot_ms || tpot_s(r) * 1000.0 <= *slo.tpot_ms) &&
                    (!slo.e2e_ms || r.e2e_s * 1000.0 <= *slo.e2e_ms);
    if (ok) ++good;
  }
  if (duration_s > 0) {
    s.request_throughput = static_cast<double>(s.completed) / duration_s;
    s.output_throughput = static_cast<double>(s.total_output_tokens) / duration_s;
    s.total_token_throughput =
        static_cast<double>(s.total_input_tokens + s.total_output_tokens) / duration_s;
    s.request_goodput = static_cast<double>(good) / duration_s;
  }
  s.ttft = stats_ms(std::move(ttfts));
  s.tpot = stats_ms(std::move(tpots));
  s.itl = stats_ms(std::move(itls));
  s.e2el = stats_ms(std::move(e2es));
  return s;
}

nlohmann::json to_json(const BenchSummary& s) {
  nlohmann::json j = {
      {"completed", s.completed},
      {"failed", s.failed},
      {"duration", s.duration_s},
      {"total_input_tokens", s.total_input_tokens},
      {"total_output_tokens", s.total_output_tokens},
      {"request_throughput", s.request_throughput},
      {"output_throughput", s.output_throughput},
      {"total_token_throughput", s.total_token_throughput},
      {"request_goodput", s.request_goodput},
  };
  BenchSummary copy = s;
  const auto fields = metric_fields(copy);
  for (size_t i = 0; i < kMetricNames.size(); ++i) {
    const std::string m(kMetricNames[i]);
    const LatencyStats& st = *fields[i];
    j["mean_" + m + "_ms"] = st.mean_ms;
    j["median_" + m + "_ms"] = st.median_ms;
    j["p90_" + m + "_ms"] = st.p90_ms;
    j["p99_" + m + "_ms"] = st.p99_ms;
    j["std_" + m + "_ms"] = st.std_ms;
  }
  j["energy_joules"] = s.energy_joules ? nlohmann::json(*s.energy_joules) : nlohmann::json();
  j["joules_per_output_token"] =
      s.joules_per_output_token ? nlohmann::json(*s.joules_per_output_token) : nlohmann::json();
  j["energy_source"] = s.energy_source;
  return j;
}

BenchSummary summary_from_json(const nlohmann::json& j) {
  if (!j.is_object()) fail("benchmark summary JSON: expected an object, got {}", j.type_name());
  BenchSummary s;
  // Counts are integers in files we write, but a median over runs may be fractional: round.
  s.completed = std::llround(get_number(j, "completed"));
  s.failed = std::llround(get_number(j, "failed"));
  s.duration_s = get_number(j, "duration");
  s.total_input_tokens = std::llround(get_number(j, "total_input_tokens"));
  s.total_output_tokens = std::llround(get_number(j, "total_output_tokens"));
  s.request_throughput = get_number(j, "request_throughput");
  s.output_throughput = get_number(j, "output_throughput");
  s.total_token_throughput = get_number(j, "total_token_throughput");
  s.request_goodput = get_number(j, "request_goodput");
  const auto fields = metric_fields(s);
  for (size_t i = 0; i < kMetricNames.size(); ++i) {
    const std::string m(kMetricNames[i]);
    LatencyStats& st = *fields[i];
    st.mean_ms = get_number(j, ("mean_" + m + "_ms").c_str());
    st.median_ms = get_number(j, ("median_" + m + "_ms").c_str());
    st.p90_ms = get_number(j, ("p90_" + m + "_ms").c_str());
    st.p99_ms = get_number(j, ("p99_" + m + "_ms").c_str());
    st.std_ms = get_number(j, ("std_" + m + "_ms").c_str());
  }
  s.energy_joules = get_optional_number(j, "energy_joules");
  s.joules_per_output_token = get_optional_number(j, "joules_per_output_token");
  s.energy_source = get_key<std::string>(j, "energy_source");
  return s;
}

}  // namespace pareto::bench
