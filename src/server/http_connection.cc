#include "server/http_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

#include "server/http_wire.h"

namespace pareto::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// A client that keeps sending while its request is answered (pipelining) is not read from
// beyond this, which bounds memory; the bytes stay in the kernel until the response is done.
constexpr size_t kMaxBufferedWhileAnswering = 64u << 10;
// After an error response or a Connection: close, wait this long for the client to close its
// side, so that unread request bytes do not turn our close into a reset that could destroy
// the response before the client reads it.
constexpr std::chrono::milliseconds kLingerTimeout{2000};
constexpr size_t kMinReadBytes = 8u << 10;
constexpr size_t kMaxReadBytes = 64u << 10;

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpExchange

HttpExchange::HttpExchange(std::shared_ptr<HttpConnection> connection,
                           size_t max_pending_write_bytes)
    : max_pending_write_bytes_(max_pending_write_bytes), connection_(std::move(connection)) {}

template <typename Fn>
bool HttpExchange::post_to_connection(Fn&& fn) {
  // Posting under the mutex: once the connection has detached us (under the same mutex) no
  // handler can reach its strand, which is what lets the server destroy its io_context.
  std::lock_guard lock(mutex_);
  if (!connection_) return false;
  net::post(connection_->strand(),
            [connection = connection_, self = shared_from_this(),
             fn = std::forward<Fn>(fn)]() mutable { fn(*connection, self); });
  return true;
}

void HttpExchange::respond(HttpResponse response) {
  if (!advance(kNothingSent, kEnded)) {
    spdlog::warn("http: respond() after respond() or start_stream() ignored");
    return;
  }
  post_to_connection([response = std::move(response)](HttpConnection& c, const auto& self) mutable {
    c.exchange_respond(self, std::move(response));
  });
}

void HttpExchange::start_stream(int status, std::string content_type,
                                std::vector<std::pair<std::string, std::string>> headers) {
  if (!advance(kNothingSent, kStreaming)) {
    spdlog::warn("http: start_stream() after respond() or start_stream() ignored");
    return;
  }
  post_to_connection([status, content_type = std::move(content_type), headers = std::move(headers)](
                         HttpConnection& c, const auto& self) mutable {
    c.exchange_start_stream(self, status, std::move(content_type), std::move(headers));
  });
}

bool HttpExchange::write(std::string data) {
  if (gone_.load(std::memory_order_acquire) || stage_.load() != kStreaming) return false;
  if (data.empty()) return true;  // an empty chunk would end the stream
  size_t size = data.size();
  size_t pending = pending_bytes_.fetch_add(size, std::memory_order_relaxed) + size;
  if (pending > max_pending_write_bytes_) {
    pending_bytes_.fetch_sub(size, std::memory_order_relaxed);
    post_to_connection([](HttpConnection& c, const auto& self) { c.exchange_overflow(self); });
    return false;
  }
  bool posted =
      post_to_connection([data = std::move(data)](HttpConnection& c, const auto& self) mutable {
        c.exchange_write(self, std::move(data));
      });
  if (!posted) pending_bytes_.fetch_sub(size, std::memory_order_relaxed);
  return posted && !gone_.load(std::memory_order_acquire);
}

void HttpExchange::end_stream() {
  if (!advance(kStreaming, kEnded)) return;
  post_to_connection([](HttpConnection& c, const auto& self) { c.exchange_end_stream(self); });
}

void HttpExchange::on_client_gone(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!gone_.load(std::memory_order_acquire)) {
      if (connection_) on_gone_ = std::move(callback);
      return;
    }
  }
  if (callback) callback();
}

void HttpExchange::mark_complete() {
  std::lock_guard lock(mutex_);
  connection_.reset();
  on_gone_ = nullptr;
}

