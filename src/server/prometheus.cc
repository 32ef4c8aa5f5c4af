#include "server/prometheus.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace pareto::server {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
    fail("histogram bounds must be strictly ascending");
}

void Histogram::observe(double value) {
  const size_t idx = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                         bounds_.begin());
  std::lock_guard lock(mutex_);
  ++counts_[idx];  // bucket `le` includes values equal to its bound
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mutex_);
  s.cumulative_counts.resize(counts_.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < counts_.size(); ++i) s.cumulative_counts[i] = acc += counts_[i];
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);  // shortest round-trip representation
}

namespace {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

void PrometheusWriter::header(std::string_view name, std::string_view help, std::string_view type) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
}

void PrometheusWriter::sample(std::string_view name, const MetricLabels& labels, double value,
                              std::string_view extra_label, std::string_view extra_value) {
  out_ += name;
  if (!labels.empty() || !extra_label.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += fmt::format("{}=\"{}\"", k, escape_label_value(v));
    }
    if (!extra_label.empty()) {
      if (!first) out_ += ',';
      out_ += fmt::format("{}=\"{}\"", extra_label, extra_value);
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_metric_value(value);
  out_ += '\n';
}

void PrometheusWriter::counter(std::string_view name, std::string_view help,
                               const std::vector<std::pair<MetricLabels, double>>& samples) {
  // Classic text format: the TYPE line names the sample itself, "_total" included (as
  // prometheus_client writes it), so the counter's samples belong to the typed family.
  std::string full(name);
  if (!full.ends_with("_total")) full += "_total";
  header(full, help, "counter");
  for (const auto& [labels, value] : samples) sample(full, labels, value);
}

void PrometheusWriter::counter(std::string_view name, std::string_view help, double value) {
  counter(name, help, {{MetricLabels{}, value}});
}

void PrometheusWriter::gauge(std::string_view name, std::string_view help, double value,
                             const MetricLabels& labels) {
  header(name, help, "gauge");
  sample(name, labels, value);
}

void PrometheusWriter::histogram(std::string_view name, std::string_view help,
                                 const Histogram::Snapshot& h, const MetricLabels& labels) {
  header(name, help, "histogram");
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < h.cumulative_counts.size(); ++i) {
    const std::string le = i < h.bounds.size() ? format_metric_value(h.bounds[i]) : "+Inf";
    sample(bucket, labels, static_cast<double>(h.cumulative_counts[i]), "le", le);
  }
  sample(std::string(name) + "_sum", labels, h.sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(h.count));
}

}  // namespace pareto::server
