// A minimal blocking HTTP/1.1 client over POSIX sockets for the server tests: each request on
// its own connection ("Connection: close"), chunked bodies decoded, and a way to hang up in
// the middle of a streamed response.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pareto::test {

struct HttpResult {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;     // de-chunked
};

inline std::string dechunk(const std::string& raw) {
  std::string out;
  size_t pos = 0;
  while (pos < raw.size()) {
    const size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const size_t len = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    if (len == 0) break;
    out += raw.substr(eol + 2, len);
    pos = eol + 2 + len + 2;
  }
  return out;
}

class HttpTestConnection {
 public:
  explicit HttpTestConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~HttpTestConnection() { close(); }
  HttpTestConnection(const HttpTestConnection&) = delete;
  HttpTestConnection& operator=(const HttpTestConnection&) = delete;

  void send_request(const std::string& method, const std::string& target, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string req =
        method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n" + body;
    size_t sent = 0;
    while (sent < req.size()) {
      const ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<size_t>(n);
    }
  }

  // Reads until `needle` appears in what has been received (true) or the peer closes (false).
  bool read_until(const std::string& needle) {
    while (raw_.find(needle) == std::string::npos)
      if (!read_some()) return false;
    return true;
  }

  HttpResult read_to_end() {
    while (read_some()) {
    }
    HttpResult r;
    const size_t head_end = raw_.find("\r\n\r\n");
    if (head_end == std::string::npos || raw_.size() < 12) return r;
    r.status = std::stoi(raw_.substr(9, 3));
    r.headers = raw_.substr(0, head_end);
    std::string body = raw_.substr(head_end + 4);
    r.body = header_has("transfer-encoding: chunked", r.headers) ? dechunk(body) : body;
    return r;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  static bool header_has(const std::string& needle, std::string headers) {
    for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return headers.find(needle) != std::string::npos;
  }
  bool read_some() {
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    raw_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string raw_;
};

inline HttpResult http_request(
    uint16_t port, const std::string& method, const std::string& target,
    const std::string& body = "",
    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  HttpTestConnection c(port);
  c.send_request(method, target, body, headers);
  return c.read_to_end();
}

}  // namespace pareto::test
