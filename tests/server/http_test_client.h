// The one HTTP/1.1 client of the server tests: blocking, over a raw loopback socket, so that a
// test controls every byte on the wire (pipelining, partial requests, hanging up mid-stream,
// resets). Every receive times out after kTimeout, so that a server bug fails the test instead of
// hanging it; the bound is generous because the machine is shared and never what is measured.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pareto::test {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // de-chunked

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpTestClient {
 public:
  static constexpr std::chrono::seconds kTimeout{30};

  // Connects to 127.0.0.1:port. A refused connection is not an error here: tests of refusal
  // read connect_errno(); sends on it fail.
  explicit HttpTestClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    timeval tv{static_cast<time_t>(kTimeout.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      connect_errno_ = errno;
  }
  ~HttpTestClient() { close(); }
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  bool connected() const { return connect_errno_ == 0; }
  int connect_errno() const { return connect_errno_; }

  // Hangs up with a FIN; the server sees the client go (e.g. in the middle of a stream).
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Hangs up with a reset (SO_LINGER 0) rather than a FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
  // A small receive buffer makes a client that stops reading stall the server's writes sooner.
  void set_receive_buffer(int bytes) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }

  // Raw bytes, as they are; false when the connection cannot take them.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // One well-formed request that asks the server to close after answering; a POST or a body is
  // sent as JSON. Throws when it cannot be sent.
  void send_request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string req =
        method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n" + body;
    if (!send(req)) throw std::runtime_error("sending the request failed");
  }

  // Receives until `needle` is among the bytes not yet read (true), or the connection ends or
  // times out (false). Consumes nothing: read_response() still sees the whole response.
  bool read_until(std::string_view needle) {
    while (buffer_.find(needle) == std::string::npos)
      if (!fill()) return false;
    return true;
  }
  // Receives until the peer closes or resets (true) or kTimeout passes with it open (false).
  bool wait_closed() {
    for (;;) {
      char tmp[16384];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buffer_.append(tmp, static_cast<size_t>(n));
    }
  }

  std::string read_line() {
    size_t pos;
    while ((pos = buffer_.find("\r\n")) == std::string::npos)
      if (!fill()) throw std::runtime_error("connection ended or timed out in a line: " + buffer_);
    std::string line = buffer_.substr(0, pos);
    buffer_.erase(0, pos + 2);
    return line;
  }
  std::string read_bytes(size_t n) {
    while (buffer_.size() < n)
      if (!fill()) throw std::runtime_error("connection ended or timed out in a body");
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  // The status line and headers; the body is left to read_chunk() or read_bytes().
  HttpResult read_head() {
    HttpResult r;
    const std::string status_line = read_line();
    if (status_line.rfind("HTTP/1.", 0) != 0)
      throw std::runtime_error("bad status line: " + status_line);
    r.status = std::stoi(status_line.substr(9, 3));
    for (std::string line = read_line(); !line.empty(); line = read_line()) {
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    return r;
  }
  // One chunk of a chunked body; "" is the last chunk.
  std::string read_chunk() {
    const size_t size = std::stoul(read_line(), nullptr, 16);
    std::string data = read_bytes(size);
    if (!read_line().empty()) throw std::runtime_error("chunk not followed by CRLF");
    return data;
  }
  // A whole response, framed by Transfer-Encoding: chunked or Content-Length (neither: no body),
  // so that the connection can carry the next one.
  HttpResult read_response() {
    HttpResult r = read_head();
    if (r.header("transfer-encoding") == "chunked") {
      for (std::string chunk = read_chunk(); !chunk.empty(); chunk = read_chunk()) r.body += chunk;
    } else if (!r.header("content-length").empty()) {
      r.body = read_bytes(std::stoul(r.header("content-length")));
    }
    return r;
  }

 private:
  // False when the peer closed, the connection failed or the receive timed out.
  bool fill() {
    char tmp[16384];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buffer_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  int connect_errno_ = 0;
  std::string buffer_;  // received, not yet read
};

// One request on its own connection; throws when the server cannot be reached.
inline HttpResult http_request(
    uint16_t port, const std::string& method, const std::string& target,
    const std::string& body = "",
    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  HttpTestClient c(port);
  if (!c.connected())
    throw std::runtime_error("connect failed: errno " + std::to_string(c.connect_errno()));
  c.send_request(method, target, body, headers);
  return c.read_response();
}

}  // namespace pareto::test
