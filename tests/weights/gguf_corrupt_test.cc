// The GGUF reader against damaged and hostile files: every one must be rejected with a
// pareto::Error naming the file (and, for hand-made cases, the problem), never a crash, hang or
// huge allocation. Run under ASan/UBSan to catch reads past the buffer.
#include <gtest/gtest.h>
#include <sanitizer/asan_interface.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "support/test_paths.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

constexpr uint32_t kF32 = 0, kQ8_0 = 8;                               // tensor type codes
constexpr uint32_t kU8 = 0, kU32 = 4, kBool = 7, kStr = 8, kArr = 9;  // value type codes

// Little-endian builder for hand-made, deliberately invalid files.
struct Raw {
  std::vector<uint8_t> b;

  template <typename T>
  Raw& put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  Raw& u8(uint8_t v) { return put(v); }
  Raw& u32(uint32_t v) { return put(v); }
  Raw& u64(uint64_t v) { return put(v); }
  Raw& str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& header(uint64_t num_tensors, uint64_t num_kv, uint32_t version = 3) {
    return u32(GgufFile::kMagic).u32(version).u64(num_tensors).u64(num_kv);
  }
  Raw& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(kU32).u32(v); }
  Raw& kv_str(std::string_view key, std::string_view v) { return str(key).u32(kStr).str(v); }
  Raw& tensor(std::string_view name, const std::vector<uint64_t>& dims, uint32_t type,
              uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t alignment = 32) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

// A parsed file must have every tensor inside the buffer. Tensors are contiguous, so reading
// their first and last bytes lets ASan prove it without touching every byte.
void touch_tensors(const GgufFile& f) {
  volatile uint8_t sink = 0;
  for (const auto& t : f.tensors()) sink = sink ^ t.data[0] ^ t.data[t.num_bytes - 1];
}

// Parses a copy in a buffer of exactly `size` bytes, so ASan flags any read past the end.
void parse_exact(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size == 0 ? 1 : size]);
  if (size) std::memcpy(copy.get(), data, size);
  touch_tensors(GgufFile::parse(copy.get(), size, name));
}

// Expects rejection with a message naming the file and containing `problem`.
void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& problem) {
  const std::string name = "crafted-" + std::to_string(bytes.size()) + ".gguf";
  try {
    parse_exact(bytes.data(), bytes.size(), name);
    ADD_FAILURE() << "accepted a file that should fail with '" << problem << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "expected '" << problem << "' in: " << msg;
  }
}

void expect_accepted(const std::vector<uint8_t>& bytes) {
  EXPECT_NO_THROW(parse_exact(bytes.data(), bytes.size(), "valid.gguf"));
}

// A valid file with one [32] f32 tensor, and variants of it that break one field.
std::vector<uint8_t> one_tensor_file(const std::vector<uint64_t>& dims = {32}, uint32_t type = kF32,
                                     uint64_t offset = 0, size_t data_bytes = 128) {
  Raw r;
  r.header(1, 1).kv_str("general.architecture", "llama").tensor("t", dims, type, offset);
  return r.pad().zeros(data_bytes).b;
}

