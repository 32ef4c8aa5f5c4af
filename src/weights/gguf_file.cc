#include "weights/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "base/huge_page_buffer.h"

namespace pareto {
namespace {

constexpr int kMaxArrayDepth = 8;  // real files nest at most 1 deep
constexpr uint32_t kMaxDims = 4;   // GGML_MAX_DIMS
constexpr uint64_t kMaxKeyLength = 65536;

// Bounds-checked little-endian reader over the file bytes. Every read checks the remaining
// length first, so a truncated file fails cleanly.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  [[noreturn]] void error(const std::string& what) const {
    fail("{}: {} (at byte offset {})", name_, what, pos_);
  }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      error(fmt::format("file is truncated: {} needs {} bytes, only {} remain", what, n,
                        remaining()));
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    if (len > remaining())
      error(fmt::format("{} has length {} but only {} bytes remain in the file", what, len,
                        remaining()));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

// The fewest bytes one element of a type can take in the file; bounds array counts before any
// allocation so that a huge count in a small file is rejected instead of exhausting memory.
uint64_t min_encoded_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL:
      return 1;
    case GgufType::UINT16:
    case GgufType::INT16:
      return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32:
      return 4;
    case GgufType::STRING:
      return 8;
    case GgufType::ARRAY:
      return 12;
    default:
      return 8;
  }
}

GgufValue read_value(Reader& r, GgufType type, int depth) {
  switch (type) {
    case GgufType::UINT8:
      return GgufValue::from_uint(type, r.read<uint8_t>("u8 value"));
    case GgufType::INT8:
      return GgufValue::from_int(type, r.read<int8_t>("i8 value"));
    case GgufType::UINT16:
      return GgufValue::from_uint(type, r.read<uint16_t>("u16 value"));
    case GgufType::INT16:
      return GgufValue::from_int(type, r.read<int16_t>("i16 value"));
    case GgufType::UINT32:
      return GgufValue::from_uint(type, r.read<uint32_t>("u32 value"));
    case GgufType::INT32:
      return GgufValue::from_int(type, r.read<int32_t>("i32 value"));
    case GgufType::UINT64:
      return GgufValue::from_uint(type, r.read<uint64_t>("u64 value"));
    case GgufType::INT64:
      return GgufValue::from_int(type, r.read<int64_t>("i64 value"));
    case GgufType::FLOAT32:
      return GgufValue::from_float(type, r.read<float>("f32 value"));
    case GgufType::FLOAT64:
      return GgufValue::from_float(type, r.read<double>("f64 value"));
    case GgufType::BOOL: {
      const uint8_t b = r.read<uint8_t>("bool value");
      if (b > 1) r.error(fmt::format("invalid bool value {}", b));
      return GgufValue::from_bool(b != 0);
    }
    case GgufType::STRING:
      return GgufValue::from_string(r.read_string("string value"));
    case GgufType::ARRAY: {
      if (depth >= kMaxArrayDepth) r.error("arrays nested too deeply");
      const uint32_t raw_elem = r.read<uint32_t>("array element type");
      if (!gguf_type_is_valid(raw_elem))
        r.error(fmt::format("unknown array element type {}", raw_elem));
      const auto elem_type = static_cast<GgufType>(raw_elem);
      const uint64_t count = r.read<uint64_t>("array length");
      if (count > r.remaining() / min_encoded_size(elem_type))
        r.error(fmt::format("array of {} {} elements cannot fit in the {} remaining bytes", count,
                            gguf_type_name(elem_type), r.remaining()));
      std::vector<GgufValue> elems;
      elems.reserve(count);
      for (uint64_t i = 0; i < count; ++i) elems.push_back(read_value(r, elem_type, depth + 1));
      return GgufValue::from_array(elem_type, std::move(elems));
    }
  }
  r.error(fmt::format("unknown value type {}", static_cast<uint32_t>(type)));
}

}  // namespace

int64_t GgufTensorInfo::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

GgufFile GgufFile::open(const std::string& path, Load load,
                        const std::function<void(size_t, size_t)>& progress) {
  GgufFile f;
  if (load == Load::kRead) {
    auto copy = std::make_shared<HugePageBuffer>(HugePageBuffer::read_file(path, progress));
    f.data_ = copy->data();
    f.size_ = copy->size();
    f.storage_ = std::move(copy);
    f.writable_ = true;
  } else {
    auto mapping = std::make_shared<MappedFile>(path);
    f.data_ = mapping->data();
    f.size_ = mapping->size();
    f.storage_ = std::move(mapping);
  }
  f.name_ = path;
  f.parse_contents();
  return f;
}

GgufFile GgufFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  GgufFile f;
  f.data_ = data;
  f.size_ = size;
  f.name_ = name;
  f.parse_contents();
  return f;
}

