#include "support/model_variants.h"

#include <cstring>

#include "support/test_paths.h"

namespace pareto::test {

std::string write_model_variant(const std::string& src_path, const std::string& name,
                                const ModelEdit& edit) {
  const GgufFile src = GgufFile::open(src_path);
  GgufWriter w;
  for (const auto& [key, value] : src.metadata()) w.set(key, value);
  if (edit.metadata) edit.metadata(w);
  for (const auto& t : src.tensors()) {
    if (t.name == edit.skip_tensor) continue;
    std::vector<int64_t> shape = t.shape;
    if (t.name == edit.transpose_tensor) std::swap(shape[0], shape[1]);
    w.add_tensor(t.name, shape, t.type, std::span<const uint8_t>(t.data, t.num_bytes));
  }
  for (const auto& [tensor_name, values] : edit.extra_f32) {
    std::vector<uint8_t> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    w.add_tensor(tensor_name, {static_cast<int64_t>(values.size())}, DType::F32, bytes);
  }
  const std::string path = scratch_dir() + "/" + name;
  w.write(path);
  return path;
}

}  // namespace pareto::test
