#include "weights/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <limits>

#include "base/error.h"

namespace pareto {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr size_t kMaxDims = 4;

uint64_t align_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

class Encoder {
 public:
  explicit Encoder(std::vector<uint8_t>& out) : out_(out) {}

  template <typename T>
  void put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }

  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }

  // The value's payload only; the caller writes the type tag where the format has one.
  void put_value(const GgufValue& v) {
    switch (v.type()) {
      case GgufType::UINT8:
        put(static_cast<uint8_t>(v.as_uint()));
        break;
      case GgufType::INT8:
        put(static_cast<int8_t>(v.as_int()));
        break;
      case GgufType::UINT16:
        put(static_cast<uint16_t>(v.as_uint()));
        break;
      case GgufType::INT16:
        put(static_cast<int16_t>(v.as_int()));
        break;
      case GgufType::UINT32:
        put(static_cast<uint32_t>(v.as_uint()));
        break;
      case GgufType::INT32:
        put(static_cast<int32_t>(v.as_int()));
        break;
      case GgufType::UINT64:
        put(v.as_uint());
        break;
      case GgufType::INT64:
        put(v.as_int());
        break;
      case GgufType::FLOAT32:
        put(static_cast<float>(v.as_float()));
        break;
      case GgufType::FLOAT64:
        put(v.as_float());
        break;
      case GgufType::BOOL:
        put(static_cast<uint8_t>(v.as_bool() ? 1 : 0));
        break;
      case GgufType::STRING:
        put_string(v.as_string());
        break;
      case GgufType::ARRAY:
        put(static_cast<uint32_t>(v.elem_type()));
        put<uint64_t>(v.as_array().size());
        for (const auto& e : v.as_array()) put_value(e);
        break;
    }
  }

 private:
  std::vector<uint8_t>& out_;
};

// Arrays must be homogeneous: the element type is written once, so a mismatched element would
// be silently reinterpreted by every reader.
void check_value(const std::string& key, const GgufValue& v) {
  if (!v.is_array()) return;
  for (const auto& e : v.as_array()) {
    if (e.type() != v.elem_type())
      fail("gguf writer: metadata key '{}': array of {} holds a {} element", key,
           gguf_type_name(v.elem_type()), gguf_type_name(e.type()));
    check_value(key, e);
  }
}

// Owns the temporary file until it is renamed into place; removes it on any failure.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target), tmp_(target + ".tmp.XXXXXX") {
    fd_ = ::mkstemp(tmp_.data());
    if (fd_ < 0)
      fail("{}: cannot create temporary file {}: {}", target_, tmp_, std::strerror(errno));
    // mkstemp creates 0600; a model file should be as readable as any other output.
    ::fchmod(fd_, 0644);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const uint8_t* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("{}: write failed after {} bytes: {}", target_, written_, std::strerror(errno));
      }
      p += w;
      n -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
  }

  void pad_to(uint64_t alignment) {
    static const uint8_t kZeros[4096] = {};
    uint64_t n = align_up(written_, alignment) - written_;
    while (n > 0) {
      const size_t chunk = std::min<uint64_t>(n, sizeof(kZeros));
      write(kZeros, chunk);
      n -= chunk;
    }
  }

  uint64_t written() const { return written_; }

  void commit() {
    const int fd = fd_;
    fd_ = -1;
    // close() can report a deferred write error (NFS, quota), so it is checked too.
    if (::close(fd) != 0) fail("{}: close failed: {}", target_, std::strerror(errno));
    if (::rename(tmp_.c_str(), target_.c_str()) != 0)
      fail("{}: cannot rename {} into place: {}", target_, tmp_, std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string target_;
  std::string tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace

GgufWriter::GgufWriter(uint32_t version) : version_(version) {
  if (version != 2 && version != 3) fail("gguf writer: unsupported GGUF version {}", version);
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key.empty()) fail("gguf writer: empty metadata key");
  check_value(key, value);
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, std::string v) {
  set(key, GgufValue::from_string(std::move(v)));
}
void GgufWriter::set_u32(const std::string& key, uint32_t v) {
  set(key, GgufValue::from_uint(GgufType::UINT32, v));
}
void GgufWriter::set_i32(const std::string& key, int32_t v) {
  set(key, GgufValue::from_int(GgufType::INT32, v));
}
void GgufWriter::set_u64(const std::string& key, uint64_t v) {
  set(key, GgufValue::from_uint(GgufType::UINT64, v));
}
void GgufWriter::set_f32(const std::string& key, float v) {
  set(key, GgufValue::from_float(GgufType::FLOAT32, v));
}
void GgufWriter::set_bool(const std::string& key, bool v) {
  set(key, GgufValue::from_bool(v));
}

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& v) {
  std::vector<GgufValue> elems;
  elems.reserve(v.size());
  for (const auto& s : v) elems.push_back(GgufValue::from_string(s));
  set(key, GgufValue::from_array(GgufType::STRING, std::move(elems)));
}

void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
  std::vector<GgufValue> elems;
  elems.reserve(v.size());
  for (float f : v) elems.push_back(GgufValue::from_float(GgufType::FLOAT32, f));
  set(key, GgufValue::from_array(GgufType::FLOAT32, std::move(elems)));
}

