// Selection of the k best entries of a logits row without sorting it.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "sample/candidate_set.h"

namespace pareto {

// Fills `best` with the k best (index, logit) entries of row (higher logit first, ties to the
// lower index, as ranks_before), in no particular order; k <= row.size(); row free of NaN.
// O(row.size()) whatever the order of the row: one vectorized pass of block maxima bounds the
// k-th best, and nth_element runs only over the few entries that reach the bound.
void select_best(std::span<const float> row, size_t k, std::vector<TokenLogit>& best);

}  // namespace pareto
