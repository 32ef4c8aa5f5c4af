// HttpServer over real loopback sockets, with the raw-socket test client so that every byte on
// the wire (pipelining, partial requests, abrupt closes) is under the test's control. Waits are
// generous (tens of seconds) and never the thing being measured: the machine is shared.
#include "server/http_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/cpu_list.h"
#include "base/error.h"
#include "base/thread_scheduling.h"
#include "server/http_test_client.h"

namespace pareto::server {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 30s;  // how long anything may take before the test gives up

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

using Client = test::HttpTestClient;
using Response = test::HttpResult;

std::string get(std::string_view path, std::string_view extra = "") {
  return fmt::format("GET {} HTTP/1.1\r\nHost: test\r\n{}\r\n", path, extra);
}
std::string post(std::string_view path, std::string_view body) {
  return fmt::format(
      "POST {} HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n"
      "Content-Length: {}\r\n\r\n{}",
      path, body.size(), body);
}

// Collects the responders of requests that the test answers itself.
class ResponderQueue {
 public:
  void push(std::shared_ptr<Responder> r, HttpRequest request) {
    std::lock_guard lock(mutex_);
    items_.emplace_back(std::move(r), std::move(request));
    cv_.notify_all();
  }
  std::shared_ptr<Responder> pop(HttpRequest* request = nullptr) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, kWait, [&] { return !items_.empty(); })) return nullptr;
    auto [r, req] = std::move(items_.front());
    items_.erase(items_.begin());
    if (request) *request = std::move(req);
    return r;
  }
  size_t size() {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::pair<std::shared_ptr<Responder>, HttpRequest>> items_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  // Paths: /echo answers at once with what was received; /cpus with the CPUs the I/O thread may
  // run on; /throw throws; anything else is queued for the test to answer.
  void start(HttpServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(
        options, [this](HttpRequest&& req, std::shared_ptr<Responder> r) {
          ++num_handled_;
          if (req.path == "/echo") {
            HttpResponse response;
            response.content_type = "text/plain";
            response.headers.push_back({"X-Method", req.method});
            response.headers.push_back({"X-Target", req.target});
            response.headers.push_back({"X-Test-Header", std::string(req.header("X-TEST"))});
            response.body = req.body;
            r->respond(std::move(response));
          } else if (req.path == "/cpus") {
            HttpResponse response;
            response.content_type = "text/plain";
            response.body = format_cpu_list(thread_cpus());
            r->respond(std::move(response));
          } else if (req.path == "/throw") {
            throw std::runtime_error("boom");
          } else {
            pending_.push(std::move(r), std::move(req));
          }
        });
    server_->start();
  }
  uint16_t port() const { return server_->port(); }

  std::unique_ptr<HttpServer> server_;
  ResponderQueue pending_;
  std::atomic<int> num_handled_{0};
};

// Counts client-gone callbacks and lets a test wait for one.
struct GoneCounter {
  std::atomic<int> count{0};
  void attach(Responder& r) {
    r.on_client_gone([this] { ++count; });
  }
  bool wait() {
    return wait_until([&] { return count.load() > 0; });
  }
};

TEST_F(HttpServerTest, GetAndPostRoundTrip) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo?x=1", "X-Test: hello\r\n")));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-method"), "GET");
  EXPECT_EQ(r.header("x-target"), "/echo?x=1");
  EXPECT_EQ(r.header("x-test-header"), "hello");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.body, "");

  std::string body(100000, 'b');
  ASSERT_TRUE(c.send(post("/echo", body)));
  r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-method"), "POST");
  EXPECT_EQ(r.body, body);
}

