#include "bench/prometheus_scrape.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "base/error.h"
#include "bench/http_client.h"

namespace pareto::bench {

namespace {

bool parse_value(std::string_view s, double& out) {
  if (s == "+Inf" || s == "Inf" || s == "+inf" || s == "inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf" || s == "-inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "NaN" || s == "nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const std::string str(s);
  char* end = nullptr;
  out = std::strtod(str.c_str(), &end);
  return end != str.c_str() && *end == '\0';
}

// The end of a "{...}" label set starting at `open`, skipping quoted values (which may hold '}' or
// escaped quotes); npos when unterminated.
size_t label_set_end(std::string_view line, size_t open) {
  bool quoted = false;
  for (size_t i = open + 1; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::map<std::string, double> parse_prometheus_text(std::string_view text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty() || line.front() == '#') continue;
    // The key ends at the label set's '}' or at the first blank.
    size_t key_end = line.find_first_of("{ \t");
    if (key_end == std::string_view::npos) continue;
    if (line[key_end] == '{') {
      const size_t close = label_set_end(line, key_end);
      if (close == std::string_view::npos) continue;
      key_end = close + 1;
    }
    const std::string_view key = line.substr(0, key_end);
    std::string_view rest = trim(line.substr(key_end));
    const size_t blank = rest.find_first_of(" \t");
    if (blank != std::string_view::npos) rest = rest.substr(0, blank);  // drop a timestamp
    double value = 0;
    if (key.empty() || !parse_value(rest, value)) continue;
    out[std::string(key)] = value;
  }
  return out;
}

std::map<std::string, double> scrape_metrics(const std::string& base_url,
                                             const std::string& api_key, double timeout_s) {
  try {
    const HttpResponse r =
        http_request("GET", join_url(base_url, "/metrics"), "", api_key, timeout_s);
    if (r.status != 200) return {};
    return parse_prometheus_text(r.body);
  } catch (const Error&) {
    return {};
  }
}

std::map<std::string, double> metrics_delta(const std::map<std::string, double>& before,
                                            const std::map<std::string, double>& after) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : after) {
    const auto it = before.find(key);
    if (it != before.end()) out[key] = value - it->second;
  }
  return out;
}

}  // namespace pareto::bench
