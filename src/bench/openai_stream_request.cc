#include "bench/openai_stream_request.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "bench/sse_stream_parser.h"

namespace pareto::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;

json openai_stream_body(const StreamRequestOptions& o, const BenchPrompt& p) {
  json j = {{"model", o.model}};
  if (o.chat) {
    j["messages"] = json::array({{{"role", "user"}, {"content", p.prompt}}});
  } else {
    j["prompt"] = p.prompt;
  }
  j["max_tokens"] = p.output_len;
  j["stream"] = true;
  j["stream_options"] = {{"include_usage", true}};
  j["temperature"] = o.temperature;
  j["seed"] = o.seed;
  if (o.ignore_eos) j["ignore_eos"] = true;
  return j;
}

namespace {

constexpr size_t kReadChunk = 16u << 10;
constexpr size_t kMaxErrorBody = 2000;  // of a non-200 answer, kept in the error text
constexpr std::chrono::seconds kLingerForClose{2};

// What a request's record needs from one streamed chunk. Gathered while the chunk is parsed
// (nlohmann's SAX interface) rather than read from a parsed tree: a stream has one chunk per
// token, and building that tree was most of the load generator's JSON time, CPU the server it
// measures then did not get on a shared machine.
struct ChunkFacts {
  bool is_object = false;
  bool has_error = false;  // a top-level "error" key (then the tree is parsed for its message)
  // choices[0].text, or choices[0].delta.content / reasoning_content, is a non-empty string.
  bool has_text = false;
  std::optional<int64_t> prompt_tokens, completion_tokens, cached_tokens;  // from "usage"
};

class ChunkFactsReader {
 public:
  explicit ChunkFactsReader(ChunkFacts& facts) : facts_(facts) {}

