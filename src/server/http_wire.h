// HTTP/1.1 bytes on the wire for HttpServer: status lines, header blocks, chunk framing and the
// OpenAI-style JSON error body. Pure functions, no I/O, so they are testable on their own.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pareto::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// {"error":{"message":...,"type":"invalid_request_error","param":null,"code":null}}
std::string error_body(std::string_view message);

// A complete response with Content-Length. head_only leaves the body out (HEAD requests) while
// still announcing its length.
std::string format_response(int status, std::string_view content_type, const HeaderList& headers,
                            std::string_view body, bool keep_alive, bool head_only);

// The header block of a streamed response: chunked for HTTP/1.1 clients; for HTTP/1.0 clients
// (chunked = false) the body is raw and delimited by closing the connection.
std::string format_stream_head(int status, std::string_view content_type, const HeaderList& headers,
                               bool keep_alive, bool chunked);

// One chunk of a chunked body; data must not be empty (an empty chunk ends the body).
std::string frame_chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace pareto::server