void HttpExchange::mark_gone() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex_);
    if (gone_.load(std::memory_order_relaxed) || !connection_) return;
    gone_.store(true, std::memory_order_release);
    connection_.reset();
    callback = std::move(on_gone_);
    on_gone_ = nullptr;
  }
  if (!callback) return;
  try {
    callback();
  } catch (const std::exception& e) {
    spdlog::warn("http: on_client_gone callback threw: {}", e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// HttpConnection: lifecycle

HttpConnection::HttpConnection(net::ip::tcp::socket socket, std::shared_ptr<HttpServerState> state,
                               uint64_t id, std::string remote_address)
    : state_(std::move(state)),
      id_(id),
      remote_address_(std::move(remote_address)),
      socket_(std::move(socket)),
      strand_(socket_.get_executor()),
      read_timer_(strand_),
      write_timer_(strand_),
      read_chunk_(kMinReadBytes) {}

HttpConnection::~HttpConnection() {
  std::lock_guard lock(state_->mutex);
  state_->connections.erase(id_);
  // Only when the io_context was torn down with this connection's start still queued.
  if (phase_ != Phase::kClosed && --state_->num_open_connections == 0) {
    state_->all_closed.notify_all();
  }
}

void HttpConnection::start() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->phase_ == Phase::kClosed) return;
    spdlog::debug("http: connection {} from {} opened", self->id_, self->remote_address_);
    self->begin_request(true);
    self->maybe_read();
  });
}

void HttpConnection::drain() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->phase_ == Phase::kReading && !self->request_started_) self->close_now();
  });
}

void HttpConnection::close() {
  net::post(strand_, [self = shared_from_this()] { self->close_now(); });
}

void HttpConnection::close_now() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  spdlog::debug("http: connection {} closed", id_);
  fail_exchange();
  cancel_read_timer();
  ++write_timer_generation_;
  write_timer_.cancel();
  error_code ec;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  queue_.clear();  // in_flight_ stays until the aborted write completes: it owns the buffers
  parser_.reset();
  input_.clear();
  input_.shrink_to_fit();
  std::lock_guard lock(state_->mutex);
  if (--state_->num_open_connections == 0) state_->all_closed.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Requests

