#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace pareto {
namespace {

// Bytes that are printable on their own keep their code point; the others, in byte order, take
// the code points from U+0100 up. So the largest mapped code point is 0x100 + 68 - 1.
constexpr uint32_t kMaxMappedCodePoint = 0x100 + 68;

bool maps_to_itself(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteTables {
  std::array<std::string, 256> to_unicode;
  std::array<int16_t, kMaxMappedCodePoint> to_byte;

  ByteTables() {
    to_byte.fill(-1);
    uint32_t next_extra = 0x100;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = maps_to_itself(b) ? static_cast<uint32_t>(b) : next_extra++;
      append_utf8(to_unicode[b], cp);
      to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) {
  return tables().to_unicode[byte];
}

std::string bytes_to_unicode(std::string_view bytes) {
  const ByteTables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += t.to_unicode[static_cast<uint8_t>(c)];
  return out;
}

std::string unicode_to_bytes(std::string_view text) {
  const ByteTables& t = tables();
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Check c = utf8_check_at(text, pos);
    if (c.status != Utf8Status::kComplete) {
      out += text[pos++];
      continue;
    }
    const uint32_t cp = utf8_decode_at(text, pos, c.length);
    if (cp < kMaxMappedCodePoint && t.to_byte[cp] >= 0) {
      out += static_cast<char>(t.to_byte[cp]);
    } else {
      out.append(text.substr(pos, c.length));
    }
    pos += c.length;
  }
  return out;
}

}  // namespace pareto
