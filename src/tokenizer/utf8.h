// UTF-8 helpers shared by the tokenizer: validation of partial input (text from a model is a byte
// stream that may stop in the middle of a character), and encoding of code points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pareto {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8Status {
  kComplete,    // a whole, valid sequence starts at the position
  kIncomplete,  // the bytes left are a valid start of a sequence but stop short of its end
  kInvalid,     // the byte at the position can never begin a valid sequence here
};

struct Utf8Check {
  Utf8Status status;
  size_t length;  // bytes of the sequence for kComplete, 1 for kInvalid, bytes left for kIncomplete
};

// Classifies the sequence at s[pos] (pos < s.size()) under the strict rules of RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF.
Utf8Check utf8_check_at(std::string_view s, size_t pos);

bool is_valid_utf8(std::string_view s);

// Copies s with every byte that is not part of a valid sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

// Decodes the valid sequence of `length` bytes at s[pos] (as reported by utf8_check_at).
uint32_t utf8_decode_at(std::string_view s, size_t pos, size_t length);

void append_utf8(std::string& out, uint32_t code_point);

}  // namespace pareto