TEST_F(HttpServerTest, RequestFieldsReachTheHandler) {
  start();
  Client c(port());
  ASSERT_TRUE(
      c.send("POST /v1/x?q=2 HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: Value\r\n"
             "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  HttpRequest req;
  auto responder = pending_.pop(&req);
  ASSERT_TRUE(responder);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/x?q=2");
  EXPECT_EQ(req.path, "/v1/x");
  EXPECT_EQ(req.body, "abcde");
  EXPECT_EQ(req.header("x-mixed-case"), "Value");
  EXPECT_EQ(req.header("X-MIXED-CASE"), "Value");
  EXPECT_EQ(req.header("absent"), "");
  EXPECT_TRUE(req.remote_address.starts_with("127.0.0.1:")) << req.remote_address;
  bool lowercase = true;
  for (const auto& [name, value] : req.headers) {
    for (char ch : name) lowercase &= !std::isupper(static_cast<unsigned char>(ch));
  }
  EXPECT_TRUE(lowercase);
  responder->respond(
      {.status = 201, .content_type = "application/json", .headers = {}, .body = "{}"});
  Response r = c.read_response();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  Client c(port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(post("/echo", std::to_string(i))));
    Response r = c.read_response();
    EXPECT_EQ(r.body, std::to_string(i));
    EXPECT_EQ(r.header("connection"), "keep-alive");
  }
  EXPECT_EQ(server_->num_open_connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  Client c(port());
  std::string batch;
  for (int i = 0; i < 10; ++i) batch += post("/echo", "request " + std::to_string(i));
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.read_response().body, "request " + std::to_string(i));
}

TEST_F(HttpServerTest, PipelinedRequestWaitsForASlowResponse) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/slow") + post("/echo", "second")));
  auto slow = pending_.pop();
  ASSERT_TRUE(slow);
  // The second request arrived while the first was being answered: it must not be mistaken
  // for a disconnect, nor be lost.
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(slow->client_gone());
  std::thread([slow] {
    slow->respond({.status = 200, .content_type = "text/plain", .headers = {}, .body = "first"});
  }).join();
  EXPECT_EQ(c.read_response().body, "first");
  EXPECT_EQ(c.read_response().body, "second");
}

TEST_F(HttpServerTest, HttpOneZeroClosesAfterTheResponse) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo HTTP/1.0\r\n\r\n"));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.wait_closed());

  Client keep(port());
  ASSERT_TRUE(keep.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_EQ(keep.read_response().header("connection"), "keep-alive");
  ASSERT_TRUE(keep.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_EQ(keep.read_response().status, 200);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo", "Connection: close\r\n")));
  EXPECT_EQ(c.read_response().header("connection"), "close");
  EXPECT_TRUE(c.wait_closed());
  c.close();  // else the server waits out its linger time for our FIN
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
}

TEST_F(HttpServerTest, BodyOverTheLimitGets413) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  start(options);
  {
    Client c(port());
    ASSERT_TRUE(c.send(post("/echo", std::string(1000, 'x'))));
    EXPECT_EQ(c.read_response().status, 200);  // exactly at the limit is fine
    ASSERT_TRUE(c.send(post("/echo", std::string(5000, 'x'))));
    Response r = c.read_response();
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_NE(r.body.find(R"("type":"invalid_request_error")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("param":null)"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("code":null)"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("message":")"), std::string::npos) << r.body;
    EXPECT_TRUE(c.wait_closed());
  }
  {
    // Without a Content-Length the limit applies as chunks arrive.
    Client c(port());
    std::string request = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) request += "64\r\n" + std::string(100, 'y') + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(c.send(request));
    EXPECT_EQ(c.read_response().status, 413);
  }
  EXPECT_EQ(num_handled_.load(), 1);
}

TEST_F(HttpServerTest, HeadersOverTheLimitGet431) {
  HttpServerOptions options;
  options.max_header_bytes = 2048;
  start(options);
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo", "X-Big: " + std::string(4096, 'h') + "\r\n")));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 431);
  EXPECT_NE(r.body.find("invalid_request_error"), std::string::npos);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(num_handled_.load(), 0);
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("NOT AN HTTP REQUEST\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 400);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpServerTest, EndlessChunkSizeLineIsRejected) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  start(options);
  Client c(port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;" +
                     std::string(256 << 10, 'e')));
  EXPECT_EQ(c.read_response().status, 400);
  EXPECT_EQ(num_handled_.load(), 0);
}

