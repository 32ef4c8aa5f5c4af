// Random-weight Llama-family models of real shapes (`pareto synth`, and tests that need a model
// of a given shape): benchmarks get realistic compute and memory traffic without downloading
// weights, since speed does not depend on the weights' values.
#pragma once

#include <cstdint>
#include <string>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "model/synthetic_shapes.h"
#include "weights/gguf_writer.h"

namespace pareto {

class GgufFile;

struct SyntheticModelInfo {
  size_t num_tensors = 0;
  uint64_t num_parameters = 0;
};

// Writes a standard GGUF model of `shape` to out_path: matrices N(0, 0.02) stored as `type`
// (F16 where a row is not whole blocks of it), norm weights 1, vectors F32, every tokenizer.*
// key copied from vocab_from. The bytes depend only on (shape, vocabulary, type, seed), not on
// the pool's thread count: each tensor's values come from a counter-based generator keyed by
// the seed and the tensor's name. Throws pareto::Error on a bad shape, type or I/O failure.
SyntheticModelInfo write_synthetic_model(const SyntheticShape& shape, const GgufFile& vocab_from,
                                         DType type, uint64_t seed, const std::string& out_path,
                                         ThreadPool& pool,
                                         const GgufWriter::Progress& progress = {});

}  // namespace pareto
