#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include "base/error.h"

namespace pareto {

void RequestStream::push(RequestOutput out) {
  std::function<void()> listener;
  {
    std::lock_guard lock(mutex_);
    if (final_pushed_) return;
    final_pushed_ = out.finished;
    queue_.push_back(std::move(out));
    listener = listener_;
  }
  cv_.notify_all();
  if (listener) listener();
}

void RequestStream::set_listener(std::function<void()> listener) {
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    listener_ = listener;
    queued = !queue_.empty();
  }
  if (queued && listener) listener();
}

std::optional<RequestOutput> RequestStream::try_next() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  RequestOutput out = std::move(queue_.front());
  queue_.pop_front();
  if (out.finished) final_taken_ = true;
  return out;
}

std::optional<RequestOutput> RequestStream::next() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return !queue_.empty() || final_taken_; });
  if (queue_.empty()) return std::nullopt;
  RequestOutput out = std::move(queue_.front());
  queue_.pop_front();
  if (out.finished) final_taken_ = true;
  return out;
}

std::optional<RequestOutput> RequestStream::next_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || final_taken_; }))
    return std::nullopt;
  if (queue_.empty()) return std::nullopt;
  RequestOutput out = std::move(queue_.front());
  queue_.pop_front();
  if (out.finished) final_taken_ = true;
  return out;
}

bool RequestStream::finished() const {
  std::lock_guard lock(mutex_);
  return final_taken_;
}

Engine::Engine(Model& model, const Tokenizer& tokenizer, const EngineConfig& config,
               RequestIdSpace ids)
    : tokenizer_(tokenizer), core_(std::make_unique<EngineCore>(model, tokenizer, config)) {
  if (ids.first < 0 || ids.stride < 1)
    fail("engine: bad request id space (first {}, stride {})", ids.first, ids.stride);
  next_request_id_ = ids.first;
  request_id_stride_ = ids.stride;
  config_ = core_->config();
  stats_ = core_->stats();
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<RequestStream> Engine::add_request(GenerationRequest request) {
  std::shared_ptr<RequestStream> stream;
  {
    std::lock_guard lock(mutex_);
    const int64_t id = next_request_id_;
    next_request_id_ += request_id_stride_;
    stream.reset(new RequestStream(id));
    if (stop_) {
      RequestOutput out;
      out.request_id = id;
      out.finished = true;
      out.error = "the engine is shutting down";
      out.error_kind = RequestErrorKind::kUnavailable;
      stream->push(std::move(out));
      return stream;
    }
    streams_[id] = stream;
    new_requests_.emplace_back(id, std::move(request));
  }
  wake_.notify_all();
  return stream;
}

void Engine::abort(int64_t request_id) {
  {
    std::lock_guard lock(mutex_);
    aborts_.push_back(request_id);
  }
  wake_.notify_all();
}

int64_t Engine::reset_prefix_cache() {
  std::unique_lock lock(mutex_);
  if (stop_) return 0;
  const uint64_t ticket = ++resets_requested_;
  wake_.notify_all();
  reset_done_cv_.wait(lock, [&] { return resets_done_ >= ticket; });
  return last_reset_dropped_;
}

int64_t Engine::num_unfinished_requests() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(streams_.size());
}

EngineStats Engine::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Engine::deliver(RequestOutput&& out) {
  auto it = streams_.find(out.request_id);
  if (it == streams_.end()) return;
  const bool finished = out.finished;
  it->second->push(std::move(out));
  if (finished) streams_.erase(it);
}

void Engine::loop() {
  // The loop's thread is worker 0 of the core's pool (it calls parallel_for).
  if (!config_.cpu_affinity.empty()) ThreadPool::pin_current_thread(config_.cpu_affinity[0]);
  // Wakes any reset_prefix_cache() caller still waiting when the loop ends.
  struct ResetRelease {
    Engine* e;
    ~ResetRelease() {
      std::lock_guard lock(e->mutex_);
      e->resets_done_ = e->resets_requested_;
      e->reset_done_cv_.notify_all();
    }
  } reset_release{this};
  for (;;) {
    std::vector<std::pair<int64_t, GenerationRequest>> adds;
    std::vector<int64_t> aborts;
    bool stopping = false;
    uint64_t resets = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] {
        return stop_ || !new_requests_.empty() || !aborts_.empty() || core_->has_unfinished() ||
               resets_requested_ > resets_done_;
      });
      adds.swap(new_requests_);
      aborts.swap(aborts_);
      stopping = stop_;
      resets = resets_requested_;
    }
    if (resets > resets_done_) {
      // Between steps no block is half-written, so every hash can go.
      const int64_t dropped = core_->kv_cache().reset_prefix_cache();
      std::lock_guard lock(mutex_);
      last_reset_dropped_ = dropped;
      resets_done_ = resets;
      reset_done_cv_.notify_all();
    }
    for (auto& [id, req] : adds) {
      try {
        core_->add_request(id, std::move(req));
      } catch (const std::exception& e) {
        // The core rejects bad requests itself; anything else still ends only this request.
        spdlog::error("request {} could not be added: {}", id, e.what());
        RequestOutput out;
        out.request_id = id;
        out.finished = true;
        out.error = e.what();
        out.error_kind = RequestErrorKind::kInternal;
        std::lock_guard lock(mutex_);
        deliver(std::move(out));
      }
    }
    for (int64_t id : aborts) core_->abort_request(id);
    if (stopping) {
      // Abort everything still open so every stream ends.
      std::vector<int64_t> open;
      {
        std::lock_guard lock(mutex_);
        for (auto& [id, s] : streams_) open.push_back(id);
      }
      for (int64_t id : open) core_->abort_request(id);
    }

    // Each request's output goes to its stream as soon as the core has sampled it, so the
    // server writes the first tokens while the rest of the batch is still being sampled.
    const EngineCore::OutputSink sink = [this](RequestOutput&& out) {
      std::lock_guard lock(mutex_);
      // Whoever sees a request's final output must find it counted in stats().
      if (out.finished) stats_ = core_->stats();
      deliver(std::move(out));
    };
    std::vector<RequestOutput> outputs;
    try {
      outputs = core_->step(sink);
    } catch (const std::exception& e) {
      // A failed step must not leave clients waiting forever: end every open request with the
      // error and free its blocks.
      spdlog::error("engine step failed: {}", e.what());
      std::vector<int64_t> open;
      {
        std::lock_guard lock(mutex_);
        for (auto& [id, s] : streams_) open.push_back(id);
      }
      for (int64_t id : open) core_->abort_request(id);
      outputs = core_->step();
      for (auto& out : outputs) {
        out.error = std::string("engine error: ") + e.what();
        out.error_kind = RequestErrorKind::kInternal;
      }
    }
    {
      std::lock_guard lock(mutex_);
      for (RequestOutput& out : outputs) deliver(std::move(out));
      stats_ = core_->stats();
      if (stopping && streams_.empty() && !core_->has_unfinished()) return;
    }
  }
}

}  // namespace pareto
