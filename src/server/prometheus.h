// Prometheus text exposition (format 0.0.4): a thread-safe histogram and a writer that renders
// counters, gauges and histograms with HELP/TYPE lines. The server's metric set
// (server_metrics.h) uses these; nothing here knows what is being measured.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pareto::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Cumulative-bucket histogram. Bounds are upper bounds, ascending; +Inf is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative_counts;  // [bounds.size() + 1], the last one is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last = above every bound
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Builds one exposition. Each metric family is written once with its samples; label values are
// escaped; numbers are written so that Prometheus parses them back exactly.
class PrometheusWriter {
 public:
  void counter(std::string_view name, std::string_view help,
               const std::vector<std::pair<MetricLabels, double>>& samples);
  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value,
             const MetricLabels& labels = {});
  void histogram(std::string_view name, std::string_view help, const Histogram::Snapshot& h,
                 const MetricLabels& labels = {});
  const std::string& text() const { return out_; }

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const MetricLabels& labels, double value,
              std::string_view extra_label = {}, std::string_view extra_value = {});
  std::string out_;
};

// "0.5", "1e-05", "+Inf", "NaN": Go's ParseFloat reads each back.
std::string format_metric_value(double v);

}  // namespace pareto::server
