// One accepted TCP connection of HttpServer and the per-request Responder handed to handlers.
//
// Threading: every member of HttpConnection runs on the connection's strand (its socket's
// executor), except the constructor, start(), drain(), close() and strand(), which only post.
// HttpExchange (the Responder) is called from any thread; it posts to the strand while holding
// its mutex, and the connection clears the exchange's back pointer under that mutex when the
// response completes or the connection closes, so nothing is posted to a closed connection and
// a responder kept by a handler only keeps the small exchange alive, not the connection.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/http_server.h"

namespace pareto::server {

class HttpConnection;

// What the server and its connections share; connections hold it by shared_ptr so that it
// outlives the last of them whatever the order of destruction.
struct HttpServerState {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<size_t> num_active_requests{0};
  std::atomic<bool> draining{false};  // stop_accepting() was called

  std::mutex mutex;                    // guards the members below
  std::condition_variable all_closed;  // signalled when num_open_connections drops to 0
  size_t num_open_connections = 0;
  bool stopped = false;  // stop() was called: no new connections
  uint64_t next_connection_id = 1;
  std::unordered_map<uint64_t, std::weak_ptr<HttpConnection>> connections;
};

class HttpExchange final : public Responder, public std::enable_shared_from_this<HttpExchange> {
 public:
  HttpExchange(std::shared_ptr<HttpConnection> connection, size_t max_pending_write_bytes);

  void respond(HttpResponse response) override;
  void start_stream(int status, std::string content_type,
                    std::vector<std::pair<std::string, std::string>> headers) override;
  bool write(std::string data) override;
  void end_stream() override;
  bool client_gone() const override { return gone_.load(std::memory_order_acquire); }
  void on_client_gone(std::function<void()> callback) override;

  // Whether respond() or start_stream() was called.
  bool answered() const { return stage_.load() != kNothingSent; }

  // On the connection's strand: the response was fully written.
  void mark_complete();
  // On the connection's strand: the client left first; runs the callback here.
  void mark_gone();
  // On the connection's strand: streamed bytes left the write queue.
  void release_pending(size_t num_bytes) {
    pending_bytes_.fetch_sub(num_bytes, std::memory_order_relaxed);
  }

 private:
  // Posts fn(connection, self) to the connection's strand; false once detached.
  template <typename Fn>
  bool post_to_connection(Fn&& fn);

  const size_t max_pending_write_bytes_;
  // Which calls were made, checked on the caller's side so that misuse (respond() after
  // start_stream(), write() before it) is ignored without disturbing the valid calls.
  enum Stage : int { kNothingSent, kStreaming, kEnded };
  bool advance(Stage from, Stage to) { return stage_.compare_exchange_strong(from, to); }

  std::atomic<bool> gone_{false};
  std::atomic<Stage> stage_{kNothingSent};
  std::atomic<size_t> pending_bytes_{0};

  std::mutex mutex_;                            // guards the members below
  std::shared_ptr<HttpConnection> connection_;  // null once complete or gone
  std::function<void()> on_gone_;
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(boost::asio::ip::tcp::socket socket, std::shared_ptr<HttpServerState> state,
                 uint64_t id, std::string remote_address);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void start();
  // stop_accepting(): closes the connection if it is between requests, else after its response.
  void drain();
  // stop(): closes at once; an unfinished response sees its client gone.
  void close();
  // close() without posting, for stop() once no I/O thread runs any more.
  void close_now();

  const boost::asio::any_io_executor& strand() const { return strand_; }

  // Responder calls, on the strand; ignored unless exchange is the current one.
  void exchange_respond(const std::shared_ptr<HttpExchange>& exchange, HttpResponse response);
  void exchange_start_stream(const std::shared_ptr<HttpExchange>& exchange, int status,
                             std::string content_type,
                             std::vector<std::pair<std::string, std::string>> headers);
  void exchange_write(const std::shared_ptr<HttpExchange>& exchange, std::string data);
  void exchange_end_stream(const std::shared_ptr<HttpExchange>& exchange);
  void exchange_overflow(const std::shared_ptr<HttpExchange>& exchange);

 private:
  enum class Phase { kReading, kAnswering, kClosing, kClosed };
  enum class Reply { kNone, kWhole, kStreaming, kStreamEnded };
  struct OutBytes {
    std::string bytes;
    size_t num_counted;  // streamed payload bytes counted against max_pending_write_bytes
  };

  void begin_request(bool first);
  void parse_buffer();
  void maybe_send_continue();
  void dispatch();
  void reject_request(int status, std::string message);
  void finish_exchange();
  void fail_exchange();
  void begin_close();
  void start_linger();

  void maybe_read();
  void on_read(boost::system::error_code ec, size_t num_bytes);
  void arm_read_timer(std::chrono::milliseconds timeout);
  void cancel_read_timer();
  void on_read_timeout();

  void enqueue(std::string bytes, size_t num_counted);
  void flush();
  void on_write(boost::system::error_code ec);
  void on_output_drained();

  const std::shared_ptr<HttpServerState> state_;
  const uint64_t id_;
  const std::string remote_address_;
  boost::asio::ip::tcp::socket socket_;
  const boost::asio::any_io_executor strand_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  uint64_t read_timer_generation_ = 0;
  uint64_t write_timer_generation_ = 0;

  Phase phase_ = Phase::kReading;
  // Reads land in read_chunk_ and are then appended to input_, because input_ is consumed by
  // the parser while the disconnect-watching read is still in flight. It grows while a client
  // sends a large body (fewer wakeups) and shrinks back after, so idle connections stay small.
  std::vector<char> read_chunk_;
  boost::beast::flat_buffer input_;
  bool reading_ = false;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool request_started_ = false;  // bytes of the next request have arrived
  bool continue_sent_ = false;
  bool lingering_ = false;

  std::shared_ptr<HttpExchange> exchange_;
  Reply reply_ = Reply::kNone;
  bool keep_alive_ = true;
  bool chunked_ = true;
  bool head_only_ = false;
  unsigned version_ = 11;

  std::deque<OutBytes> queue_;
  std::vector<OutBytes> in_flight_;
  bool writing_ = false;
};

}  // namespace pareto::server