void HttpConnection::begin_request(bool first) {
  phase_ = Phase::kReading;
  parser_.emplace();
  parser_->eager(true);
  parser_->header_limit(
      static_cast<std::uint32_t>(std::min<size_t>(state_->options.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(static_cast<std::uint64_t>(state_->options.max_body_bytes));
  continue_sent_ = false;
  request_started_ = input_.size() > 0;
  const auto& options = state_->options;
  arm_read_timer(request_started_ || first ? options.request_timeout : options.idle_timeout);
  if (request_started_) parse_buffer();
}

void HttpConnection::parse_buffer() {
  while (phase_ == Phase::kReading && input_.size() > 0) {
    error_code ec;
    size_t used = parser_->put(input_.data(), ec);
    input_.consume(used);
    if (ec == http::error::need_more) {
      // Beast bounds the header block itself; this bounds anything else it cannot consume
      // yet (a chunk-size line that never ends), which would otherwise grow without limit.
      if (input_.size() > state_->options.max_header_bytes + kMaxReadBytes) {
        return reject_request(400, "Malformed HTTP request: a line is too long");
      }
      break;
    }
    if (ec == http::error::header_limit) {
      return reject_request(431, fmt::format("Request header fields are larger than {} bytes",
                                             state_->options.max_header_bytes));
    }
    if (ec == http::error::body_limit) {
      return reject_request(
          413, fmt::format("Request body is larger than {} bytes", state_->options.max_body_bytes));
    }
    if (ec) return reject_request(400, fmt::format("Malformed HTTP request: {}", ec.message()));
    if (parser_->is_done()) return dispatch();
    if (used == 0) break;
  }
  if (phase_ == Phase::kReading) maybe_send_continue();
}

// Clients such as curl wait (about a second) for "100 Continue" before sending a large body.
void HttpConnection::maybe_send_continue() {
  if (continue_sent_ || !parser_->is_header_done() || parser_->is_done()) return;
  continue_sent_ = true;
  const auto& msg = parser_->get();
  auto expect = msg[http::field::expect];
  if (msg.version() >= 11 && lowercase({expect.data(), expect.size()}) == "100-continue") {
    enqueue("HTTP/1.1 100 Continue\r\n\r\n", 0);
  }
}

void HttpConnection::dispatch() {
  cancel_read_timer();
  auto msg = parser_->release();
  parser_.reset();

  HttpRequest request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  request.path = request.target.substr(0, request.target.find('?'));
  request.headers.reserve(std::distance(msg.begin(), msg.end()));
  for (const auto& field : msg) {
    auto name = field.name_string();
    auto value = field.value();
    request.headers.emplace_back(lowercase({name.data(), name.size()}),
                                 std::string(value.data(), value.size()));
  }
  request.body = std::move(msg.body());
  request.remote_address = remote_address_;

  keep_alive_ = msg.keep_alive() && !state_->draining.load();
  version_ = msg.version();
  head_only_ = msg.method() == http::verb::head;
  reply_ = Reply::kNone;
  phase_ = Phase::kAnswering;
  spdlog::debug("http: connection {}: {} {}", id_, request.method, request.target);

  auto exchange =
      std::make_shared<HttpExchange>(shared_from_this(), state_->options.max_pending_write_bytes);
  exchange_ = exchange;
  state_->num_active_requests.fetch_add(1);
  try {
    state_->handler(std::move(request), exchange);
  } catch (const std::exception& e) {
    spdlog::warn("http: handler threw on connection {}: {}", id_, e.what());
    if (exchange->answered()) return maybe_read();
    HttpResponse response;
    response.status = 500;
    response.body = error_body(fmt::format("Internal server error: {}", e.what()));
    exchange->respond(std::move(response));
  }
  // Keep reading while the response is produced: that is how a client leaving is noticed.
  maybe_read();
}

void HttpConnection::reject_request(int status, std::string message) {
  spdlog::debug("http: connection {}: {} ({})", id_, status, message);
  keep_alive_ = false;
  enqueue(format_response(status, "application/json", {}, error_body(message), false, false), 0);
  begin_close();
}

void HttpConnection::finish_exchange() {
  exchange_->mark_complete();
  exchange_.reset();
  state_->num_active_requests.fetch_sub(1);
  if (!keep_alive_ || state_->draining.load()) return begin_close();
  begin_request(false);
  maybe_read();
}

void HttpConnection::fail_exchange() {
  if (!exchange_) return;
  auto exchange = std::move(exchange_);
  exchange_.reset();
  state_->num_active_requests.fetch_sub(1);
  spdlog::debug("http: connection {}: client gone before the response completed", id_);
  exchange->mark_gone();
}

void HttpConnection::begin_close() {
  phase_ = Phase::kClosing;
  cancel_read_timer();
  parser_.reset();
  if (!writing_) start_linger();
}

void HttpConnection::start_linger() {
  if (lingering_) return;
  lingering_ = true;
  error_code ec;
  socket_.shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) return close_now();
  arm_read_timer(kLingerTimeout);
  maybe_read();
}

// ---------------------------------------------------------------------------------------------
// Reading

void HttpConnection::maybe_read() {
  if (reading_ || phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kAnswering && input_.size() >= kMaxBufferedWhileAnswering) return;
  reading_ = true;
  socket_.async_read_some(net::buffer(read_chunk_.data(), read_chunk_.size()),
                          [self = shared_from_this()](error_code ec, size_t num_bytes) {
                            self->on_read(ec, num_bytes);
                          });
}

void HttpConnection::on_read(error_code ec, size_t num_bytes) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    if (ec != net::error::eof && ec != net::error::operation_aborted) {
      spdlog::debug("http: connection {}: read: {}", id_, ec.message());
    }
    return close_now();  // while answering, this is the client leaving: fail_exchange tells
  }
  if (phase_ == Phase::kReading || phase_ == Phase::kAnswering) {
    input_.commit(
        net::buffer_copy(input_.prepare(num_bytes), net::buffer(read_chunk_.data(), num_bytes)));
  }  // else closing: the client's leftovers are discarded
  // Resized only here, where no read is in flight into it.
  if (num_bytes == read_chunk_.size() && read_chunk_.size() < kMaxReadBytes) {
    read_chunk_.resize(read_chunk_.size() * 2);
  } else if (num_bytes < kMinReadBytes && read_chunk_.size() > kMinReadBytes) {
    read_chunk_ = std::vector<char>(kMinReadBytes);
  }
  if (phase_ == Phase::kReading) {
    if (!request_started_) {
      request_started_ = true;
      arm_read_timer(state_->options.request_timeout);
    }
    parse_buffer();
  }
  maybe_read();
}

void HttpConnection::arm_read_timer(std::chrono::milliseconds timeout) {
  uint64_t generation = ++read_timer_generation_;
  read_timer_.expires_after(timeout);
  read_timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->read_timer_generation_) return;
    self->on_read_timeout();
  });
}

void HttpConnection::cancel_read_timer() {
  ++read_timer_generation_;
  read_timer_.cancel();
}

