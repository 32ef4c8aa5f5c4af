#include "server/http_wire.h"

#include <fmt/format.h>
#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace pareto::server {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool has_header(const HeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

void append_status_line(std::string& out, int status) {
  auto reason = boost::beast::http::obsolete_reason(boost::beast::http::int_to_status(status));
  if (reason == "<unknown-status>") reason = "Unknown";
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", status,
                 std::string_view(reason.data(), reason.size()));
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The transport owns framing and connection management, so handlers cannot override those
// headers; values with CR or LF would let a handler (or a client echoed by one) inject headers.
void append_extra_headers(std::string& out, const HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
        iequals(name, "connection")) {
      continue;
    }
    auto bad = [](char c) { return c == '\r' || c == '\n'; };
    if (name.empty() || std::any_of(name.begin(), name.end(), bad) ||
        std::any_of(value.begin(), value.end(), bad)) {
      continue;
    }
    append_header(out, name, value);
  }
}

bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

}  // namespace

std::string error_body(std::string_view message) {
  nlohmann::json j = {{"error",
                       {{"message", message},
                        {"type", "invalid_request_error"},
                        {"param", nullptr},
                        {"code", nullptr}}}};
  return j.dump();
}

std::string format_response(int status, std::string_view content_type, const HeaderList& headers,
                            std::string_view body, bool keep_alive, bool head_only) {
  bool with_body = status_has_body(status);
  std::string out;
  out.reserve(160 + body.size());
  append_status_line(out, status);
  if (with_body && !content_type.empty()) append_header(out, "Content-Type", content_type);
  if (with_body) append_header(out, "Content-Length", std::to_string(body.size()));
  append_header(out, "Connection", keep_alive ? "keep-alive" : "close");
  append_extra_headers(out, headers);
  out.append("\r\n");
  if (with_body && !head_only) out.append(body);
  return out;
}

std::string format_stream_head(int status, std::string_view content_type, const HeaderList& headers,
                               bool keep_alive, bool chunked) {
  std::string out;
  append_status_line(out, status);
  if (!content_type.empty()) append_header(out, "Content-Type", content_type);
  if (chunked) append_header(out, "Transfer-Encoding", "chunked");
  if (!has_header(headers, "cache-control")) append_header(out, "Cache-Control", "no-cache");
  // Reverse proxies (nginx) buffer responses unless told otherwise, which would hold back
  // server-sent events until the stream ends.
  if (content_type.starts_with("text/event-stream") && !has_header(headers, "x-accel-buffering")) {
    append_header(out, "X-Accel-Buffering", "no");
  }
  append_header(out, "Connection", keep_alive ? "keep-alive" : "close");
  append_extra_headers(out, headers);
  out.append("\r\n");
  return out;
}

std::string frame_chunk(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 12);
  fmt::format_to(std::back_inserter(out), "{:x}\r\n", data.size());
  out.append(data).append("\r\n");
  return out;
}

}  // namespace pareto::server
