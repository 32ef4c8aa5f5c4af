// A `pareto serve` child process for sweeps and tests: started on a free port, waited for until
// GET /health answers 200, stopped with SIGTERM (SIGKILL after a timeout) when the object goes.
// The child never outlives its owner: the destructor stops it, and on Linux it also gets SIGKILL
// if the thread that started it dies (PR_SET_PDEATHSIG), e.g. when the owner crashes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pareto::bench {

struct ServerProcessOptions {
  std::string binary;              // empty = this executable (/proc/self/exe)
  std::vector<std::string> args;   // after the binary, e.g. {"serve", "-m", "model.gguf"};
                                   // "--port 0" is appended (the server picks a free port)
  double startup_timeout_s = 300;  // until the port is logged and /health answers 200
  double stop_timeout_s = 30;      // SIGTERM's grace before SIGKILL
};

class ServerProcess {
 public:
  // Starts the child with its stdout and stderr in a temporary log file, reads the log until the
  // "on http://HOST:PORT" line, then polls GET /health until 200. The child dying, the timeout or
  // a failed spawn -> pareto::Error with the end of the log (and the child is gone).
  explicit ServerProcess(ServerProcessOptions options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "http://127.0.0.1:PORT" (no trailing slash, no /v1).
  std::string base_url() const;
  // The last `max_bytes` of the child's log.
  std::string log_tail(size_t max_bytes = 4000) const;
  // SIGTERM, then waits up to stop_timeout_s, then SIGKILL; returns the exit status as
  // waitpid gives it (or -1 when already stopped). Idempotent; never throws.
  int stop();

 private:
  // True when the child is gone (reaped here, its status in exit_status_).
  bool reap_if_exited();
  int wait_for_port(double deadline_s);
  void wait_for_health(double deadline_s);

  ServerProcessOptions options_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
};

}  // namespace pareto::bench
