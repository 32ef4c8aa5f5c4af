// ServerProcess against small fake servers (Python scripts): the port is read from the log line,
// /health is polled, and the child is always gone afterwards, also when it ignores SIGTERM.
#include "bench/server_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "base/error.h"
#include "bench/http_client.h"
#include "support/test_paths.h"

namespace pareto::bench {
namespace {

// A fake `pareto serve`: answers GET /health (200 after `health_after` failed tries) and logs
// "serving fake on http://127.0.0.1:PORT" the way the real server does.
std::string write_fake_server(const std::string& name, const std::string& extra) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream(path) << R"PY(#!/usr/bin/env python3
import http.server, signal, sys
health_after = 2
class H(http.server.BaseHTTPRequestHandler):
    tries = 0
    def do_GET(self):
        H.tries += 1
        ok = self.path == "/health" and H.tries > health_after
        self.send_response(200 if ok else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
)PY" << extra << R"PY(
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print("args:", " ".join(sys.argv[1:]), flush=True)
print(f"[info] serving fake on http://127.0.0.1:{srv.server_port} (OpenAI API under /v1)", flush=True)
srv.serve_forever()
)PY";
  EXPECT_EQ(chmod(path.c_str(), 0755), 0);
  return path;
}

bool alive(pid_t pid) {
  return kill(pid, 0) == 0 || errno != ESRCH;
}

TEST(ServerProcess, StartsFindsPortWaitsForHealthAndStops) {
  ServerProcessOptions o;
  o.binary = write_fake_server("fake_serve.py", "");
  o.args = {"serve", "-m", "x.gguf"};
  pid_t pid = -1;
  {
    ServerProcess server(o);
    pid = server.pid();
    EXPECT_GT(server.port(), 0);
    EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(http_request("GET", server.base_url() + "/health").status, 200);
    EXPECT_NE(server.log_tail().find("args: serve -m x.gguf --port 0"), std::string::npos);
  }
  EXPECT_FALSE(alive(pid));  // reaped, not a zombie
}

TEST(ServerProcess, KillsAServerThatIgnoresSigterm) {
  ServerProcessOptions o;
  o.binary =
      write_fake_server("fake_serve_stubborn.py", "signal.signal(signal.SIGTERM, signal.SIG_IGN)");
  o.stop_timeout_s = 0.3;
  ServerProcess server(o);
  const pid_t pid = server.pid();
  const int status = server.stop();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_FALSE(alive(pid));
  EXPECT_EQ(server.stop(), status);  // idempotent
}

TEST(ServerProcess, ChildExitingEarlyIsAnErrorWithTheLog) {
  const std::string path = test::scratch_dir() + "/fake_serve_fails.sh";
  std::ofstream(path) << "#!/bin/sh\necho 'error: no such model file' >&2\nexit 3\n";
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  ServerProcessOptions o;
  o.binary = path;
  try {
    ServerProcess server(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("exited with code 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no such model file"), std::string::npos) << msg;
  }
}

TEST(ServerProcess, MissingBinaryIsAnError) {
  ServerProcessOptions o;
  o.binary = "/nonexistent/pareto";
  EXPECT_THROW(ServerProcess{o}, Error);
}

TEST(ServerProcess, StartupTimeoutStopsTheChild) {
  const std::string path = test::scratch_dir() + "/fake_serve_silent.sh";
  std::ofstream(path) << "#!/bin/sh\nexec sleep 30\n";
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  ServerProcessOptions o;
  o.binary = path;
  o.startup_timeout_s = 0.3;
  try {
    ServerProcess server(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did not report its port"), std::string::npos);
  }
}

}  // namespace
}  // namespace pareto::bench
