// One streamed OpenAI request (/v1/completions or /v1/chat/completions with "stream": true), driven
// asynchronously on a caller's io_context so that one thread can keep any number of requests in
// flight. Each request measures, from the moment it is started: time to the first chunk carrying
// text (TTFT), the gaps between successive text chunks (ITL), and the time of "data: [DONE]" or of
// the last byte (E2E); token counts come from the usage chunk that "stream_options":
// {"include_usage": true} asks for. Timestamps are taken (steady_clock) in the read handler, i.e.
// when the bytes arrive, so the caller's own work does not skew them as long as the io_context
// thread is not starved.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_dataset.h"
#include "bench/latency_summary.h"

namespace pareto::bench {

struct StreamRequestOptions {
  std::string model;
  bool chat = false;  // /v1/chat/completions (one user message) instead of
                      // /v1/completions
  bool ignore_eos = false;
  double temperature = 0.0;
  uint64_t seed = 0;
};

// The JSON body: {"model", "prompt" | "messages": [{"role": "user", "content"}], "max_tokens":
// prompt.output_len, "stream": true, "stream_options": {"include_usage": true}, "temperature",
// "seed"}, plus "ignore_eos": true only when set (a vLLM/Pareto extension other servers ignore).
nlohmann::json openai_stream_body(const StreamRequestOptions& options, const BenchPrompt& prompt);

// Where requests go: the resolved server address and what goes in the request line and headers.
struct StreamTarget {
  boost::asio::ip::tcp::resolver::results_type endpoints;
  std::string host_header;  // "host:port"
  std::string path;         // "/v1/completions" (any base path of the URL included)
  std::string api_key;      // "" = no Authorization header
  double timeout_s = 600;   // for the whole request, connect to last byte
};

using SteadyClock = std::chrono::steady_clock;

// The connections requests go out on. With keep-alive (the default, as vLLM's `bench serve` and the
// OpenAI SDKs do) a connection whose response was read to its end, and which the server did not
// ask to close, waits here for the next request instead of being closed: a request then costs the
// server no accept and the two sides no handshake. Without it every request opens a connection and
// asks the server to close it ("Connection: close"). Used on one io_context thread only.
class StreamConnectionPool {
 public:
  explicit StreamConnectionPool(bool keep_alive) : keep_alive_(keep_alive) {}
  bool keep_alive() const { return keep_alive_; }
  // An idle connection that is still open (one the server has closed meanwhile is dropped), or
  // nothing: then the caller connects a new one.
  std::optional<boost::beast::tcp_stream> take();
  void put(boost::beast::tcp_stream&& stream);  // keep_alive() only
  void count_opened() { ++opened_; }
  int64_t opened() const { return opened_; }  // connections opened so far
  size_t idle() const { return idle_.size(); }

 private:
  bool keep_alive_;
  std::vector<boost::beast::tcp_stream> idle_;
  int64_t opened_ = 0;
};

// Starts one request now on `ioc` and returns at once; `done` is called exactly once, on the
// io_context's thread, with the record. Never throws for what happens on the wire: connection
// errors, non-200 answers (the error text includes the status and body), error objects in the
// stream, a stream without any text, disconnects and timeouts give success = false with the reason
// in `error`. start_s is measured from `bench_start`; output_len falls back to the number of text
// chunks when the server sends no usage. A request sent on a reused connection that the server
// closes before answering (its idle timeout can race the request) is sent again once on a new
// connection. `target` and `pool` must outlive the request.
void start_stream_request(boost::asio::io_context& ioc, const StreamTarget& target,
                          StreamConnectionPool& pool, std::string body,
                          SteadyClock::time_point bench_start,
                          std::function<void(RequestRecord&&)> done);

}  // namespace pareto::bench
