// Streamed chunks: the text-only fast path (TextChunkTemplate) writes exactly the bytes of the
// general path (a JSON tree, dumped), for both APIs, any choice index, and non-empty text that
// needs escaping or holds invalid UTF-8 (a token split mid-character).
#include "server/openai_response.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/engine_test_util.h"

namespace pareto::server {
namespace {

class OpenAiResponseTest : public ::testing::Test {
 protected:
  test::LoadedTestModel model_ = test::load_test_model(test::stories_model());
};

TEST_F(OpenAiResponseTest, TextChunkTemplateWritesTheGeneralPathsBytes) {
  const std::vector<std::string> texts = {
      " Once",
      "a\"quoted\" \\back\\slash",
      "line\nbreak\ttab\r\b\f",
      std::string("nul\0byte", 8),
      "\x01\x1f control",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // 2-, 3- and 4-byte UTF-8
      "\xe2\x82",                                   // a character cut after 2 of its 3 bytes
      "\xff\xfe bad \x80",
      "</script>\u2028",
      std::string(3000, 'x'),
  };
  for (const ApiKind kind : {ApiKind::kCompletion, ApiKind::kChat}) {
    for (const int32_t index : {0, 3, 12}) {
      ResponseHeader h;
      h.id = kind == ApiKind::kChat ? "chatcmpl-0123abcd" : "cmpl-0123abcd";
      h.created = 1'790'000'000 + index;
      h.model = "m \"with\" \x01 quotes";  // escaped in the constant part
      const TextChunkTemplate tmpl(h, kind, index, *model_.tokenizer);
      ASSERT_TRUE(tmpl.usable());
      for (const std::string& text : texts) {
        ChoiceResult d;
        d.index = index;
        d.text = text;
        const std::string expected =
            kind == ApiKind::kChat ? sse_event(chat_chunk(h, d, *model_.tokenizer, false, false))
                                   : sse_event(completion_chunk(h, d, *model_.tokenizer, false, 0));
        EXPECT_EQ(tmpl.render(text), expected)
            << "kind " << static_cast<int>(kind) << ", index " << index << ", text " << text;
      }
    }
  }
}

TEST_F(OpenAiResponseTest, AModelNamedLikeTheMarkerLeavesTheTemplateUnusable) {
  const ResponseHeader odd{"cmpl-1", 7, "\x01text\x01"};
  EXPECT_FALSE(TextChunkTemplate(odd, ApiKind::kCompletion, 0, *model_.tokenizer).usable());
  const ResponseHeader inside{"cmpl-1", 7, "a \x01text\x01 b"};  // not the whole string
  EXPECT_TRUE(TextChunkTemplate(inside, ApiKind::kChat, 0, *model_.tokenizer).usable());
}

TEST_F(OpenAiResponseTest, TextChunkIsValidJsonWithTheText) {
  ResponseHeader h{"cmpl-1", 7, "m"};
  const TextChunkTemplate tmpl(h, ApiKind::kCompletion, 1, *model_.tokenizer);
  const std::string event = tmpl.render("two\nlines \"q\"");
  ASSERT_EQ(event.rfind("data: ", 0), 0u);
  ASSERT_EQ(event.substr(event.size() - 2), "\n\n");
  const nlohmann::json j = nlohmann::json::parse(event.substr(6, event.size() - 8));
  EXPECT_EQ(j["id"], "cmpl-1");
  EXPECT_EQ(j["created"], 7);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0]["index"], 1);
  EXPECT_EQ(j["choices"][0]["text"], "two\nlines \"q\"");
  EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null());
}

}  // namespace
}  // namespace pareto::server