void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  std::vector<GgufValue> elems;
  elems.reserve(v.size());
  for (int32_t i : v) elems.push_back(GgufValue::from_int(GgufType::INT32, i));
  set(key, GgufValue::from_array(GgufType::INT32, std::move(elems)));
}

void GgufWriter::set_alignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail("gguf writer: alignment {} is not a power of two", alignment);
  set_u32("general.alignment", alignment);
}

bool GgufWriter::has(std::string_view key) const {
  for (const auto& kv : metadata_)
    if (kv.first == key) return true;
  return false;
}

uint64_t GgufWriter::alignment() const {
  for (const auto& [k, v] : metadata_) {
    if (k != "general.alignment") continue;
    uint64_t a = 0;
    try {
      a = v.as_uint();
    } catch (const Error&) {
      fail("gguf writer: general.alignment must be an integer");
    }
    if (a == 0 || (a & (a - 1)) != 0)
      fail("gguf writer: general.alignment {} is not a power of two", a);
    return a;
  }
  return kDefaultAlignment;
}

uint64_t GgufWriter::tensor_bytes(const std::string& name, const std::vector<int64_t>& shape,
                                  DType type) {
  const auto tr = dtype_traits(static_cast<uint32_t>(type));
  if (!tr) fail("gguf writer: tensor '{}' has unknown type {}", name, static_cast<uint32_t>(type));
  if (shape.empty() || shape.size() > kMaxDims)
    fail("gguf writer: tensor '{}' has {} dimensions (1 to {} allowed)", name, shape.size(),
         kMaxDims);
  uint64_t num_elements = 1;
  for (int64_t d : shape) {
    if (d <= 0) fail("gguf writer: tensor '{}' has an invalid dimension {}", name, d);
    if (num_elements > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d))
      fail("gguf writer: tensor '{}' has too many elements", name);
    num_elements *= static_cast<uint64_t>(d);
  }
  if (shape[0] % tr->block_elems != 0)
    fail("gguf writer: tensor '{}' of type {} has rows of {} elements, not a multiple of {}", name,
         tr->name, shape[0], tr->block_elems);
  return num_elements / static_cast<uint64_t>(tr->block_elems) * tr->block_bytes;
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, DType type,
                            std::span<const uint8_t> bytes) {
  const uint64_t n = tensor_bytes(name, shape, type);
  if (bytes.size() != n)
    fail("gguf writer: tensor '{}' needs {} bytes of {}, got {}", name, n, dtype_name(type),
         bytes.size());
  add_tensor(name, std::move(shape), type, TensorFill{});
  tensors_.back().bytes.assign(bytes.begin(), bytes.end());
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, DType type,
                            TensorFill fill) {
  if (name.empty()) fail("gguf writer: empty tensor name");
  for (const auto& t : tensors_)
    if (t.name == name) fail("gguf writer: duplicate tensor name '{}'", name);
  const uint64_t n = tensor_bytes(name, shape, type);
  tensors_.push_back(Tensor{name, std::move(shape), type, n, {}, std::move(fill)});
}

std::vector<uint8_t> GgufWriter::encode_header(std::vector<uint64_t>& offsets) const {
  const uint64_t align = alignment();
  std::vector<uint8_t> out;
  Encoder e(out);
  e.put(kMagic);
  e.put(version_);
  e.put<uint64_t>(tensors_.size());
  e.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    e.put_string(key);
    e.put(static_cast<uint32_t>(value.type()));
    e.put_value(value);
  }
  offsets.clear();
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    e.put_string(t.name);
    e.put(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) e.put(static_cast<uint64_t>(d));
    e.put(static_cast<uint32_t>(t.type));
    e.put(offset);
    offsets.push_back(offset);
    offset = align_up(offset + t.num_bytes, align);
  }
  return out;
}

void GgufWriter::write(const std::string& path, const Progress& progress) const {
  const uint64_t align = alignment();
  std::vector<uint64_t> offsets;
  const std::vector<uint8_t> header = encode_header(offsets);

  TempFile out(path);
  out.write(header.data(), header.size());
  out.pad_to(align);
  const uint64_t data_start = out.written();

  // Tensor i + 1 is produced on a helper thread while tensor i goes to disk, so generating a
  // large model overlaps computation with I/O. Two buffers alternate.
  std::vector<uint8_t> buffers[2];
  auto produce = [&](size_t i) {
    const Tensor& t = tensors_[i];
    if (!t.fill) return;
    auto& b = buffers[i % 2];
    b.assign(t.num_bytes, 0);
    t.fill(b.data(), b.size());
  };
  std::future<void> pending;  // after buffers: its destructor waits before they are freed
  if (!tensors_.empty()) pending = std::async(std::launch::async, produce, 0);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    if (progress) progress(i, tensors_.size(), t.name);
    pending.get();
    if (i + 1 < tensors_.size()) pending = std::async(std::launch::async, produce, i + 1);
    if (out.written() - data_start != offsets[i])
      fail("{}: internal error: tensor '{}' lands at {} instead of {}", path, t.name,
           out.written() - data_start, offsets[i]);
    const auto& bytes = t.fill ? buffers[i % 2] : t.bytes;
    out.write(bytes.data(), bytes.size());
    out.pad_to(align);
  }
  out.commit();
}

}  // namespace pareto