std::vector<uint8_t> stories_bytes() {
  const std::string s = test::read_file(test::stories_model());
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::string write_scratch(const std::string& file, const std::vector<uint8_t>& bytes) {
  const std::string path = test::scratch_dir() + "/" + file;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return path;
}

void expect_open_fails(const std::string& path, const std::string& problem) {
  try {
    GgufFile::open(path);
    ADD_FAILURE() << path << " was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
  }
}

TEST(GgufCorrupt, BaselineCraftedFileIsValid) {
  expect_accepted(one_tensor_file());
  expect_accepted(Raw().header(0, 0).b);
}

TEST(GgufCorrupt, WrongMagicOnDisk) {
  auto bytes = stories_bytes();
  std::memcpy(bytes.data(), "GGML", 4);
  expect_open_fails(write_scratch("bad_magic.gguf", bytes), "not a GGUF file");
  expect_open_fails(write_scratch("empty.gguf", {}), "too small");
  expect_open_fails(write_scratch("three.gguf", {'G', 'G', 'U'}), "too small");
}

TEST(GgufCorrupt, UnsupportedVersionOnDisk) {
  auto bytes = stories_bytes();
  for (uint32_t v : {0u, 1u, 4u, 0xffffffffu}) {
    std::memcpy(bytes.data() + 4, &v, 4);
    expect_open_fails(write_scratch("version.gguf", bytes), "version");
  }
}

TEST(GgufCorrupt, TruncatedDataOnDisk) {
  auto bytes = stories_bytes();
  bytes.resize(bytes.size() - 1);
  expect_open_fails(write_scratch("cut_by_one.gguf", bytes), "truncated");
}

// Every problem a truncation can surface as; each says the file ended early.
bool mentions_truncation(const std::string& msg) {
  for (const char* word : {"truncated", "remain", "impossible", "cannot fit",
                           "larger than the file", "outside the file", "too small"})
    if (msg.find(word) != std::string::npos) return true;
  return false;
}

// Holds a file in one exact-size buffer and presents prefixes of it: under ASan the cut-off
// tail is poisoned, so a read past the prefix is reported exactly as if the file ended there,
// without copying the file for every cut.
class Truncator {
 public:
  explicit Truncator(const std::vector<uint8_t>& bytes)
      : size_(bytes.size()), buf_(new uint8_t[bytes.size()]) {
    std::memcpy(buf_.get(), bytes.data(), size_);
  }
  ~Truncator() { ASAN_UNPOISON_MEMORY_REGION(buf_.get(), size_); }

  void expect_rejected_at(size_t n) {
    ASAN_UNPOISON_MEMORY_REGION(buf_.get(), size_);
    ASAN_POISON_MEMORY_REGION(buf_.get() + n, size_ - n);
    const std::string name = "cut-at-" + std::to_string(n) + ".gguf";
    try {
      touch_tensors(GgufFile::parse(buf_.get(), n, name));
      ADD_FAILURE() << "truncation at " << n << " was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(name), std::string::npos) << msg;
      EXPECT_TRUE(mentions_truncation(msg)) << msg;
    }
  }

 private:
  size_t size_;
  std::unique_ptr<uint8_t[]> buf_;
};

TEST(GgufCorrupt, TruncatedAtEveryHeaderByte) {
  const auto bytes = stories_bytes();
  const GgufFile f = GgufFile::parse(bytes.data(), bytes.size(), "stories");
  ASSERT_GT(f.data_offset(), 1000u);
  Truncator cut(bytes);
  for (size_t n = 0; n <= f.data_offset(); ++n) cut.expect_rejected_at(n);
}

TEST(GgufCorrupt, TruncatedInTheDataRegion) {
  const auto bytes = stories_bytes();
  const GgufFile f = GgufFile::parse(bytes.data(), bytes.size(), "stories");
  uint64_t data_end = 0;
  for (const auto& t : f.tensors()) data_end = std::max(data_end, t.offset + t.num_bytes);
  data_end += f.data_offset();
  Truncator cut(bytes);
  for (size_t n = f.data_offset(); n < data_end; n += 4999) cut.expect_rejected_at(n);
  cut.expect_rejected_at(data_end - 1);
}

TEST(GgufCorrupt, RandomBitFlipsInTheHeaderNeverCrash) {
  const auto original = stories_bytes();
  const GgufFile f = GgufFile::parse(original.data(), original.size(), "stories");
  const size_t header = f.data_offset();
  std::mt19937_64 rng(20240607);
  std::uniform_int_distribution<size_t> pos(0, header - 1);
  std::uniform_int_distribution<int> bit(0, 7), num_flips(1, 4);
  int rejected = 0;
  constexpr int kTrials = 3000;
  // One exact-size buffer, restored after each trial: copying the 1 MiB model per trial would
  // dominate the run time under ASan.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[original.size()]);
  std::memcpy(buf.get(), original.data(), original.size());
  std::vector<size_t> flipped;
  for (int trial = 0; trial < kTrials; ++trial) {
    flipped.clear();
    // Bias half the trials to the first 64 bytes, where counts and the first key live.
    for (int k = num_flips(rng); k > 0; --k) {
      const size_t p = (trial % 2) ? pos(rng) % 64 : pos(rng);
      buf[p] ^= static_cast<uint8_t>(1u << bit(rng));
      flipped.push_back(p);
    }
    const std::string name = "flip-" + std::to_string(trial) + ".gguf";
    try {
      touch_tensors(GgufFile::parse(buf.get(), original.size(), name));
    } catch (const Error& e) {
      ++rejected;
      ASSERT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    for (size_t p : flipped) buf[p] = original[p];
  }
  // Flips inside token strings or float scores are harmless; most others must be caught.
  EXPECT_GT(rejected, kTrials / 10);
}

TEST(GgufCorrupt, AbsurdCounts) {
  expect_rejected(Raw().header(uint64_t{1} << 62, 0).b, "tensor count");
  expect_rejected(Raw().header(0, uint64_t{1} << 62).b, "metadata count");
  expect_rejected(Raw().header(0, ~uint64_t{0}).b, "metadata count");
  // Array of 2^60 bytes in a tiny file.
  expect_rejected(Raw().header(0, 1).str("k").u32(kArr).u32(kU8).u64(uint64_t{1} << 60).b,
                  "cannot fit");
  // Array of 2^60 strings: the bound must use the minimum string size, not 1 byte.
  expect_rejected(
      Raw().header(0, 1).str("k").u32(kArr).u32(kStr).u64(uint64_t{1} << 60).zeros(64).b,
      "cannot fit");
  // A string whose length runs past the end of the file.
  expect_rejected(Raw().header(0, 1).str("k").u32(kStr).u64(1000).zeros(10).b, "length 1000");
  expect_rejected(Raw().header(0, 1).str("k").u32(kStr).u64(~uint64_t{0}).b, "length");
  // Key and tensor name lengths too.
  expect_rejected(Raw().header(0, 1).u64(uint64_t{1} << 63).zeros(16).b, "metadata key");
  expect_rejected(Raw().header(1, 0).u64(~uint64_t{0}).zeros(40).b, "tensor name");
}

TEST(GgufCorrupt, BadDimensionCounts) {
  expect_rejected(one_tensor_file({}), "0 dimensions");
  expect_rejected(one_tensor_file({32, 1, 1, 1, 1}), "5 dimensions");
  expect_accepted(one_tensor_file({32, 1, 1, 1}));
  Raw r;  // a dimension count in the billions must not be trusted either
  r.header(1, 0).str("t").u32(0xffffffffu).zeros(64);
  expect_rejected(r.b, "dimensions");
}

TEST(GgufCorrupt, BadDimensions) {
  expect_rejected(one_tensor_file({0}), "invalid dimension 0");
  expect_rejected(one_tensor_file({32, 0}), "invalid dimension 0");
  expect_rejected(one_tensor_file({uint64_t{1} << 41}), "invalid dimension");
  expect_rejected(one_tensor_file({~uint64_t{0}}), "invalid dimension");
  // Element counts that overflow 64 bits, and ones that fit but exceed the file.
  expect_rejected(one_tensor_file({uint64_t{1} << 40, uint64_t{1} << 40}), "too many elements");
  expect_rejected(one_tensor_file({1 << 16, 1 << 16, 1 << 16, 1 << 16}), "too many elements");
  expect_rejected(one_tensor_file({uint64_t{1} << 31, uint64_t{1} << 31}), "larger than the file");
  expect_rejected(one_tensor_file({1024, 1024}), "larger than the file");
  // A quantized row must be whole blocks.
  expect_rejected(one_tensor_file({33}, kQ8_0), "not a multiple of 32");
}

TEST(GgufCorrupt, UnknownTypes) {
  for (uint32_t t : {4u, 5u, 31u, 39u, 1000u, 0xffffffffu})
    expect_rejected(one_tensor_file({32}, t), "unknown type");
  for (uint32_t t : {13u, 100u, 0xffffffffu})
    expect_rejected(Raw().header(0, 1).str("k").u32(t).zeros(16).b, "unknown value type");
  expect_rejected(Raw().header(0, 1).str("k").u32(kArr).u32(13).u64(1).zeros(16).b,
                  "unknown array element type");
  expect_rejected(Raw().header(0, 1).str("k").u32(kBool).u8(2).b, "invalid bool");
}

TEST(GgufCorrupt, MisplacedTensors) {
  expect_rejected(one_tensor_file({32}, kF32, 16), "not aligned");
  expect_rejected(one_tensor_file({32}, kF32, 1), "not aligned");
  // Past the end of the data: by offset, by size, and by an offset that would wrap.
  expect_rejected(one_tensor_file({32}, kF32, 32), "outside the file");
  expect_rejected(one_tensor_file({32}, kF32, 0, 127), "outside the file");
  expect_rejected(one_tensor_file({32}, kF32, ~uint64_t{31}), "outside the file");
  // Tensors may not share bytes, whatever their order in the file.
  for (uint64_t second : {0u, 32u, 96u}) {
    Raw r;
    r.header(2, 0).tensor("a", {32}, kF32, 0).tensor("b", {32}, kF32, second).pad().zeros(256);
    expect_rejected(r.b, "overlap");
  }
  Raw r;
  r.header(2, 0).tensor("late", {32}, kF32, 128).tensor("early", {64}, kF32, 0).pad().zeros(256);
  expect_rejected(r.b, "overlap");
  // An honoured custom alignment makes 32 unaligned.
  Raw a;
  a.header(1, 1).kv_u32("general.alignment", 64).tensor("t", {32}, kF32, 32).pad(64).zeros(256);
  expect_rejected(a.b, "not aligned to 64");
}

TEST(GgufCorrupt, BadAlignment) {
  for (uint32_t align : {0u, 3u, 48u, 1u << 21}) {
    Raw r;
    r.header(0, 1).kv_u32("general.alignment", align);
    expect_rejected(r.b, "alignment");
  }
  expect_rejected(Raw().header(0, 1).kv_str("general.alignment", "32").b, "alignment");
}

Raw nested_arrays(int depth) {
  Raw r;
  r.header(0, 1).str("deep").u32(kArr);
  for (int d = 1; d < depth; ++d) r.u32(kArr).u64(1);
  r.u32(kU8).u64(1).u8(7);
  return r;
}

TEST(GgufCorrupt, NestingLimit) {
  expect_accepted(nested_arrays(8).b);
  expect_rejected(nested_arrays(9).b, "nested too deeply");
  expect_rejected(nested_arrays(10000).b, "nested too deeply");
}

TEST(GgufCorrupt, DuplicatesAndEmptyNames) {
  expect_rejected(Raw().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).b, "duplicate metadata key");
  Raw t;
  t.header(2, 0).tensor("w", {32}, kF32, 0).tensor("w", {32}, kF32, 128).pad().zeros(256);
  expect_rejected(t.b, "duplicate tensor name");
  expect_rejected(Raw().header(0, 1).kv_u32("", 1).b, "invalid key length");
  expect_rejected(Raw().header(1, 0).tensor("", {32}, kF32, 0).pad().zeros(128).b,
                  "invalid name length");
}

TEST(GgufCorrupt, ErrorInsideMetadataNamesTheKey) {
  expect_rejected(
      Raw().header(0, 1).str("tokenizer.ggml.tokens").u32(kArr).u32(kStr).u64(2).str("a").u64(99).b,
      "tokenizer.ggml.tokens");
}

}  // namespace
}  // namespace pareto