TEST_F(HttpServerTest, SlowRequestGets408) {
  HttpServerOptions options;
  options.request_timeout = 300ms;
  start(options);
  Client c(port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.wait_closed());
  c.close();
  EXPECT_EQ(num_handled_.load(), 0);
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
}

TEST_F(HttpServerTest, IdleKeptAliveConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  start(options);
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo")));
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
}

TEST_F(HttpServerTest, HandlerExceptionGives500) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/throw")));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
  ASSERT_TRUE(c.send(get("/echo")));
  EXPECT_EQ(c.read_response().status, 200);
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  start();
  Client c(port());
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
             "Expect: 100-continue\r\n\r\n"));
  Response interim = c.read_head();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.send("hello"));
  EXPECT_EQ(c.read_response().body, "hello");
}

TEST_F(HttpServerTest, StreamedChunksArriveAsTheyAreWritten) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  r->start_stream(200, "text/event-stream", {{"X-Extra", "1"}});
  Response head = c.read_head();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), "text/event-stream");
  EXPECT_EQ(head.header("transfer-encoding"), "chunked");
  EXPECT_EQ(head.header("cache-control"), "no-cache");
  EXPECT_EQ(head.header("x-accel-buffering"), "no");
  EXPECT_EQ(head.header("x-extra"), "1");
  EXPECT_EQ(head.header("content-length"), "");
  // Each chunk must reach the client before the next one is even written.
  for (int i = 0; i < 20; ++i) {
    std::string event = "data: " + std::to_string(i) + "\n\n";
    EXPECT_TRUE(r->write(event));
    EXPECT_EQ(c.read_chunk(), event);
  }
  EXPECT_TRUE(r->write(""));  // no empty chunk: it would end the stream
  r->end_stream();
  EXPECT_EQ(c.read_chunk(), "");
  EXPECT_FALSE(r->write("late"));
  EXPECT_FALSE(r->client_gone());
  // The connection serves the next request.
  ASSERT_TRUE(c.send(get("/echo")));
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_TRUE(wait_until([&] { return server_->num_active_requests() == 0; }));
}

TEST_F(HttpServerTest, MisusedResponderCallsAreIgnored) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->write("before the stream"));
  r->end_stream();
  r->start_stream(200, "text/plain");
  r->start_stream(500, "text/plain");
  r->respond({.status = 500, .content_type = "text/plain", .headers = {}, .body = "no"});
  EXPECT_TRUE(r->write("a"));
  r->end_stream();
  Response resp = c.read_response();
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "a");
  ASSERT_TRUE(c.send(get("/echo")));
  EXPECT_EQ(c.read_response().status, 200);
}

TEST_F(HttpServerTest, HttpOneZeroStreamEndsWithTheConnection) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("GET /stream HTTP/1.0\r\n\r\n"));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  r->start_stream(200, "text/plain");
  r->write("abc");
  r->write("def");
  r->end_stream();
  Response head = c.read_head();
  EXPECT_EQ(head.header("transfer-encoding"), "");
  EXPECT_EQ(head.header("connection"), "close");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(c.read_bytes(6), "abcdef");
}

TEST_F(HttpServerTest, HeadResponseHasNoBody) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("HEAD /pending HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  r->respond({.status = 200, .content_type = "text/plain", .headers = {}, .body = "12345"});
  Response head = c.read_head();
  EXPECT_EQ(head.header("content-length"), "5");
  ASSERT_TRUE(c.send(post("/echo", "next")));
  EXPECT_EQ(c.read_response().body, "next");  // no stray body bytes in between
}

TEST_F(HttpServerTest, StreamWrittenFromAnotherThreadKeepsOrder) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  std::thread producer([r] {
    r->start_stream(200, "text/plain");
    for (int i = 0; i < 2000; ++i) r->write(std::to_string(i) + ",");
    r->end_stream();
  });
  Response resp = c.read_response();
  producer.join();
  std::string expected;
  for (int i = 0; i < 2000; ++i) expected += std::to_string(i) + ",";
  EXPECT_EQ(resp.body, expected);
}

