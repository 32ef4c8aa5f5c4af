// The GPT-2 byte-to-unicode mapping used by byte-level BPE vocabularies: every byte gets a
// printable code point (printable ASCII and most of Latin-1 map to themselves, the rest to
// U+0100 onwards), so token texts in the vocabulary never contain raw control bytes or spaces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pareto {

// The mapped form of one byte, as UTF-8 (e.g. ' ' -> "Ġ").
const std::string& byte_to_unicode(uint8_t byte);

// Maps every byte of `bytes` (which need not be valid UTF-8).
std::string bytes_to_unicode(std::string_view bytes);

// Inverse mapping of a vocabulary text back to raw bytes. Code points outside the mapping (which
// a well-formed byte-level vocabulary never has) are kept as their UTF-8 bytes.
std::string unicode_to_bytes(std::string_view text);

}  // namespace pareto
