// `pareto serve`: the OpenAI-compatible HTTP server on one model (docs/server.md).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "base/cpu_list.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "cli/command.h"
#include "cli/engine_options.h"
#include "cli/loaded_model.h"
#include "engine/engine.h"
#include "engine/engine_core.h"
#include "engine/engine_group.h"
#include "server/api_server.h"
#include "tokenizer/chat_template/chat_template.h"

namespace pareto::cli {
namespace {

struct ServeOptions {
  std::string model_path;
  bool mmap = false;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string api_key_file;
  std::string served_model_name;
  int64_t max_queue = 1024;
  std::string chat_template_file;
  double shutdown_timeout_s = 30;
  double request_timeout_s = 30;
  double idle_timeout_s = 60;
  int64_t max_body_mib = 16;
  std::string metrics_prefix = "pareto:";
  int replicas = 1;
  std::string routing = "least-loaded";
  std::string io_scheduling = "batch";
  std::string io_cpus;  // "" = the HTTP path shares the engine's CPUs
  EngineOptions engine;
};

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the {} file {}", what, path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Reads every weight page once, with a progress bar, so the first requests don't pay for
// page faults (the weights are memory-mapped).
void prefault_weights(const GgufFile& gguf) {
  uint64_t total = 0;
  for (const GgufTensorInfo& t : gguf.tensors()) total += t.num_bytes;
  uint64_t done = 0;
  volatile uint8_t sink = 0;
  const auto bar = progress_bar("loading weights");
  for (const GgufTensorInfo& t : gguf.tensors()) {
    for (uint64_t off = 0; off < t.num_bytes; off += 4096) sink = sink + t.data[off];
    done += t.num_bytes;
    if (bar) bar(done, total);
  }
}

// --io-cpus: the HTTP I/O thread and the API worker get these CPUs, the engine's threads the
// others of `allowed`, the CPUs this process may use (pinned one to a CPU; --threads defaults to
// as many as there are CPUs for them, at most the physical cores). Returns the engine's CPUs.
std::vector<int> split_cpus(const std::vector<int>& io_cpus, const std::vector<int>& allowed,
                            EngineConfig& config) {
  for (int cpu : io_cpus)
    if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end())
      fail("--io-cpus: CPU {} is not one this process may run on ({})", cpu,
           format_cpu_list(allowed));
  std::vector<int> engine_cpus;
  for (int cpu : allowed)
    if (std::find(io_cpus.begin(), io_cpus.end(), cpu) == io_cpus.end()) engine_cpus.push_back(cpu);
  if (engine_cpus.empty())
    fail("--io-cpus {} leaves no CPU for the engine (this process may run on {})",
         format_cpu_list(io_cpus), format_cpu_list(allowed));
  const int num_engine_cpus = static_cast<int>(engine_cpus.size());
  if (config.num_threads <= 0)
    config.num_threads = std::min(num_engine_cpus, ThreadPool::default_num_threads());
  if (config.num_threads > num_engine_cpus)
    spdlog::warn("--threads {} is more than the engine's {} CPU(s): threads will share them",
                 config.num_threads, num_engine_cpus);
  spdlog::info("engine: {} thread(s) on CPU(s) {}; HTTP I/O and API worker on CPU(s) {}",
               config.num_threads, format_cpu_list(engine_cpus), format_cpu_list(io_cpus));
  return engine_cpus;
}

// R engines over one set of weights: each replica has its own Model over the first one's file
// bytes (a Model only owns its scratch buffers; GgufFile copies share the weights), and gets 1/R of
// the threads (pinned to its own CPUs), of the KV cache and of the swap space.
struct Replicas {
  std::vector<std::unique_ptr<Model>> extra_models;  // replicas 1..R-1
  std::vector<std::unique_ptr<Engine>> engines;
  std::unique_ptr<EngineGroup> group;
};

// `cpus`: the CPUs the engines' threads may use, split among the replicas; with one replica its
// threads are pinned to them only under --io-cpus.
Replicas build_replicas(const ServeOptions& o, const EngineConfig& config, LoadedModel& lm,
                        const std::vector<int>& cpus) {
  const int num = o.replicas;
  if (num < 1 || num > 256) fail("--replicas must be in 1..256, got {}", num);
  Replicas out;
  if (num == 1) {
    EngineConfig one = config;
    if (!o.io_cpus.empty()) one.cpu_affinity = cpus;
    out.engines.push_back(std::make_unique<Engine>(*lm.model, *lm.tokenizer, one));
    out.group = std::make_unique<EngineGroup>(*out.engines[0]);
    return out;
  }
  const int total_threads =
      config.num_threads > 0 ? config.num_threads : ThreadPool::default_num_threads();
  if (total_threads < num)
    fail("--replicas {} needs at least {} threads (--threads is {})", num, num, total_threads);
  // The default KV size is resolved once for all replicas together, then split.
  EngineConfig all = config;
  all.max_num_seqs = config.max_num_seqs * num;
  const int64_t kv_total = resolve_kv_cache_bytes(*lm.model, all);
  int next_cpu = 0;
  for (int r = 0; r < num; ++r) {
    EngineConfig rc = config;
    rc.num_threads = total_threads / num + (r < total_threads % num ? 1 : 0);
    rc.kv_cache_memory = kv_total / num;
    rc.swap_space = config.swap_space / num;
    rc.cpu_affinity.clear();
    for (int t = 0; t < rc.num_threads; ++t)
      rc.cpu_affinity.push_back(cpus[static_cast<size_t>(next_cpu++) % cpus.size()]);
    Model* model = lm.model.get();
    if (r > 0) {
      out.extra_models.push_back(lm.model->replica());
      model = out.extra_models.back().get();
    }
    out.engines.push_back(
        std::make_unique<Engine>(*model, *lm.tokenizer, rc, EngineGroup::replica_id_space(r, num)));
    spdlog::info("replica {}: {} thread(s) on CPU(s) {}, {} MiB KV cache", r, rc.num_threads,
                 fmt::join(rc.cpu_affinity, ","), rc.kv_cache_memory >> 20);
  }
  EngineGroupOptions go;
  go.routing = parse_replica_routing(o.routing);
  go.affinity_chunk_tokens = config.block_size;
  std::vector<Engine*> engines;
  for (auto& e : out.engines) engines.push_back(e.get());
  out.group = std::make_unique<EngineGroup>(std::move(engines), go);
  spdlog::info("{} replicas, routing: {}", num, replica_routing_name(go.routing));
  return out;
}

int run_serve(const ServeOptions& o) {
  // Signals are taken by sigwait() below: block them before any thread starts so that every
  // thread inherits the mask and none is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  server::ApiServerOptions api;
  api.http.host = o.host;
  if (o.port < 0 || o.port > 65535) fail("--port must be in 0..65535, got {}", o.port);
  api.http.port = static_cast<uint16_t>(o.port);
  api.http.request_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(o.request_timeout_s * 1000));
  api.http.idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.idle_timeout_s * 1000));
  api.http.max_body_bytes = static_cast<size_t>(o.max_body_mib) << 20;
  api.http.batch_scheduling = o.io_scheduling == "batch";
  if (!o.api_key.empty()) api.api_keys.push_back(o.api_key);
  if (!o.api_key_file.empty()) {
    std::istringstream keys(read_file(o.api_key_file, "API key"));
    for (std::string line; std::getline(keys, line);)
      if (std::string k = trim(line); !k.empty() && k[0] != '#') api.api_keys.push_back(k);
    if (api.api_keys.empty()) fail("the API key file {} holds no key", o.api_key_file);
  }
  if (const char* env = std::getenv("PARETO_API_KEY"); env && *env && api.api_keys.empty())
    api.api_keys.push_back(env);
  if (o.max_queue < 0) fail("--max-queue must be >= 0");
  static const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  if (!std::regex_match(o.metrics_prefix, kMetricName))
    fail("--metrics-prefix '{}' is not a valid Prometheus metric name prefix", o.metrics_prefix);
  api.metrics_prefix = o.metrics_prefix;
  api.max_queue = o.max_queue;

  EngineConfig config = o.engine.to_config();
  std::vector<int> engine_cpus = ThreadPool::allowed_cpus();
  if (!o.io_cpus.empty()) {
    api.http.cpus = parse_cpu_list(o.io_cpus);
    engine_cpus = split_cpus(api.http.cpus, engine_cpus, config);
  }
  LoadedModel lm = load_model(o.model_path, o.mmap);
  if (o.mmap) prefault_weights(lm.model->gguf());
  api.served_model_name = !o.served_model_name.empty() ? o.served_model_name : o.model_path;

  if (!o.chat_template_file.empty()) {
    api.chat_template = read_file(o.chat_template_file, "chat template");
    spdlog::info("chat template from {}", o.chat_template_file);
  } else {
    api.chat_template = lm.model->gguf().get_string_or("tokenizer.chat_template", "");
    if (api.chat_template.empty()) {
      api.chat_template = ChatTemplate::default_chatml();
      spdlog::info("the model has no chat template; using the ChatML default");
    }
  }

  Replicas replicas = build_replicas(o, config, lm, engine_cpus);
  server::ApiServer server(*replicas.group, api);
  server.start();
  spdlog::info("serving {} on http://{}:{} (OpenAI API under /v1; Ctrl-C to stop)",
               api.served_model_name, o.host, server.port());
  if (!api.api_keys.empty()) spdlog::info("API key required on /v1/*");
  fmt::print(stderr,
             "try: curl http://{}:{}/v1/completions -H 'Content-Type: application/json' -d "
             "'{{\"model\": \"{}\", \"prompt\": \"Once upon a time\", \"max_tokens\": 32}}'\n",
             o.host, server.port(), api.served_model_name);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{} received: no new connections; letting requests finish (up to {:.0f} s)",
               sig == SIGINT ? "SIGINT" : "SIGTERM", o.shutdown_timeout_s);
  const size_t aborted =
      server.shutdown(std::chrono::milliseconds(static_cast<int64_t>(o.shutdown_timeout_s * 1000)));
  spdlog::info("stopped ({} request(s) aborted)", aborted);
  return 0;
}

