#include "server/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cctype>
#include <future>
#include <optional>
#include <thread>

#include "base/error.h"
#include "base/thread_scheduling.h"
#include "server/http_connection.h"

namespace pareto::server {

namespace net = boost::asio;
using boost::system::error_code;
using tcp = net::ip::tcp;

std::string_view HttpRequest::header(std::string_view name) const {
  auto iequals = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

namespace {

// Each connection is a file descriptor; the usual soft limit of 1024 would cap a server far
// below max_connections, while the hard limit is ours to take.
void raise_open_file_limit(size_t max_connections) {
  static std::once_flag once;
  std::call_once(once, [max_connections] {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
      rlim_t old_soft = limit.rlim_cur;
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
        spdlog::info("http: raised the open file limit from {} to {}", old_soft, limit.rlim_max);
      } else {
        limit.rlim_cur = old_soft;
        spdlog::warn("http: could not raise the open file limit from {}", old_soft);
      }
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + 64) {
      spdlog::warn("http: the open file limit ({}) is below max_connections ({})", limit.rlim_cur,
                   max_connections);
    }
  });
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(std::shared_ptr<HttpServerState> server_state)
      : state(std::move(server_state)),
        accept_strand(net::make_strand(ioc)),
        acceptor(accept_strand),
        accept_retry_timer(accept_strand) {}

  void start();
  void stop_accepting();
  void stop();

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void close_acceptor();
  bool on_io_thread() const;
  std::vector<std::shared_ptr<HttpConnection>> live_connections();

  std::shared_ptr<HttpServerState> state;
  // Declared before everything that uses it, so it is destroyed last: its destructor drops
  // queued handlers, which may own the last references to connections and their sockets.
  net::io_context ioc;
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry_timer;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::vector<std::thread::id> thread_ids;
  uint16_t port = 0;

  std::mutex lifecycle_mutex;  // guards the flags below and serializes start/stop
  bool started = false;
  bool stop_requested = false;
  bool joined = false;
};

bool HttpServer::Impl::on_io_thread() const {
  return std::find(thread_ids.begin(), thread_ids.end(), std::this_thread::get_id()) !=
         thread_ids.end();
}

std::vector<std::shared_ptr<HttpConnection>> HttpServer::Impl::live_connections() {
  std::vector<std::shared_ptr<HttpConnection>> out;
  std::lock_guard lock(state->mutex);
  out.reserve(state->connections.size());
  for (auto& [id, weak] : state->connections) {
    if (auto connection = weak.lock()) out.push_back(std::move(connection));
  }
  return out;
}

void HttpServer::Impl::start() {
  std::lock_guard lock(lifecycle_mutex);
  if (started || stop_requested) return;
  started = true;
  work.emplace(ioc.get_executor());
  net::post(accept_strand, [this] { do_accept(); });
  int num_threads = std::max(1, state->options.num_io_threads);
  for (int i = 0; i < num_threads; ++i) {
    threads.emplace_back([this] {
      if (state->options.batch_scheduling && !set_current_thread_batch_scheduling())
        spdlog::debug("http: the I/O thread keeps its scheduling policy (SCHED_BATCH refused)");
      if (!state->options.cpus.empty()) set_current_thread_cpus(state->options.cpus);
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::warn("http: I/O thread: {}", e.what());
        }
      }
    });
    thread_ids.push_back(threads.back().get_id());
  }
}

void HttpServer::Impl::do_accept() {
  if (!acceptor.is_open()) return;
  acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpServer::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of file descriptors, typically: retrying at once would spin.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry_timer.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer.async_wait([this](error_code wait_ec) {
      if (!wait_ec) do_accept();
    });
    return;
  }
  error_code ignored;
  // Each streamed chunk must leave at once, not wait for more data (Nagle) or for an ACK.
  socket.set_option(tcp::no_delay(true), ignored);
  auto endpoint = socket.remote_endpoint(ignored);
  std::string remote = endpoint.address().is_v6()
                           ? fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port())
                           : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());

  std::shared_ptr<HttpConnection> connection;
  {
    std::lock_guard lock(state->mutex);
    if (state->stopped || state->draining.load()) {
      // Raced with stop()/stop_accepting(): the socket closes when it goes out of scope.
    } else if (state->num_open_connections >= state->options.max_connections) {
      spdlog::warn("http: {} connections open (max_connections); closing the one from {}",
                   state->num_open_connections, remote);
    } else {
      uint64_t id = state->next_connection_id++;
      connection = std::make_shared<HttpConnection>(std::move(socket), state, id, remote);
      state->connections.emplace(id, connection);
      ++state->num_open_connections;
    }
  }
  if (connection) connection->start();
  do_accept();
}

