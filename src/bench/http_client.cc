#include "bench/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <optional>

#include "base/error.h"

namespace pareto::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

HttpUrl parse_http_url(const std::string& url) {
  std::string lower = url;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.rfind("https://", 0) == 0)
    fail(
        "{}: https is not supported; use a plain http:// URL (e.g. through a "
        "local proxy)",
        url);
  if (lower.rfind("http://", 0) != 0) fail("{}: expected a URL of the form http://host:port", url);
  const std::string rest = url.substr(7);
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  HttpUrl out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) fail("{}: no host in the URL", url);
  size_t colon = std::string::npos;
  if (authority.front() == '[') {  // [::1]:8000
    const size_t close = authority.find(']');
    if (close == std::string::npos) fail("{}: unterminated '[' in the host", url);
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') fail("{}: unexpected text after ']'", url);
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
  }
  if (out.host.empty()) fail("{}: no host in the URL", url);
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
      fail("{}: bad port '{}'", url, port);
    const int p = std::stoi(port);
    if (p < 1 || p > 65535) fail("{}: port {} out of range", url, p);
    out.port = static_cast<uint16_t>(p);
  }
  return out;
}

std::string join_url(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + path;
}

HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body, const std::string& api_key, double timeout_s) {
  const HttpUrl u = parse_http_url(url);
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) fail("{}: unknown HTTP method '{}'", url, method);

  // Asynchronous operations on a private io_context, so that one deadline (the stream's expiry)
  // covers resolve-to-last-byte; a blocking socket would need per-call timeouts.
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::request<http::string_body> req{verb, u.target, 11};
  req.set(http::field::host, u.host + ":" + std::to_string(u.port));
  req.set(http::field::user_agent, "pareto-bench");
  req.set(http::field::connection, "close");
  if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + api_key);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  std::optional<beast::error_code> result;
  const auto timeout =
      std::chrono::milliseconds(static_cast<int64_t>(std::max(0.001, timeout_s) * 1000));
  std::string stage = "resolving";

  resolver.async_resolve(
      u.host, std::to_string(u.port),
      [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) return void(result = ec);
        stage = "connecting";
        stream.expires_after(timeout);
        stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return void(result = ec);
          stage = "sending the request";
          http::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) return void(result = ec);
            stage = "reading the response";
            http::async_read(stream, buffer, parser,
                             [&](beast::error_code ec, size_t) { result = ec; });
          });
        });
      });
  // The resolver has no expiry of its own: bound the whole run.
  ioc.run_for(timeout + std::chrono::seconds(1));
  if (!result) fail("{} {}: timed out after {} s while {}", method, url, timeout_s, stage);
  if (*result == beast::error::timeout)
    fail("{} {}: timed out after {} s while {}", method, url, timeout_s, stage);
  if (*result) fail("{} {}: {} while {}", method, url, result->message(), stage);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace pareto::bench
