// Engine replicas behind one front (`pareto serve --replicas R`): each replica is a whole Engine
// with its own KV pool, scheduler and pinned threads; the group picks a replica per request and
// presents the replicas as one engine (summed stats, one request-id space).
//
// Why replicas at all: a small model at large batch leaves a CPU's cores or a GPU's SMs
// under-used by one engine's serial step loop (sampling, scheduling, barrier waits between
// ops); R engines with 1/R of the threads each overlap those gaps. The sweep (`pareto bench
// sweep --replicas 1,2`) measures when that pays.
//
// Routing:
//  - least-loaded: the replica with the fewest unfinished requests (ties: lowest index).
//  - prefix: requests whose prompts start with the same blocks go to the same replica, so its
//    prefix cache hits; a replica is only kept while its load is within `affinity_slack`
//    requests of the least-loaded one, so one hot prefix cannot pile everything on one
//    replica. The map from prompt-prefix hashes to replicas is bounded (oldest forgotten).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"

namespace pareto {

enum class ReplicaRouting { kLeastLoaded, kPrefixAffinity };

// "least-loaded" | "prefix"; throws pareto::Error otherwise.
ReplicaRouting parse_replica_routing(const std::string& name);
const char* replica_routing_name(ReplicaRouting routing);

struct EngineGroupOptions {
  ReplicaRouting routing = ReplicaRouting::kLeastLoaded;
  // Prefix routing: tokens per hashed chunk (the KV block size is a good choice) and how many
  // leading chunks are looked at.
  int64_t affinity_chunk_tokens = 16;
  int64_t affinity_max_chunks = 64;
  // Prefix routing keeps a request on its prefix's replica while that replica has at most this
  // many more unfinished requests than the least-loaded one.
  int64_t affinity_slack = 8;
  // Bound on remembered prefix hashes.
  size_t affinity_capacity = 1 << 16;
};

class EngineGroup {
 public:
  // The engines must outlive the group and use the request-id spaces replica_id_space(r, R)
  // (checked lazily: a stream id that maps to another replica is a programming error).
  // Throws pareto::Error when `engines` is empty.
  explicit EngineGroup(std::vector<Engine*> engines, EngineGroupOptions options = {});
  // One engine: the common case, no routing.
  explicit EngineGroup(Engine& engine) : EngineGroup(std::vector<Engine*>{&engine}) {}

  // The id space replica r of num_replicas must be built with.
  static RequestIdSpace replica_id_space(int r, int num_replicas) { return {r, num_replicas}; }

  // Routes and adds the request (thread-safe; never throws for a bad request, like Engine).
  std::shared_ptr<RequestStream> add_request(GenerationRequest request);
  // Aborts on the replica that owns the id (ids encode it). Unknown ids are ignored.
  void abort(int64_t request_id);
  // Every replica's prefix cache; returns the hashes dropped in total.
  int64_t reset_prefix_cache();

  // Counters and gauges summed over replicas (peak_used_kv_blocks: the sum of the replicas'
  // peaks); max_model_len is the smallest replica's.
  EngineStats stats() const;
  // Replica 0's resolved config (all replicas share one configuration).
  const EngineConfig& config() const { return engines_[0]->config(); }
  const Tokenizer& tokenizer() const { return engines_[0]->tokenizer(); }
  // Sequences that can run at once over all replicas.
  int64_t total_max_num_seqs() const;
  int num_replicas() const { return static_cast<int>(engines_.size()); }
  Engine& replica(int r) { return *engines_[static_cast<size_t>(r)]; }
  // Requests routed to each replica so far.
  std::vector<int64_t> routed_counts() const;

 private:
  size_t pick_replica(const GenerationRequest& request);
  size_t least_loaded(const std::vector<int64_t>& loads) const;

  std::vector<Engine*> engines_;
  EngineGroupOptions options_;

  mutable std::mutex mutex_;                       // routing state below
  std::unordered_map<uint64_t, size_t> affinity_;  // chained prefix hash -> replica
  std::deque<uint64_t> affinity_order_;            // insertion order, for the bound
  std::vector<int64_t> routed_;
};

}  // namespace pareto
