#include "sample/select_best.h"

#include <algorithm>
#include <functional>

#include "sample/softmax_math.h"

namespace pareto {

void select_best(std::span<const float> row, size_t k, std::vector<TokenLogit>& best) {
  best.clear();
  if (k == 0) return;
  const size_t n = row.size();
  // Blocks of up to 64 entries, at least 4k of them. The k-th largest block max m is a lower
  // bound on the k-th best entry (k blocks reach it), so only entries >= m, in blocks whose max
  // reaches m, can be among the best: usually a few times k of them, and never more than k
  // blocks' worth plus ties, whatever the order of the row (a bounded heap degrades to
  // O(n log k) on an ascending row; this does not).
  const size_t block = std::min<size_t>(64, n / (4 * k));
  if (block >= 2) {
    const size_t num_blocks = (n + block - 1) / block;
    std::vector<float> block_max(num_blocks);
    for (size_t b = 0; b < num_blocks; ++b) {
      block_max[b] = max_value(row.subspan(b * block, std::min(block, n - b * block)));
    }
    std::vector<float> order = block_max;
    std::nth_element(order.begin(), order.begin() + static_cast<ptrdiff_t>(k - 1), order.end(),
                     std::greater<float>());
    const float bound = order[k - 1];
    for (size_t b = 0; b < num_blocks; ++b) {
      if (block_max[b] < bound) continue;
      for (size_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
        if (row[i] >= bound) best.push_back({static_cast<int32_t>(i), row[i]});
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) best.push_back({static_cast<int32_t>(i), row[i]});
  }
  std::nth_element(best.begin(), best.begin() + static_cast<ptrdiff_t>(k - 1), best.end(),
                   ranks_before);
  best.resize(k);
}

}  // namespace pareto
