#include "bench/bench_dataset.h"

#include "base/error.h"

namespace pareto::bench {

std::vector<BenchPrompt> build_dataset(const DatasetOptions &opts,
                                       const Tokenizer *) {
  fail("--dataset-name {}: datasets are not implemented yet", opts.name);
}

} // namespace pareto::bench
