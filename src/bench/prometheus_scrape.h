// Reading a server's Prometheus /metrics page (text exposition format 0.0.4) into numbers, so the
// benchmark can report what the server itself counted during a run (tokens, preemptions,
// prefix-cache hits) as "after minus before".
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pareto::bench {

// Samples keyed "name{labels}" exactly as written on the page (label text unchanged), or "name"
// when the sample has no labels; e.g. "pareto:generation_tokens_total" or
// "vllm:request_success_total{finished_reason=\"length\",model_name=\"m\"}". '#' lines (HELP, TYPE,
// comments) and blank lines are skipped; values may be +Inf, -Inf or NaN; an optional timestamp
// after the value is ignored. Malformed lines are skipped rather than failing a run.
std::map<std::string, double> parse_prometheus_text(std::string_view text);

// GET <base_url>/metrics. A server without metrics (404, other non-200, an unparsable page) or one
// that cannot be reached gives an empty map: metrics are an extra, never a reason to fail.
std::map<std::string, double> scrape_metrics(const std::string& base_url,
                                             const std::string& api_key = "",
                                             double timeout_s = 10);

// after - before for every key present in both.
std::map<std::string, double> metrics_delta(const std::map<std::string, double>& before,
                                            const std::map<std::string, double>& after);

}  // namespace pareto::bench
