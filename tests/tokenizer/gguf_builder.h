// Builds small GGUF files in memory so tests can make vocabularies with exactly the metadata a
// case needs (and the broken metadata an error case needs).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto::test {

class GgufBuilder {
 public:
  GgufBuilder& str(const std::string& key, const std::string& value) {
    header(key, 8);
    put_string(value);
    return *this;
  }
  GgufBuilder& u32(const std::string& key, uint32_t value) {
    header(key, 4);
    put(value);
    return *this;
  }
  GgufBuilder& boolean(const std::string& key, bool value) {
    header(key, 7);
    put(static_cast<uint8_t>(value ? 1 : 0));
    return *this;
  }
  GgufBuilder& strings(const std::string& key, const std::vector<std::string>& values) {
    array_header(key, 8, values.size());
    for (const auto& v : values) put_string(v);
    return *this;
  }
  GgufBuilder& floats(const std::string& key, const std::vector<float>& values) {
    array_header(key, 6, values.size());
    for (float v : values) put(v);
    return *this;
  }
  GgufBuilder& ints(const std::string& key, const std::vector<int32_t>& values) {
    array_header(key, 5, values.size());
    for (int32_t v : values) put(v);
    return *this;
  }

  // The finished file: version 3, no tensors.
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out;
    auto append = [&](const void* p, size_t n) {
      const auto* b = static_cast<const uint8_t*>(p);
      out.insert(out.end(), b, b + n);
    };
    const uint32_t magic = GgufFile::kMagic, version = 3;
    const uint64_t num_tensors = 0;
    append(&magic, 4);
    append(&version, 4);
    append(&num_tensors, 8);
    append(&num_kv_, 8);
    out.insert(out.end(), body_.begin(), body_.end());
    return out;
  }

  // Parses the bytes and builds a tokenizer (the tokenizer copies what it needs).
  std::unique_ptr<Tokenizer> tokenizer(const std::string& name = "test.gguf") const {
    const std::vector<uint8_t> b = bytes();
    const GgufFile f = GgufFile::parse(b.data(), b.size(), name);
    return Tokenizer::from_gguf(f);
  }

 private:
  template <typename T>
  void put(T v) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &v, sizeof(T));
    body_.insert(body_.end(), raw, raw + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint64_t>(s.size()));
    body_.insert(body_.end(), s.begin(), s.end());
  }
  void header(const std::string& key, uint32_t type) {
    put_string(key);
    put(type);
    ++num_kv_;
  }
  void array_header(const std::string& key, uint32_t elem_type, size_t n) {
    header(key, 9);
    put(elem_type);
    put(static_cast<uint64_t>(n));
  }

  std::vector<uint8_t> body_;
  uint64_t num_kv_ = 0;
};

// The 256 single-byte tokens of a byte-level BPE vocabulary, in byte order.
inline std::vector<std::string> byte_level_alphabet() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_to_unicode(static_cast<uint8_t>(b)));
  return tokens;
}

}  // namespace pareto::test
