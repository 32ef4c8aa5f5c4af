#include "bench/server_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "bench/http_client.h"

namespace pareto::bench {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return fmt::format("stopped (status {})", status);
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) fail("cannot resolve /proc/self/exe: {}", std::strerror(errno));
  return std::string(buf, static_cast<size_t>(n));
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ServerProcess::ServerProcess(ServerProcessOptions options) : options_(std::move(options)) {
  const std::string binary = options_.binary.empty() ? self_exe() : options_.binary;
  std::vector<std::string> args = options_.args;
  args.insert(args.begin(), binary);
  args.push_back("--port");
  args.push_back("0");
  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed (this process may have other threads).
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  char log_template[] = "/tmp/pareto-serve-XXXXXX.log";
  const int log_fd = mkstemps(log_template, 4);
  if (log_fd < 0) fail("cannot create a log file for the server: {}", std::strerror(errno));
  log_path_ = log_template;
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();

  pid_ = fork();
  if (pid_ == 0) {
    // Child. Die with the parent (thread) rather than linger as an orphan server.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close_range(3, ~0U, 0);
    // Signal dispositions and the mask are inherited; the server expects the defaults.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    const char msg[] = "exec of the server binary failed\n";
    [[maybe_unused]] ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  const int fork_errno = errno;
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  if (pid_ < 0) {
    unlink(log_path_.c_str());
    fail("cannot start {}: fork failed: {}", binary, std::strerror(fork_errno));
  }

  try {
    const double deadline = now_s() + options_.startup_timeout_s;
    port_ = wait_for_port(deadline);
    wait_for_health(deadline);
  } catch (...) {
    stop();
    unlink(log_path_.c_str());
    throw;
  }
}

ServerProcess::~ServerProcess() {
  stop();
  if (!log_path_.empty()) unlink(log_path_.c_str());
}

std::string ServerProcess::base_url() const {
  return fmt::format("http://127.0.0.1:{}", port_);
}

std::string ServerProcess::log_tail(size_t max_bytes) const {
  std::string log = read_all(log_path_);
  if (log.size() > max_bytes) log = "..." + log.substr(log.size() - max_bytes);
  return log;
}

bool ServerProcess::reap_if_exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r;
  do r = waitpid(pid_, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    exit_status_ = r == pid_ ? status : -1;
    pid_ = -1;
    return true;
  }
  return false;
}

int ServerProcess::wait_for_port(double deadline_s) {
  static const std::regex kListening(R"(on http://[^\s:/]+:(\d+))");
  for (;;) {
    const std::string log = read_all(log_path_);
    std::smatch m;
    if (std::regex_search(log, m, kListening)) return std::stoi(m[1]);
    if (reap_if_exited())
      fail("the server {} before it listened; its log:\n{}", describe_status(exit_status_),
           log_tail());
    if (now_s() > deadline_s)
      fail("the server did not report its port within {:.0f} s; its log:\n{}",
           options_.startup_timeout_s, log_tail());
    sleep_s(0.05);
  }
}

void ServerProcess::wait_for_health(double deadline_s) {
  std::string last;
  for (;;) {
    try {
      const HttpResponse r = http_request("GET", base_url() + "/health", "", "", 5);
      if (r.status == 200) return;
      last = fmt::format("HTTP {}", r.status);
    } catch (const Error& e) {
      last = e.what();
    }
    if (reap_if_exited())
      fail("the server {} before GET /health answered 200; its log:\n{}",
           describe_status(exit_status_), log_tail());
    if (now_s() > deadline_s)
      fail("GET {}/health did not answer 200 within {:.0f} s (last: {}); the server's log:\n{}",
           base_url(), options_.startup_timeout_s, last, log_tail());
    sleep_s(0.1);
  }
}

int ServerProcess::stop() {
  if (reap_if_exited()) return exit_status_;
  kill(pid_, SIGTERM);
  const double deadline = now_s() + options_.stop_timeout_s;
  while (now_s() < deadline) {
    if (reap_if_exited()) return exit_status_;
    sleep_s(0.02);
  }
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = status;
  pid_ = -1;
  return exit_status_;
}

}  // namespace pareto::bench
