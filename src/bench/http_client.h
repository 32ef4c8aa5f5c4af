// A small blocking HTTP/1.1 client (Boost.Beast) for the benchmark harness: GET /v1/models, GET
// /metrics, POST /reset_prefix_cache. The streaming load generator itself is asynchronous
// (openai_stream_request.h); this is for the few calls made around it, by the sweep and tests.
#pragma once

#include <cstdint>
#include <string>

namespace pareto::bench {

// The parts of an "http://host[:port][/path]" URL.
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path and query, always starting with '/'
};

// Throws pareto::Error for anything but a plain http:// URL with a host (https is not supported:
// the message says so), or a port outside 1..65535.
HttpUrl parse_http_url(const std::string& url);

// `base` without trailing slashes followed by `path` (which starts with '/').
std::string join_url(const std::string& base, const std::string& path);

struct HttpResponse {
  int status = 0;
  std::string body;
};

// One blocking HTTP/1.1 request to an http:// URL (host:port/path) on its own connection.
// Connection failure or timeout (timeout_s for the whole exchange) -> pareto::Error naming the URL;
// any HTTP status is returned, not thrown. api_key non-empty -> "Authorization: Bearer <key>". A
// non-empty body is sent as application/json.
HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body = "", const std::string& api_key = "",
                          double timeout_s = 30);

}  // namespace pareto::bench
