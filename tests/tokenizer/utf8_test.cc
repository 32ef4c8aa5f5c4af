#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"

namespace pareto {
namespace {

TEST(Utf8, ClassifiesSequences) {
  EXPECT_EQ(utf8_check_at("a", 0).status, Utf8Status::kComplete);
  EXPECT_EQ(utf8_check_at("\xC3\xA9", 0).length, 2u);
  EXPECT_EQ(utf8_check_at("\xF0\x9F\xA6\x99", 0).length, 4u);
  EXPECT_EQ(utf8_check_at("\xF0\x9F\xA6", 0).status, Utf8Status::kIncomplete);
  EXPECT_EQ(utf8_check_at("\x80", 0).status, Utf8Status::kInvalid);
  EXPECT_EQ(utf8_check_at("\xC0\x80", 0).status, Utf8Status::kInvalid);          // overlong
  EXPECT_EQ(utf8_check_at("\xE0\x80\x80", 0).status, Utf8Status::kInvalid);      // overlong
  EXPECT_EQ(utf8_check_at("\xED\xA0\x80", 0).status, Utf8Status::kInvalid);      // surrogate
  EXPECT_EQ(utf8_check_at("\xF4\x90\x80\x80", 0).status, Utf8Status::kInvalid);  // > U+10FFFF
  EXPECT_EQ(utf8_check_at("\xF0\x9F"
                          "A",
                          0)
                .status,
            Utf8Status::kInvalid);
}

TEST(Utf8, SanitizeAndEncode) {
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9llo \xF0\x9F\xA6\x99"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  std::string s;
  for (uint32_t cp : {0x41u, 0xE9u, 0x2581u, 0x1F999u}) append_utf8(s, cp);
  EXPECT_EQ(s, "A\xC3\xA9\xE2\x96\x81\xF0\x9F\xA6\x99");
  EXPECT_EQ(utf8_decode_at(s, 6, 4), 0x1F999u);
}

TEST(ByteLevel, Gpt2ByteToUnicodeMapping) {
  EXPECT_EQ(byte_to_unicode('a'), "a");
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");   // U+0120 'Ġ'
  EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // U+010A 'Ċ'
  EXPECT_EQ(byte_to_unicode(0xAD), "\xC5\x83");  // U+0143, the last remapped byte
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(unicode_to_bytes(bytes_to_unicode(all)), all);
}

}  // namespace
}  // namespace pareto
