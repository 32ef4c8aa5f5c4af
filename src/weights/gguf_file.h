// Read-only view of a GGUF file (versions 2 and 3): metadata, tensor infos, and tensor data used
// in place from a memory mapping or from a copy in (huge-page) memory. Every count, offset, size
// and string in the file is checked against the file's length before use, so a corrupt or hostile
// file produces pareto::Error naming the file and the problem rather than a crash, a hang or a huge
// allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/dtype.h"
#include "base/mapped_file.h"
#include "weights/gguf_value.h"

namespace pareto {

struct GgufTensorInfo {
  std::string name;
  // Dimensions in GGUF order: shape[0] is the contiguous (fastest-varying) one. For a weight
  // matrix that is [in_features, out_features].
  std::vector<int64_t> shape;
  DType type = DType::F32;
  uint64_t offset = 0;            // from the start of the data section
  uint64_t num_bytes = 0;         // size of the data
  const uint8_t* data = nullptr;  // points into the file's bytes (mapping or copy)

  int64_t num_elements() const;
};

class GgufFile {
 public:
  static constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
  static constexpr uint64_t kDefaultAlignment = 32;

  // How open() gets at the file's bytes.
  enum class Load {
    // Map the file: lazy, and the page cache is shared between processes. Cheapest for reading
    // metadata.
    kMap,
    // Read it all into anonymous memory on transparent huge pages: an up-front copy, but
    // weights streamed from it miss the TLB far less (tinyllama decode +20-30%).
    kRead,
  };
  // Opens and parses the file at path. Throws pareto::Error ("PATH: problem") on any problem.
  // progress (kRead only): see HugePageBuffer::read_file.
  static GgufFile open(const std::string& path, Load load = Load::kMap,
                       const std::function<void(size_t, size_t)>& progress = {});
  // Parses a buffer that must outlive the GgufFile (used by the fuzzer and tests).
  static GgufFile parse(const uint8_t* data, size_t size, const std::string& name);

  GgufFile(GgufFile&&) = default;
  GgufFile& operator=(GgufFile&&) = default;
  // Copies share the file's bytes (several Models over one set of weights).
  GgufFile(const GgufFile&) = default;
  GgufFile& operator=(const GgufFile&) = default;

  const std::string& path() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Typed lookups. The *_or forms return the fallback when the key is absent; all throw
  // pareto::Error naming the key when it is present with an unusable type.
  std::string get_string(std::string_view key) const;  // throws when absent
  std::string get_string_or(std::string_view key, std::string fallback) const;
  int64_t get_int(std::string_view key) const;  // throws when absent
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;

  // Whether the bytes are this file's own writable copy (Load::kRead), which a Model may
  // rewrite in place (Model::from_gguf's pack).
  bool writable() const { return writable_; }

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  void parse_contents();

  std::shared_ptr<const void> storage_;  // the mapping or copy; null for a caller's buffer
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace pareto