TEST_F(HttpServerTest, ClientDisconnectMidStreamFiresCallbackOnce) {
  start();
  auto c = std::make_unique<Client>(port());
  ASSERT_TRUE(c->send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  r->start_stream(200, "text/event-stream");
  EXPECT_TRUE(r->write("data: a\n\n"));
  c->read_head();
  EXPECT_EQ(c->read_chunk(), "data: a\n\n");
  EXPECT_FALSE(r->client_gone());
  EXPECT_EQ(server_->num_active_requests(), 1u);
  c->close();
  ASSERT_TRUE(gone.wait());
  EXPECT_TRUE(r->client_gone());
  EXPECT_FALSE(r->write("data: b\n\n"));
  r->end_stream();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(gone.count.load(), 1);
  EXPECT_EQ(server_->num_active_requests(), 0u);
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
  // Registering after the fact runs the callback at once, on this thread.
  bool late = false;
  r->on_client_gone([&] { late = true; });
  EXPECT_TRUE(late);
}

TEST_F(HttpServerTest, ConnectionResetMidStreamFiresCallback) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  r->start_stream(200, "text/event-stream");
  c.read_head();
  c.reset();
  ASSERT_TRUE(gone.wait());
  EXPECT_FALSE(r->write("x"));
  EXPECT_EQ(gone.count.load(), 1);
}

TEST_F(HttpServerTest, DisconnectWhileResponsePendingFiresCallback) {
  start();
  auto c = std::make_unique<Client>(port());
  ASSERT_TRUE(c->send(post("/pending", "{}")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  c.reset();
  ASSERT_TRUE(gone.wait());
  EXPECT_TRUE(r->client_gone());
  EXPECT_EQ(server_->num_active_requests(), 0u);
  // The handler's worker finishes later, from its own thread: a no-op.
  std::thread([r] {
    r->respond({.status = 200, .content_type = "application/json", .headers = {}, .body = "{}"});
    r->start_stream(200, "text/plain");
    EXPECT_FALSE(r->write("x"));
    r->end_stream();
  }).join();
  EXPECT_EQ(gone.count.load(), 1);
}

TEST_F(HttpServerTest, CallbackIsNotRunAfterTheResponseCompleted) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/pending")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  r->respond({.status = 204, .content_type = "", .headers = {}, .body = ""});
  EXPECT_EQ(c.read_response().status, 204);
  EXPECT_TRUE(wait_until([&] { return server_->num_active_requests() == 0; }));
  c.close();
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
  EXPECT_EQ(gone.count.load(), 0);
  EXPECT_FALSE(r->client_gone());
}

TEST_F(HttpServerTest, ResponderUsedFromManyThreadsAfterTheClientLeft) {
  start();
  std::vector<std::shared_ptr<Responder>> responders;
  for (int i = 0; i < 8; ++i) {
    Client c(port());
    ASSERT_TRUE(c.send(get("/pending")));
    responders.push_back(pending_.pop());
    ASSERT_TRUE(responders.back());
  }  // every client has gone
  ASSERT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
  std::vector<std::thread> threads;
  for (auto& r : responders) {
    threads.emplace_back([r] {
      r->start_stream(200, "text/plain");
      for (int i = 0; i < 100; ++i) EXPECT_FALSE(r->write("data"));
      r->end_stream();
      r->respond({});  // misuse after start_stream: ignored
    });
  }
  for (auto& t : threads) t.join();
  for (auto& r : responders) EXPECT_TRUE(r->client_gone());
}

TEST_F(HttpServerTest, ResponderOutlivesTheServer) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/pending")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  server_.reset();
  EXPECT_EQ(gone.count.load(), 1);
  EXPECT_TRUE(r->client_gone());
  EXPECT_FALSE(r->write("x"));
  r->respond({});
}