const RegisterCommand kServe(
    "serve", "Serve a model over an OpenAI-compatible HTTP API", [](CLI::App& sub) {
      auto o = std::make_shared<ServeOptions>();
      sub.add_option("-m,--model", o->model_path, "GGUF model file")->required();
      add_mmap_option(sub, o->mmap);
      sub.add_option("--host", o->host, "Address to listen on")->capture_default_str();
      sub.add_option("--port", o->port, "Port (0 = any free port)")->capture_default_str();
      sub.add_option("--api-key", o->api_key,
                     "Require 'Authorization: Bearer KEY' on /v1/* (also PARETO_API_KEY)");
      sub.add_option("--api-key-file", o->api_key_file, "File with accepted keys, one per line");
      sub.add_option("--served-model-name", o->served_model_name,
                     "The model name clients use (default: the model path)");
      sub.add_option("--max-queue", o->max_queue,
                     "Requests that may wait beyond --max-num-seqs before 429")
          ->capture_default_str();
      sub.add_option("--chat-template", o->chat_template_file,
                     "Jinja chat template file (default: the GGUF's, else ChatML)");
      sub.add_option("--shutdown-timeout", o->shutdown_timeout_s,
                     "Seconds in-flight requests get to finish on SIGINT/SIGTERM")
          ->capture_default_str();
      sub.add_option("--request-timeout", o->request_timeout_s,
                     "Seconds a client has to send a request's headers and body")
          ->capture_default_str();
      sub.add_option("--idle-timeout", o->idle_timeout_s,
                     "Seconds an idle kept-alive connection stays open")
          ->capture_default_str();
      sub.add_option("--max-body-mib", o->max_body_mib, "Largest request body (MiB)")
          ->capture_default_str();
      sub.add_option("--metrics-prefix", o->metrics_prefix,
                     "Prefix of /metrics names ('pareto_' also passes promtool's lint)")
          ->capture_default_str();
      sub.add_option("--replicas", o->replicas,
                     "Engine replicas in this process; each gets 1/R of --threads (pinned), of "
                     "the KV cache and of the swap space")
          ->capture_default_str();
      sub.add_option("--routing", o->routing,
                     "How requests pick a replica: least-loaded, or prefix (same prompt prefix, "
                     "same replica, unless it is much busier)")
          ->capture_default_str()
          ->check(CLI::IsMember({"least-loaded", "prefix"}));
      sub.add_option("--io-scheduling", o->io_scheduling,
                     "Linux policy of the HTTP and API threads: batch (they never preempt an "
                     "engine thread mid-step) or normal")
          ->capture_default_str()
          ->check(CLI::IsMember({"batch", "normal"}));
      sub.add_option("--io-cpus", o->io_cpus,
                     "CPUs (e.g. 3 or 6-7) reserved for the HTTP I/O thread and the API worker; "
                     "the engine's threads are pinned to the other CPUs");
      add_engine_options(sub, o->engine);
      return [o] { return run_serve(*o); };
    });

}  // namespace
}  // namespace pareto::cli
