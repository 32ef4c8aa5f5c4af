#include "kv/prefix_hash.h"

// The state type is only complete with static linking declarations; a stack state avoids a
// heap allocation per block.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "base/error.h"

namespace pareto {

BlockHash hash_block(const BlockHash* parent, uint64_t extra_key, std::span<const int32_t> tokens) {
  // Layout hashed: [has_parent u64][parent low, high][extra_key][tokens...]. The explicit
  // has_parent word keeps a first block distinct from a block whose parent hashed to zero.
  constexpr size_t kHeaderWords = 4;
  uint64_t header[kHeaderWords] = {parent != nullptr ? 1u : 0u, parent ? parent->low : 0,
                                   parent ? parent->high : 0, extra_key};
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, header, sizeof(header));
  XXH3_128bits_update(&state, tokens.data(), tokens.size_bytes());
  XXH128_hash_t h = XXH3_128bits_digest(&state);
  return BlockHash{h.low64, h.high64};
}

void extend_block_hashes(std::span<const int32_t> tokens, int64_t block_size, uint64_t extra_key,
                         int64_t num_blocks, std::vector<BlockHash>& hashes) {
  if (num_blocks * block_size > static_cast<int64_t>(tokens.size())) {
    fail("prefix hash: {} blocks of {} tokens need more than the {} tokens given", num_blocks,
         block_size, tokens.size());
  }
  for (int64_t i = static_cast<int64_t>(hashes.size()); i < num_blocks; ++i) {
    const BlockHash* parent = i > 0 ? &hashes[i - 1] : nullptr;
    // Copy the parent: push_back may reallocate while hash_block reads it.
    BlockHash parent_copy = parent ? *parent : BlockHash{};
    hashes.push_back(hash_block(parent ? &parent_copy : nullptr, extra_key,
                                tokens.subspan(i * block_size, block_size)));
  }
}

}  // namespace pareto