void HttpConnection::on_read_timeout() {
  if (phase_ == Phase::kReading && request_started_) {
    reject_request(408, fmt::format("The request did not arrive within {} ms",
                                    state_->options.request_timeout.count()));
  } else if (phase_ == Phase::kReading || phase_ == Phase::kClosing) {
    spdlog::debug("http: connection {}: {} timeout", id_,
                  phase_ == Phase::kReading ? "idle" : "linger");
    close_now();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

void HttpConnection::enqueue(std::string bytes, size_t num_counted) {
  queue_.push_back({std::move(bytes), num_counted});
  if (!writing_) flush();
}

void HttpConnection::flush() {
  in_flight_.clear();
  std::vector<net::const_buffer> buffers;
  buffers.reserve(queue_.size());
  while (!queue_.empty()) {
    in_flight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (const auto& out : in_flight_) buffers.push_back(net::buffer(out.bytes));
  writing_ = true;
  uint64_t generation = ++write_timer_generation_;
  write_timer_.expires_after(state_->options.write_timeout);
  write_timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->write_timer_generation_ || self->phase_ == Phase::kClosed) return;
    spdlog::debug("http: connection {}: write timed out (client not reading)", self->id_);
    self->close_now();
  });
  net::async_write(socket_, buffers,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
}

void HttpConnection::on_write(error_code ec) {
  writing_ = false;
  ++write_timer_generation_;
  write_timer_.cancel();
  if (phase_ == Phase::kClosed) return in_flight_.clear();
  if (ec) {
    spdlog::debug("http: connection {}: write: {}", id_, ec.message());
    return close_now();
  }
  size_t num_counted = 0;
  for (const auto& out : in_flight_) num_counted += out.num_counted;
  if (num_counted > 0 && exchange_) exchange_->release_pending(num_counted);
  in_flight_.clear();
  if (!queue_.empty()) return flush();
  on_output_drained();
}

void HttpConnection::on_output_drained() {
  if (phase_ == Phase::kAnswering && (reply_ == Reply::kWhole || reply_ == Reply::kStreamEnded)) {
    finish_exchange();
  } else if (phase_ == Phase::kClosing) {
    start_linger();
  }
}

// ---------------------------------------------------------------------------------------------
// Responder calls

void HttpConnection::exchange_respond(const std::shared_ptr<HttpExchange>& exchange,
                                      HttpResponse response) {
  if (exchange != exchange_ || phase_ != Phase::kAnswering) return;
  if (reply_ != Reply::kNone) {
    spdlog::warn("http: connection {}: respond() after start_stream() ignored", id_);
    return;
  }
  reply_ = Reply::kWhole;
  enqueue(format_response(response.status, response.content_type, response.headers, response.body,
                          keep_alive_, head_only_),
          0);
}

void HttpConnection::exchange_start_stream(
    const std::shared_ptr<HttpExchange>& exchange, int status, std::string content_type,
    std::vector<std::pair<std::string, std::string>> headers) {
  if (exchange != exchange_ || phase_ != Phase::kAnswering) return;
  if (reply_ != Reply::kNone) {
    spdlog::warn("http: connection {}: start_stream() called twice", id_);
    return;
  }
  reply_ = Reply::kStreaming;
  // HTTP/1.0 has no chunked encoding: the body then ends with the connection.
  chunked_ = version_ >= 11;
  if (!chunked_) keep_alive_ = false;
  enqueue(format_stream_head(status, content_type, headers, keep_alive_, chunked_), 0);
}

void HttpConnection::exchange_write(const std::shared_ptr<HttpExchange>& exchange,
                                    std::string data) {
  if (exchange != exchange_ || phase_ != Phase::kAnswering || reply_ != Reply::kStreaming) {
    exchange->release_pending(data.size());
    return;
  }
  size_t size = data.size();
  if (head_only_) {
    exchange->release_pending(size);
    return;
  }
  enqueue(chunked_ ? frame_chunk(data) : std::move(data), size);
}

void HttpConnection::exchange_end_stream(const std::shared_ptr<HttpExchange>& exchange) {
  if (exchange != exchange_ || phase_ != Phase::kAnswering || reply_ != Reply::kStreaming) return;
  reply_ = Reply::kStreamEnded;
  if (chunked_ && !head_only_) enqueue(std::string(kLastChunk), 0);
  if (!writing_) on_output_drained();
}

void HttpConnection::exchange_overflow(const std::shared_ptr<HttpExchange>& exchange) {
  if (exchange != exchange_ || phase_ == Phase::kClosed) return;
  spdlog::warn("http: connection {} ({}): more than {} bytes waiting to be sent; closing", id_,
               remote_address_, state_->options.max_pending_write_bytes);
  close_now();
}

}  // namespace pareto::server