void GgufFile::parse_contents() {
  Reader r(data_, size_, name_);
  if (size_ < 4) r.error("file is too small to be GGUF");
  const uint32_t magic = r.read<uint32_t>("magic");
  if (magic != kMagic) {
    fail("{}: not a GGUF file (magic bytes are {:02x} {:02x} {:02x} {:02x}, expected 'GGUF')",
         name_, data_[0], data_[1], data_[2], data_[3]);
  }
  version_ = r.read<uint32_t>("version");
  if (version_ == 1) r.error("GGUF version 1 is not supported (re-convert the model)");
  if (version_ != 2 && version_ != 3) r.error(fmt::format("unsupported GGUF version {}", version_));

  const uint64_t num_tensors = r.read<uint64_t>("tensor count");
  const uint64_t num_kv = r.read<uint64_t>("metadata count");
  // A metadata entry takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at
  // least 8 + 4 + 8 + 4 + 8.
  if (num_kv > r.remaining() / 13)
    r.error(fmt::format("metadata count {} is impossible for a file of {} bytes", num_kv, size_));
  if (num_tensors > r.remaining() / 32)
    r.error(
        fmt::format("tensor count {} is impossible for a file of {} bytes", num_tensors, size_));

  metadata_.reserve(num_kv);
  for (uint64_t i = 0; i < num_kv; ++i) {
    std::string key = r.read_string("metadata key");
    if (key.empty() || key.size() > kMaxKeyLength)
      r.error(fmt::format("metadata entry {} has an invalid key length {}", i, key.size()));
    const uint32_t raw_type = r.read<uint32_t>("metadata value type");
    if (!gguf_type_is_valid(raw_type))
      r.error(fmt::format("metadata key '{}' has unknown value type {}", key, raw_type));
    GgufValue value;
    try {
      value = read_value(r, static_cast<GgufType>(raw_type), 0);
    } catch (const Error& e) {
      fail("{} (in metadata key '{}')", e.what(), key);
    }
    if (metadata_index_.count(key)) r.error(fmt::format("duplicate metadata key '{}'", key));
    metadata_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = find("general.alignment")) {
    uint64_t align = 0;
    try {
      align = a->as_uint();
    } catch (const Error&) {
      fail("{}: general.alignment must be an integer", name_);
    }
    if (align == 0 || (align & (align - 1)) != 0 || align > (1u << 20))
      fail("{}: general.alignment {} is not a power of two up to 1 MiB", name_, align);
    alignment_ = align;
  }

  tensors_.reserve(num_tensors);
  for (uint64_t i = 0; i < num_tensors; ++i) {
    GgufTensorInfo t;
    t.name = r.read_string("tensor name");
    if (t.name.empty() || t.name.size() > kMaxKeyLength)
      r.error(fmt::format("tensor {} has an invalid name length {}", i, t.name.size()));
    const uint32_t n_dims = r.read<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      r.error(
          fmt::format("tensor '{}' has {} dimensions (1 to {} allowed)", t.name, n_dims, kMaxDims));
    int64_t num_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = r.read<uint64_t>("tensor dimension");
      if (dim == 0 || dim > (uint64_t{1} << 40))
        r.error(fmt::format("tensor '{}' has an invalid dimension {}", t.name, dim));
      if (num_elements > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(dim))
        r.error(fmt::format("tensor '{}' has too many elements", t.name));
      num_elements *= static_cast<int64_t>(dim);
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const uint32_t raw_type = r.read<uint32_t>("tensor type");
    const auto tr = dtype_traits(raw_type);
    if (!tr) r.error(fmt::format("tensor '{}' has unknown type {}", t.name, raw_type));
    t.type = static_cast<DType>(raw_type);
    if (t.shape[0] % tr->block_elems != 0)
      r.error(fmt::format("tensor '{}' of type {} has a row of {} elements, not a multiple of {}",
                          t.name, tr->name, t.shape[0], tr->block_elems));
    const uint64_t num_blocks = static_cast<uint64_t>(num_elements / tr->block_elems);
    if (num_blocks > size_ / tr->block_bytes)
      r.error(fmt::format("tensor '{}' ({} elements of {}) is larger than the file", t.name,
                          num_elements, tr->name));
    t.num_bytes = num_blocks * tr->block_bytes;
    t.offset = r.read<uint64_t>("tensor offset");
    if (t.offset % alignment_ != 0)
      r.error(
          fmt::format("tensor '{}' offset {} is not aligned to {}", t.name, t.offset, alignment_));
    if (tensor_index_.count(t.name)) r.error(fmt::format("duplicate tensor name '{}'", t.name));
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  data_offset_ = (r.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (data_offset_ > size_ && !tensors_.empty())
    fail("{}: file is truncated before the tensor data section", name_);

  // Every tensor must lie inside the file and no two may overlap.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (auto& t : tensors_) {
    const uint64_t avail = size_ - std::min<uint64_t>(size_, data_offset_);
    if (t.offset > avail || t.num_bytes > avail - t.offset)
      fail(
          "{}: tensor '{}' ({} bytes at offset {} of the data section) lies outside the file "
          "({} bytes of data): the file is truncated or corrupt",
          name_, t.name, t.num_bytes, t.offset, avail);
    t.data = data_ + data_offset_ + t.offset;
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    if (prev->offset + prev->num_bytes > by_offset[i]->offset)
      fail("{}: tensors '{}' and '{}' overlap", name_, prev->name, by_offset[i]->name);
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
template <typename F>
auto typed_get(const GgufFile& f, std::string_view key, F&& get) {
  try {
    return get();
  } catch (const Error& e) {
    fail("{}: metadata key '{}': {}", f.path(), key, e.what());
  }
}
}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("{}: missing metadata key '{}'", name_, key);
  return typed_get(*this, key, [&] { return v->as_string(); });
}

std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  return typed_get(*this, key, [&] { return v->as_string(); });
}

int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("{}: missing metadata key '{}'", name_, key);
  return typed_get(*this, key, [&] { return v->as_int(); });
}

int64_t GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  return typed_get(*this, key, [&] { return v->as_int(); });
}

double GgufFile::get_float_or(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  return typed_get(*this, key, [&] { return v->as_float(); });
}

bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  return typed_get(*this, key, [&] { return v->as_bool(); });
}

}  // namespace pareto