void HttpServer::Impl::close_acceptor() {
  error_code ignored;
  acceptor.close(ignored);
  accept_retry_timer.cancel();
}

void HttpServer::Impl::stop_accepting() {
  std::lock_guard lock(lifecycle_mutex);
  if (stop_requested) return;
  {
    std::lock_guard state_lock(state->mutex);
    state->draining.store(true);
  }
  if (!started) return close_acceptor();  // no I/O thread touches the acceptor yet
  auto done = std::make_shared<std::promise<void>>();
  net::post(accept_strand, [this, done] {
    close_acceptor();
    for (auto& connection : live_connections()) connection->drain();
    done->set_value();
  });
  // Waiting lets callers rely on new connections being refused once this returns; an I/O
  // thread must not wait, since it may be the one that would run the posted work.
  if (!on_io_thread() &&
      done->get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    spdlog::warn("http: stop_accepting: the I/O threads did not respond within 10 s");
  }
}

void HttpServer::Impl::stop() {
  std::lock_guard lock(lifecycle_mutex);
  if (joined) return;
  if (!stop_requested) {
    stop_requested = true;
    {
      std::lock_guard state_lock(state->mutex);
      state->stopped = true;
    }
    spdlog::debug("http: stopping");
    if (started) {
      net::post(accept_strand, [this] { close_acceptor(); });
      for (auto& connection : live_connections()) connection->close();
    } else {
      close_acceptor();
    }
  }
  // An I/O thread cannot join itself; the destructor, called elsewhere, finishes the stop.
  if (on_io_thread()) return;
  if (started) {
    {
      std::unique_lock state_lock(state->mutex);
      if (!state->all_closed.wait_for(state_lock, std::chrono::seconds(10),
                                      [&] { return state->num_open_connections == 0; })) {
        spdlog::warn("http: stop: {} connections did not close within 10 s",
                     state->num_open_connections);
      }
    }
    work.reset();
    ioc.stop();
    for (auto& thread : threads) thread.join();
  }
  joined = true;
  // With no I/O thread left this is safe from here; it matters only after the wait above
  // timed out, and guarantees no responder can post to the io_context once it is destroyed.
  for (auto& connection : live_connections()) connection->close_now();
  close_acceptor();
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler) {
  auto state = std::make_shared<HttpServerState>();
  state->options = std::move(options);
  state->handler = std::move(handler);
  raise_open_file_limit(state->options.max_connections);
  impl_ = std::make_unique<Impl>(std::move(state));

  const auto& opts = impl_->state->options;
  std::string where = fmt::format("{}:{}", opts.host, opts.port);
  error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto endpoints = resolver.resolve(opts.host, std::to_string(opts.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    fail("http: cannot resolve {}: {}", where, ec ? ec.message() : "no address");
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("http: cannot listen on {}: {}", where, ec.message());
  impl_->port = acceptor.local_endpoint().port();
  spdlog::debug("http: listening on {}:{}", opts.host, impl_->port);
}

HttpServer::~HttpServer() {
  if (impl_) impl_->stop();
}

void HttpServer::start() {
  impl_->start();
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop_accepting() {
  impl_->stop_accepting();
}

size_t HttpServer::num_active_requests() const {
  return impl_->state->num_active_requests.load();
}

size_t HttpServer::num_open_connections() const {
  std::lock_guard lock(impl_->state->mutex);
  return impl_->state->num_open_connections;
}

void HttpServer::stop() {
  impl_->stop();
}

}  // namespace pareto::server
