// The threaded engine front: EngineCore runs on its own thread; clients add requests from any
// thread and read each request's outputs from a RequestStream as they are produced.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine_core.h"

namespace pareto {

// The outputs of one request, in order; the last one has finished = true.
class RequestStream {
 public:
  int64_t request_id() const { return request_id_; }
  // Blocks until the next output; nullopt after the final output has been taken.
  std::optional<RequestOutput> next();
  // As next(), but gives up after `timeout` (returns nullopt; check finished()).
  std::optional<RequestOutput> next_for(std::chrono::milliseconds timeout);
  // Never blocks: the next queued output, or nullopt when none is queued (yet).
  std::optional<RequestOutput> try_next();
  // True once the final output has been taken.
  bool finished() const;
  // For event-driven readers (the HTTP server): `listener` runs after each output is queued,
  // on the engine thread with no lock held, and must only schedule work (e.g. post a drain
  // of try_next() to an I/O strand). If outputs are already queued it also runs once at once,
  // so nothing queued before the call is missed. Set it at most once.
  void set_listener(std::function<void()> listener);

 private:
  friend class Engine;
  explicit RequestStream(int64_t request_id) : request_id_(request_id) {}
  void push(RequestOutput out);

  int64_t request_id_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<RequestOutput> queue_;
  bool final_pushed_ = false;
  bool final_taken_ = false;
  std::function<void()> listener_;
};

// Which request ids an engine hands out: first, first + stride, ... Replicas behind one server
// (EngineGroup) use disjoint spaces (replica r of R: first = r, stride = R), so an id alone
// names its replica.
struct RequestIdSpace {
  int64_t first = 0;
  int64_t stride = 1;
};

class Engine {
 public:
  // Builds the core (may throw pareto::Error) and starts the loop. model and tokenizer must
  // outlive the engine.
  Engine(Model& model, const Tokenizer& tokenizer, const EngineConfig& config,
         RequestIdSpace ids = {});
  // Aborts whatever is still running and joins the loop.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe. Never throws for a bad request: its stream yields one output with an error.
  std::shared_ptr<RequestStream> add_request(GenerationRequest request);
  // Thread-safe; frees the request's blocks at the next step boundary. Its stream ends with
  // finish reason abort. Unknown ids are ignored.
  void abort(int64_t request_id);

  // Thread-safe; forgets every cached prefix block at the next step boundary and returns the
  // number of block hashes dropped (blocks in use keep serving their sequences). Blocks until
  // done: at most one step.
  int64_t reset_prefix_cache();

  // Requests added and not yet finished (queued, running or with outputs still to deliver):
  // the load measure for routing between replicas. Thread-safe.
  int64_t num_unfinished_requests() const;

  // A snapshot taken after the latest step.
  EngineStats stats() const;
  const EngineConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  void loop();
  // Pushes an output to its request's stream, which ends with a finished one. mutex_ held.
  void deliver(RequestOutput&& out);

  const Tokenizer& tokenizer_;
  EngineConfig config_;  // as resolved by the core (max_model_len etc.)
  std::unique_ptr<EngineCore> core_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::pair<int64_t, GenerationRequest>> new_requests_;
  std::vector<int64_t> aborts_;
  std::unordered_map<int64_t, std::shared_ptr<RequestStream>> streams_;
  EngineStats stats_;
  bool stop_ = false;
  int64_t next_request_id_ = 0;
  int64_t request_id_stride_ = 1;
  // reset_prefix_cache(): callers take a ticket; the loop serves every ticket up to requested.
  std::condition_variable reset_done_cv_;
  uint64_t resets_requested_ = 0, resets_done_ = 0;
  int64_t last_reset_dropped_ = 0;
  std::thread thread_;
};

}  // namespace pareto