TEST_F(HttpServerTest, ClientNotReadingCountsAsGone) {
  HttpServerOptions options;
  options.max_pending_write_bytes = 256u << 10;
  start(options);
  Client c(port());
  c.set_receive_buffer(4096);
  ASSERT_TRUE(c.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  r->start_stream(200, "text/plain");
  std::string chunk(16384, 'z');
  // The kernel's socket buffers take some megabytes; after that the queue must hit the limit.
  bool refused = false;
  for (int i = 0; i < 100000 && !refused; ++i) refused = !r->write(chunk);
  EXPECT_TRUE(refused);
  ASSERT_TRUE(gone.wait());
  EXPECT_TRUE(r->client_gone());
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
}

TEST_F(HttpServerTest, WriteTimeoutCountsAsGone) {
  HttpServerOptions options;
  options.write_timeout = 300ms;
  options.max_pending_write_bytes = size_t{1} << 30;  // so that only the timeout can trigger
  start(options);
  Client c(port());
  c.set_receive_buffer(4096);
  ASSERT_TRUE(c.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  GoneCounter gone;
  gone.attach(*r);
  r->start_stream(200, "text/plain");
  // More than loopback socket buffers hold (a few MiB), so that a write stalls.
  std::string chunk(65536, 'w');
  // On a slow machine the timeout may already fire while these are queued.
  for (int i = 0; i < 512 && r->write(chunk); ++i) {
  }
  ASSERT_TRUE(gone.wait());
  EXPECT_FALSE(r->write(chunk));
  EXPECT_EQ(gone.count.load(), 1);
}

TEST_F(HttpServerTest, StopAcceptingLetsAStreamFinishAndRefusesNewConnections) {
  start();
  Client idle(port());
  ASSERT_TRUE(idle.send(get("/echo")));
  EXPECT_EQ(idle.read_response().status, 200);
  Client streaming(port());
  ASSERT_TRUE(streaming.send(get("/stream")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  r->start_stream(200, "text/event-stream");
  EXPECT_TRUE(r->write("one"));
  streaming.read_head();
  EXPECT_EQ(streaming.read_chunk(), "one");

  server_->stop_accepting();
  Client refused(port());
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(refused.connect_errno(), ECONNREFUSED);
  EXPECT_TRUE(idle.wait_closed());

  EXPECT_TRUE(r->write("two"));
  EXPECT_EQ(streaming.read_chunk(), "two");
  r->end_stream();
  EXPECT_EQ(streaming.read_chunk(), "");
  EXPECT_TRUE(streaming.wait_closed());
  streaming.close();
  EXPECT_FALSE(r->client_gone());
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }));
  EXPECT_EQ(server_->num_active_requests(), 0u);
}

TEST_F(HttpServerTest, StopAcceptingLetsAPendingResponseFinish) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/pending")));
  auto r = pending_.pop();
  ASSERT_TRUE(r);
  server_->stop_accepting();
  r->respond({.status = 200, .content_type = "text/plain", .headers = {}, .body = "done"});
  Response resp = c.read_response();
  EXPECT_EQ(resp.body, "done");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpServerTest, StopClosesOpenStreams) {
  start();
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::shared_ptr<Responder>> responders;
  GoneCounter gone;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(clients.back()->send(get("/stream")));
    responders.push_back(pending_.pop());
    ASSERT_TRUE(responders.back());
    gone.attach(*responders.back());
    responders.back()->start_stream(200, "text/event-stream");
    responders.back()->write("hello");
    clients.back()->read_head();
    EXPECT_EQ(clients.back()->read_chunk(), "hello");
  }
  Client idle(port());
  ASSERT_TRUE(idle.send(get("/echo")));
  EXPECT_EQ(idle.read_response().status, 200);

  server_->stop();
  EXPECT_EQ(gone.count.load(), 5);
  for (auto& r : responders) {
    EXPECT_TRUE(r->client_gone());
    EXPECT_FALSE(r->write("x"));
  }
  for (auto& c : clients) EXPECT_TRUE(c->wait_closed());
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_EQ(server_->num_open_connections(), 0u);
  EXPECT_EQ(server_->num_active_requests(), 0u);
  server_->stop();  // twice is fine
  server_.reset();
}

