// Chained content hashes of full KV blocks, the keys of the prefix cache.
//
// The hash of block i covers the hash of block i-1 (so equal hashes mean equal whole prefixes,
// not just equal blocks), an extra key (adapter id / cache salt: sequences with different keys
// never share blocks) and the block_size token ids of the block. 128-bit XXH3: a collision would
// silently hand one sequence another's K/V, so 64 bits is not enough margin for a long-running
// server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pareto {

struct BlockHash {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const BlockHash&) const = default;
};

struct BlockHashHasher {
  size_t operator()(const BlockHash& h) const {
    return static_cast<size_t>(h.low ^ (h.high * 0x9E3779B97F4A7C15ull));
  }
};

// Hash of one full block. parent is null for the first block of a sequence.
BlockHash hash_block(const BlockHash* parent, uint64_t extra_key, std::span<const int32_t> tokens);

// Appends to hashes (which holds the hashes of the first hashes.size() blocks of tokens) until
// it holds num_blocks entries. tokens must contain at least num_blocks * block_size ids.
void extend_block_hashes(std::span<const int32_t> tokens, int64_t block_size, uint64_t extra_key,
                         int64_t num_blocks, std::vector<BlockHash>& hashes);

}  // namespace pareto
