// Builds a GGUF file (version 3 by default, 2 on request): metadata in insertion order, then
// tensor infos, then each tensor's data at an offset aligned to general.alignment (32 unless the
// metadata sets it) with zero padding. The output is written to a temporary file beside the
// target and renamed into place, so readers never see a half-written model.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/dtype.h"
#include "weights/gguf_value.h"

namespace pareto {

class GgufWriter {
 public:
  // Writes num_bytes bytes of tensor data into dst. Called once, during write(), on a helper
  // thread (one call at a time, in tensor order) so that it overlaps writing the previous tensor.
  using TensorFill = std::function<void(uint8_t* dst, size_t num_bytes)>;
  // Called on the writing thread as each tensor is written: (tensor_idx, num_tensors, name).
  using Progress = std::function<void(size_t, size_t, const std::string&)>;

  explicit GgufWriter(uint32_t version = 3);

  // Sets a metadata key, replacing an earlier value in place (keeping its position) so that
  // copied metadata can be overridden. Throws pareto::Error for an empty key or an array whose
  // elements do not match its element type.
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  // Sets general.alignment (a power of two).
  void set_alignment(uint32_t alignment);
  bool has(std::string_view key) const;
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }

  // Adds a tensor. shape is in GGUF order ([in_features, out_features] for a weight matrix),
  // 1 to 4 positive dimensions with shape[0] a multiple of the type's block size. The first
  // form copies `bytes`, whose size must match; the second produces the data during write(),
  // so a model larger than memory can be written one tensor at a time.
  void add_tensor(const std::string& name, std::vector<int64_t> shape, DType type,
                  std::span<const uint8_t> bytes);
  void add_tensor(const std::string& name, std::vector<int64_t> shape, DType type, TensorFill fill);
  size_t num_tensors() const { return tensors_.size(); }

  // Writes the file. Throws pareto::Error naming the path on any failure, leaving no file
  // (and no temporary file) behind.
  void write(const std::string& path, const Progress& progress = {}) const;

  // Bytes a tensor of this type and shape occupies; throws for an invalid shape.
  static uint64_t tensor_bytes(const std::string& name, const std::vector<int64_t>& shape,
                               DType type);

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    DType type;
    uint64_t num_bytes;
    std::vector<uint8_t> bytes;  // empty when fill is set
    TensorFill fill;
  };

  uint64_t alignment() const;
  std::vector<uint8_t> encode_header(std::vector<uint64_t>& offsets) const;

  uint32_t version_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace pareto