TEST_F(HttpServerTest, DestroyWithoutStartOrStop) {
  HttpServer unstarted({.host = "127.0.0.1", .port = 0}, [](HttpRequest&&, auto) {});
  EXPECT_NE(unstarted.port(), 0);
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/pending")));
  ASSERT_TRUE(pending_.pop());
  server_.reset();  // with a request in flight and no stop() call
}

TEST_F(HttpServerTest, IoThreadsRunOnTheirCpus) {
  const std::vector<int> allowed = thread_cpus();
  ASSERT_FALSE(allowed.empty());
  start({.cpus = {allowed.back()}});
  Client c(port());
  ASSERT_TRUE(c.send(get("/cpus")));
  EXPECT_EQ(c.read_response().body, std::to_string(allowed.back()));

  server_.reset();
  start();  // no CPUs given: the I/O thread may run wherever the process may
  Client d(port());
  ASSERT_TRUE(d.send(get("/cpus")));
  EXPECT_EQ(d.read_response().body, format_cpu_list(allowed));
}

TEST_F(HttpServerTest, BindFailureNamesTheAddress) {
  start();
  try {
    HttpServer clash({.host = "127.0.0.1", .port = port()}, [](HttpRequest&&, auto) {});
    FAIL() << "binding a used port succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(port())), std::string::npos) << e.what();
  }
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  start(options);
  Client a(port()), b(port());
  ASSERT_TRUE(a.send(get("/echo")));
  ASSERT_TRUE(b.send(get("/echo")));
  EXPECT_EQ(a.read_response().status, 200);
  EXPECT_EQ(b.read_response().status, 200);
  Client c(port());
  c.send(get("/echo"));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(num_handled_.load(), 2);
}

TEST_F(HttpServerTest, ThousandConcurrentStreams) {
  constexpr int kNumClients = 1000;
  constexpr int kNumChunks = 5;
  HttpServerOptions options;
  options.num_io_threads = 2;
  start(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kNumClients; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(clients.back()->connected())
        << i << ": " << std::strerror(clients.back()->connect_errno());
    ASSERT_TRUE(clients.back()->send(get("/stream/" + std::to_string(i))));
  }
  std::vector<std::pair<std::shared_ptr<Responder>, std::string>> streams;
  for (int i = 0; i < kNumClients; ++i) {
    HttpRequest req;
    auto r = pending_.pop(&req);
    ASSERT_TRUE(r) << "only " << i << " requests arrived";
    streams.emplace_back(r, req.path);
  }
  EXPECT_EQ(server_->num_active_requests(), static_cast<size_t>(kNumClients));
  EXPECT_EQ(server_->num_open_connections(), static_cast<size_t>(kNumClients));
  // All streams are open at once; the producer interleaves their chunks.
  std::thread producer([&] {
    for (auto& [r, path] : streams) r->start_stream(200, "text/event-stream");
    for (int k = 0; k < kNumChunks; ++k) {
      for (auto& [r, path] : streams) r->write(path + ":" + std::to_string(k) + "\n");
    }
    for (auto& [r, path] : streams) r->end_stream();
  });
  for (int i = 0; i < kNumClients; ++i) {
    Response resp = clients[i]->read_response();
    std::string expected;
    for (int k = 0; k < kNumChunks; ++k) {
      expected += "/stream/" + std::to_string(i) + ":" + std::to_string(k) + "\n";
    }
    ASSERT_EQ(resp.body, expected) << "client " << i;
  }
  producer.join();
  EXPECT_TRUE(wait_until([&] { return server_->num_active_requests() == 0; }));
  clients.clear();
  EXPECT_TRUE(wait_until([&] { return server_->num_open_connections() == 0; }))
      << server_->num_open_connections() << " connections still open";
}

}  // namespace
}  // namespace pareto::server
