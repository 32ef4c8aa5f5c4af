// Asynchronous HTTP/1.1 transport (Boost.Beast): keep-alive, a body size limit, timeouts for
// slow or idle clients, no thread per connection. It knows nothing of OpenAI or the engine:
// a Handler gets each parsed request and answers through a Responder, either with one whole
// response or with a stream of chunks (server-sent events), from any thread.
//
// A client that goes away while its request is being answered (closed socket, reset, write
// timeout) fires Responder::on_client_gone, so the handler can abort work at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pareto::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // target without the query string
  // Header names lowercased; values as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

  // The first header with this (case-insensitive) name, or "" when absent.
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// One request's way back to its client. Every method is thread-safe and may be called from any
// thread; the work is posted to the connection's strand. Calls after the client has gone, or
// after the response is complete, are ignored (write returns false).
class Responder {
 public:
  virtual ~Responder() = default;

  // A whole response. Call at most once, and not after start_stream.
  virtual void respond(HttpResponse response) = 0;

  // Starts a chunked response (Transfer-Encoding: chunked) with this status, content type and
  // headers; for SSE use "text/event-stream". Then write() chunks and finally end_stream().
  virtual void start_stream(int status, std::string content_type,
                            std::vector<std::pair<std::string, std::string>> headers = {}) = 0;
  // Queues bytes to send as one chunk; false once the client is gone (the bytes are dropped).
  virtual bool write(std::string data) = 0;
  // Completes the streamed response; the connection then serves its next request (keep-alive).
  virtual void end_stream() = 0;

  // True once the client has disconnected or timed out before the response was complete.
  virtual bool client_gone() const = 0;
  // Registers the callback run once when the client goes away before the response completes
  // (immediately, on the calling thread, if it already has). It runs on the server's I/O
  // thread and must not block. Not called once the response has completed.
  virtual void on_client_gone(std::function<void()> callback) = 0;
};

// Called on an I/O thread for each complete request; must not block (hand long work to another
// thread and answer through the responder later). A handler that throws gets a 500 response
// (unless it answered already). Requests on one connection are handed over one at a time: a
// pipelined request waits until the previous response has completed.
using HttpHandler = std::function<void(HttpRequest&&, std::shared_ptr<Responder>)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;               // 0 = any free port (see HttpServer::port())
  size_t max_body_bytes = 16u << 20;  // larger bodies get 413
  size_t max_header_bytes = 64u << 10;
  // A request's header and body must arrive within this (slow clients are cut off with 408),
  // counted from its first byte, or from the accept for a connection's first request (a new
  // connection that sends nothing is closed without a response).
  std::chrono::milliseconds request_timeout{30000};
  // A kept-alive connection with no new request for this long is closed.
  std::chrono::milliseconds idle_timeout{60000};
  // A write that the client does not accept within this long counts as a client gone.
  std::chrono::milliseconds write_timeout{60000};
  // Bytes queued on one streamed response beyond this count as a client gone (it isn't reading).
  // Counted from write() until the bytes are handed to the kernel; whole responses are exempt.
  size_t max_pending_write_bytes = 8u << 20;
  int num_io_threads = 1;
  // Run the I/O threads under SCHED_BATCH (base/thread_scheduling.h): a socket write or read
  // then waits for an idle core or the next scheduler tick instead of preempting an engine
  // thread in the middle of a step.
  bool batch_scheduling = true;
  // CPUs the I/O threads run on (empty: wherever the OS puts them). With cores to spare, keeping
  // them off the engine's cores takes the HTTP path's CPU out of the steps (serve --io-cpus).
  std::vector<int> cpus{};
  size_t max_connections = 10000;  // beyond this, new connections are accepted and closed at once
};

class HttpServer {
 public:
  // Binds and listens (throws pareto::Error with the address on failure); serves after start().
  // Also raises the process's RLIMIT_NOFILE soft limit to its hard limit (logged).
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stop() then join; must not run on one of the server's I/O threads
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();           // launches the I/O threads
  uint16_t port() const;  // the bound port
  // Stops accepting new connections; idle kept-alive connections are closed, connections in
  // the middle of a request keep going until their response completes, then close. Called
  // outside the I/O threads, it returns once the listening socket is closed (new connections
  // are refused from then on).
  void stop_accepting();
  // Number of requests handed to the handler whose response has neither completed nor been cut
  // short by the client going away.
  size_t num_active_requests() const;
  size_t num_open_connections() const;
  // Closes every connection (their responders see client_gone, their callbacks run) and stops
  // the I/O threads; returns once they are joined. Idempotent. Called from an I/O thread (a
  // handler), it only starts the shutdown and the destructor completes it.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pareto::server
