// Copies of a GGUF model with chosen changes, for tests of loading rules and model options.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "weights/gguf_file.h"
#include "weights/gguf_writer.h"

namespace pareto::test {

struct ModelEdit {
  std::function<void(GgufWriter&)> metadata;  // change or add metadata keys
  std::string skip_tensor;                    // leave this tensor out
  std::string transpose_tensor;               // swap this 2-D tensor's dimensions
  // Extra tensors to add: name -> F32 values (1-D).
  std::vector<std::pair<std::string, std::vector<float>>> extra_f32;
};

// Writes `src` with `edit` applied to scratch_dir()/name and returns the path.
std::string write_model_variant(const std::string& src, const std::string& name,
                                const ModelEdit& edit);

}  // namespace pareto::test