  bool null() { return scalar(); }
  bool boolean(bool) { return scalar(); }
  bool number_integer(json::number_integer_t v) { return integer(static_cast<int64_t>(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return integer(static_cast<int64_t>(v)); }
  bool number_float(json::number_float_t, const json::string_t&) { return scalar(); }
  bool binary(json::binary_t&) { return scalar(); }
  bool string(json::string_t& s) {
    if (!s.empty() && ((at_choice0(3) && key_is(2, "text")) ||
                       (at_choice0(4) && key_is(2, "delta") &&
                        (key_is(3, "content") || key_is(3, "reasoning_content")))))
      facts_.has_text = true;
    return scalar();
  }
  bool start_object(std::size_t) {
    if (path_.empty()) facts_.is_object = true;
    path_.push_back({false, {}, 0});
    return true;
  }
  bool key(json::string_t& k) {
    if (path_.size() == 1 && k == "error") facts_.has_error = true;
    path_.back().key = k;
    return true;
  }
  bool end_object() { return end_container(); }
  bool start_array(std::size_t) {
    path_.push_back({true, {}, 0});
    return true;
  }
  bool end_array() { return end_container(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  struct Level {
    bool array;
    std::string key;  // the current member's (objects)
    int64_t index;    // the current element's (arrays)
  };

  bool key_is(size_t depth, const char* k) const {
    return path_.size() > depth && !path_[depth].array && path_[depth].key == k;
  }
  // A value at this depth inside choices[0] ({"choices": [{...}]} and then depth - 2 keys).
  bool at_choice0(size_t depth) const {
    return path_.size() == depth && key_is(0, "choices") && path_[1].array && path_[1].index == 0;
  }
  bool integer(int64_t v) {
    if (path_.size() == 2 && key_is(0, "usage")) {
      if (key_is(1, "prompt_tokens")) facts_.prompt_tokens = v;
      if (key_is(1, "completion_tokens")) facts_.completion_tokens = v;
    } else if (path_.size() == 3 && key_is(0, "usage") && key_is(1, "prompt_tokens_details") &&
               key_is(2, "cached_tokens")) {
      facts_.cached_tokens = v;
    }
    return scalar();
  }
  bool scalar() {
    if (!path_.empty() && path_.back().array) ++path_.back().index;
    return true;
  }
  bool end_container() {
    path_.pop_back();
    return scalar();  // the container was a value of its parent
  }

  ChunkFacts& facts_;
  std::vector<Level> path_;
};

// One request's state; kept alive by the handlers' shared_ptr until the last one has run.
class StreamSession : public std::enable_shared_from_this<StreamSession> {
 public:
  // `retry_of`: the session whose reused connection failed; this one sends the same request on a
  // new connection and keeps its start time.
  StreamSession(net::io_context& ioc, const StreamTarget& target, StreamConnectionPool& pool,
                std::string body, SteadyClock::time_point bench_start,
                std::function<void(RequestRecord&&)> done, const StreamSession* retry_of = nullptr)
      : ioc_(ioc),
        target_(target),
        pool_(pool),
        stream_(take_connection(ioc, retry_of ? nullptr : &pool, reused_)),
        done_(std::move(done)),
        bench_start_(bench_start) {
    req_ = {http::verb::post, target.path, 11};
    req_.set(http::field::host, target.host_header);
    req_.set(http::field::user_agent, "pareto-bench");
    req_.set(http::field::content_type, "application/json");
    req_.set(http::field::accept, "text/event-stream");
    // Without keep-alive, one connection per request, which the server closes after the response
    // (see complete()); HTTP/1.1 keeps it open otherwise.
    if (!pool.keep_alive()) req_.set(http::field::connection, "close");
    if (!target.api_key.empty()) req_.set(http::field::authorization, "Bearer " + target.api_key);
    req_.body() = std::move(body);
    req_.prepare_payload();
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_.header_limit(1u << 20);
    sent_ = retry_of ? retry_of->sent_ : SteadyClock::now();
    rec_.start_s = std::chrono::duration<double>(sent_ - bench_start).count();
    timeout_ =
        std::chrono::milliseconds(static_cast<int64_t>(std::max(0.001, target.timeout_s) * 1000));
  }

  void run() {
    stream_.expires_after(timeout_);  // one deadline for the whole exchange
    if (reused_) return send();
    pool_.count_opened();
    stream_.async_connect(target_.endpoints,
                          [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                            if (ec) return self->fail_wire("connect", ec);
                            self->send();
                          });
  }

 private:
  static beast::tcp_stream take_connection(net::io_context& ioc, StreamConnectionPool* pool,
                                           bool& reused) {
    if (pool != nullptr) {
      if (std::optional<beast::tcp_stream> s = pool->take()) {
        reused = true;
        return std::move(*s);
      }
    }
    reused = false;
    return beast::tcp_stream(ioc);
  }

  void send() {
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        if (self->reused_) return self->retry_on_new_connection();
        return self->fail_wire("sending the request", ec);
      }
      http::async_read_header(self->stream_, self->buffer_, self->parser_,
                              [self](beast::error_code ec, size_t) { self->on_header(ec); });
    });
  }

  // The server closed a kept-alive connection before it answered (its idle timeout crossing our
  // request): nothing of the response came, so the request goes again on a new connection.
  void retry_on_new_connection() {
    close();
    finished_ = true;
    auto retry = std::make_shared<StreamSession>(ioc_, target_, pool_, std::move(req_.body()),
                                                 bench_start_, std::move(done_), this);
    retry->run();
  }

  void on_header(beast::error_code ec) {
    if (ec && reused_ && ec != beast::error::timeout && buffer_.size() == 0 && !parser_.got_some())
      return retry_on_new_connection();
    if (ec) return fail_wire("reading the response header", ec);
    status_ = static_cast<int>(parser_.get().result_int());
    last_byte_ = SteadyClock::now();
    read_body();
  }

  void read_body() {
    if (parser_.is_done()) return finish_stream();
    parser_.get().body().data = chunk_.data();
    parser_.get().body().size = chunk_.size();
    http::async_read_some(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (ec == http::error::need_buffer) ec = {};
    const size_t n = chunk_.size() - parser_.get().body().size;
    if (n > 0) {
      last_byte_ = now;
      const std::string_view bytes(chunk_.data(), n);
      if (status_ != 200) {
        if (error_body_.size() < kMaxErrorBody) error_body_.append(bytes.substr(0, kMaxErrorBody));
      } else {
        for (SseEvent& e : sse_.feed(bytes)) on_event(e, now);
      }
    }
    if (finished_) return;
    // A connection that breaks after "data: [DONE]" lost nothing we measure.
    if (ec && saw_done_ && status_ == 200) return finish_stream();
    if (ec) return fail_wire("reading the stream", ec);
    read_body();
  }

  void on_event(const SseEvent& e, SteadyClock::time_point now) {
    if (finished_ || !rec_.error.empty()) return;
    if (e.data == "[DONE]") {
      done_at_ = now;
      saw_done_ = true;
      return;
    }
    ChunkFacts facts;
    ChunkFactsReader reader(facts);
    if (!json::sax_parse(e.data, &reader)) {
      rec_.error = "unparsable stream chunk: " + e.data.substr(0, 200);
      return;
    }
    if (e.event == "error" || facts.has_error) {
      const json j = json::parse(e.data);
      const json& err = j.is_object() && j.contains("error") ? j["error"] : j;
      rec_.error = "error in the stream: " +
                   (err.is_object() && err.contains("message") && err["message"].is_string()
                        ? err["message"].get<std::string>()
                        : err.dump());
      return;
    }
    if (!facts.is_object) return;
    if (facts.prompt_tokens) usage_prompt_ = *facts.prompt_tokens;
    if (facts.completion_tokens) usage_completion_ = *facts.completion_tokens;
    if (facts.cached_tokens) rec_.cached_tokens = *facts.cached_tokens;
    if (!facts.has_text) return;
    const double t = std::chrono::duration<double>(now - sent_).count();
    if (num_text_chunks_ == 0) {
      rec_.ttft_s = t;
    } else {
      rec_.itl_s.push_back(std::chrono::duration<double>(now - last_text_).count());
    }
    last_text_ = now;
    ++num_text_chunks_;
  }

  void finish_stream() {
    if (finished_) return;
    if (status_ == 200) {
      for (SseEvent& e : sse_.finish()) on_event(e, last_byte_);
    }
    if (status_ != 200) {
      rec_.error = "HTTP " + std::to_string(status_) + ": " + error_body_;
      while (!rec_.error.empty() && (rec_.error.back() == '\n' || rec_.error.back() == '\r'))
        rec_.error.pop_back();
    } else if (rec_.error.empty() && num_text_chunks_ == 0) {
      const auto type = parser_.get()[http::field::content_type];
      rec_.error =
          type.find("text/event-stream") == boost::beast::string_view::npos
              ? "expected a text/event-stream reply, got Content-Type '" + std::string(type) + "'"
              : "the stream carried no text";
    }
    rec_.e2e_s = std::chrono::duration<double>((saw_done_ ? done_at_ : last_byte_) - sent_).count();
    rec_.output_len = usage_completion_ >= 0 ? usage_completion_ : num_text_chunks_;
    rec_.prompt_len = std::max<int64_t>(0, usage_prompt_);
    complete();
  }

  void fail_wire(const char* stage, beast::error_code ec) {
    if (finished_) return;
    if (status_ != 0 && status_ != 200) {
      // The status says what went wrong better than a cut-short error body does.
      return finish_stream();
    }
    if (ec == beast::error::timeout) {
      rec_.error = std::string("timed out while ") + stage;
    } else {
      rec_.error = std::string(stage) + ": " + ec.message();
    }
    rec_.e2e_s = std::chrono::duration<double>(SteadyClock::now() - sent_).count();
    rec_.output_len = usage_completion_ >= 0 ? usage_completion_ : num_text_chunks_;
    rec_.prompt_len = std::max<int64_t>(0, usage_prompt_);
    complete();
  }

  void complete() {
    finished_ = true;
    rec_.success = rec_.error.empty();
    const bool whole = parser_.is_done();
    auto done = std::move(done_);
    if (whole && pool_.keep_alive() && parser_.keep_alive()) {
      // Back to the pool before `done` runs, so that the request it may start reuses it.
      stream_.expires_never();
      pool_.put(std::move(stream_));
      done(std::move(rec_));
      return;
    }
    const bool linger = rec_.success && whole;
    done(std::move(rec_));
    if (!linger) return close();
    // The measurement is over. Wait (briefly) for the server to close first, as "Connection: close"
    // asks, so that the TIME_WAIT state stays on the server's side: closing first here would hold
    // one of the client's ephemeral ports for a minute per request, which a long run at a high rate
    // would exhaust.
    stream_.expires_after(kLingerForClose);
    stream_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](
                                                     beast::error_code, size_t) { self->close(); });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  net::io_context& ioc_;
  const StreamTarget& target_;
  StreamConnectionPool& pool_;
  bool reused_ = false;  // set by take_connection() while stream_ is built
  beast::tcp_stream stream_;
  std::function<void(RequestRecord&&)> done_;
  SteadyClock::time_point bench_start_;
  http::request<http::string_body> req_;
  http::response_parser<http::buffer_body> parser_;
  beast::flat_buffer buffer_;
  std::array<char, kReadChunk> chunk_{};
  std::chrono::milliseconds timeout_{};
  SseStreamParser sse_;
  RequestRecord rec_;
  SteadyClock::time_point sent_, last_text_, last_byte_, done_at_;
  int status_ = 0;
  std::string error_body_;
  int64_t num_text_chunks_ = 0;
  int64_t usage_prompt_ = -1, usage_completion_ = -1;
  bool saw_done_ = false;
  bool finished_ = false;
};

}  // namespace

std::optional<beast::tcp_stream> StreamConnectionPool::take() {
  while (!idle_.empty()) {
    beast::tcp_stream s = std::move(idle_.back());
    idle_.pop_back();
    // Still open, with nothing unasked-for to read: a peek that would block. (0 = the server
    // closed it; bytes = a stray answer that would be taken for the next request's.)
    char byte;
    const ssize_t n =
        ::recv(s.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return s;
    beast::error_code ignored;
    s.socket().close(ignored);
  }
  return std::nullopt;
}

void StreamConnectionPool::put(beast::tcp_stream&& stream) {
  idle_.push_back(std::move(stream));
}

void start_stream_request(net::io_context& ioc, const StreamTarget& target,
                          StreamConnectionPool& pool, std::string body,
                          SteadyClock::time_point bench_start,
                          std::function<void(RequestRecord&&)> done) {
  std::make_shared<StreamSession>(ioc, target, pool, std::move(body), bench_start, std::move(done))
      ->run();
}

}  // namespace pareto::bench
