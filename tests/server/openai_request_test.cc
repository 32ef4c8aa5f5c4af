// Request parsing: chat messages rendered through the real reference templates exactly as the
// reference renderer does, and parameter validation naming the right parameter.
#include "server/openai_request.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/engine_test_util.h"
#include "tokenizer/chat_template/chat_template.h"

namespace pareto::server {
namespace {

using nlohmann::json;

std::chrono::system_clock::time_point reference_day() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 0;
  tm.tm_mday = 15;
  tm.tm_hour = 12;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

class OpenAiRequestTest : public ::testing::Test {
 protected:
  RequestParserContext context(const ChatTemplate* tmpl) const {
    RequestParserContext ctx;
    ctx.tokenizer = model_.tokenizer.get();
    ctx.chat_template = tmpl;
    ctx.served_model_names = {"m"};
    ctx.max_model_len = 512;
    return ctx;
  }
  test::LoadedTestModel model_ = test::load_test_model(test::stories_model());
};

// Every reference chat case through the server's path (message normalization, HF's None for
// tools/documents, raise_exception → 400 naming messages).
TEST_F(OpenAiRequestTest, ReferenceChatTemplatesRenderByteForByte) {
  int num_cases = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(test::reference_dir() + "/chat_templates")) {
    if (entry.path().extension() != ".json") continue;
    // Ordered, as the server parses bodies: the cases' objects reach the template as HF saw them.
    const auto file = nlohmann::ordered_json::parse(test::read_file(entry.path().string()));
    ChatTemplate tmpl(test::read_file(
        (entry.path().parent_path() / file["template"].get<std::string>()).string()));
    tmpl.set_clock(reference_day);
    for (const auto& c : file["cases"]) {
      RequestParserContext ctx = context(&tmpl);
      ctx.bos_token = c["bos_token"];
      ctx.eos_token = c["eos_token"];
      const nlohmann::ordered_json body = {{"model", "m"},
                                           {"messages", c["messages"]},
                                           {"add_generation_prompt", c["add_generation_prompt"]}};
      const std::string name =
          entry.path().filename().string() + ":" + c["name"].get<std::string>();
      if (c.contains("expected_error")) {
        try {
          render_chat_prompt(body, ctx);
          ADD_FAILURE() << name << ": expected an error";
        } catch (const ApiError& e) {
          EXPECT_EQ(e.status(), 400) << name;
          EXPECT_EQ(e.param(), "messages") << name;
          EXPECT_NE(std::string(e.what()).find(c["expected_error"].get<std::string>()),
                    std::string::npos)
              << name << ": " << e.what();
        }
      } else {
        EXPECT_EQ(render_chat_prompt(body, ctx), c["expected"].get<std::string>()) << name;
      }
      ++num_cases;
    }
  }
  EXPECT_EQ(num_cases, 40);
}

TEST_F(OpenAiRequestTest, ContentPartsAndDeveloperRole) {
  ChatTemplate tmpl(ChatTemplate::default_chatml());
  const RequestParserContext ctx = context(&tmpl);
  const json parts = {
      {"model", "m"},
      {"messages",
       {{{"role", "developer"}, {"content", "Be brief."}},
        {{"role", "user"},
         {"content", {{{"type", "text"}, {"text", "Hel"}}, {{"type", "text"}, {"text", "lo"}}}}}}}};
  const json plain = {
      {"model", "m"},
      {"messages",
       {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}}}};
  EXPECT_EQ(render_chat_prompt(parts, ctx), render_chat_prompt(plain, ctx));
  const ApiRequest req = parse_chat_request(plain, ctx);
  ASSERT_EQ(req.prompts.size(), 1u);
  // No max_tokens: the rest of the context.
  EXPECT_EQ(req.prompts[0].stop.max_tokens,
            512 - static_cast<int64_t>(req.prompts[0].prompt_token_ids.size()));
}

// Through the real body parser, the body's objects reach the template in the client's key
// order (HF's tojson is json.dumps without sort_keys); normalizing a message (content parts
// flattened, developer -> system) leaves each key where the client put it.
TEST_F(OpenAiRequestTest, TemplateSeesTheClientsKeyOrder) {
  ChatTemplate tmpl(
      "{{ messages | tojson }}|{{ tools | tojson }}|{{ options | tojson }}|{{ documents }}");
  const RequestParserContext ctx = context(&tmpl);
  const nlohmann::ordered_json body = parse_json_body(R"({"model": "m",
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
          "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}, "required": ["b"]}}}],
      "messages": [
          {"name": "bob", "content": [{"type": "text", "text": "Hi"}], "role": "developer"},
          {"role": "user", "content": "Yo"}],
      "chat_template_kwargs": {"options": {"z": 1, "a": 2}}})");
  EXPECT_EQ(render_chat_prompt(body, ctx),
            R"([{"name": "bob", "content": "Hi", "role": "system"}, {"role": "user", "content": )"
            R"("Yo"}]|[{"type": "function", "function": {"name": "f", "parameters": {"type": )"
            R"("object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}, )"
            R"("required": ["b"]}}}]|{"z": 1, "a": 2}|None)");
}

TEST_F(OpenAiRequestTest, ValidationNamesTheParameter) {
  const RequestParserContext ctx = context(nullptr);
  const auto param_of = [&](const json& body) -> std::string {
    try {
      parse_completion_request(body, ctx);
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400);
      return e.param().value_or("");
    }
    return "accepted";
  };
  const json ok = {{"model", "m"}, {"prompt", "Once"}};
  EXPECT_EQ(param_of(ok), "accepted");
  const auto with = [&](const char* k, const json& v) {
    json b = ok;
    b[k] = v;
    return b;
  };
  EXPECT_EQ(param_of(with("top_p", 0)), "top_p");
  EXPECT_EQ(param_of(with("top_k", -2)), "top_k");
  EXPECT_EQ(param_of(with("presence_penalty", 2.5)), "presence_penalty");
  EXPECT_EQ(param_of(with("logprobs", 21)), "logprobs");
  EXPECT_EQ(param_of(with("stop", json::array({""}))), "stop");
  EXPECT_EQ(param_of(with("stop", 5)), "stop");
  EXPECT_EQ(param_of(with("stream_options", {{"include_usage", true}})), "stream_options");
  EXPECT_EQ(param_of(with("prompt", json::array({1, 100000}))), "prompt");
  EXPECT_EQ(param_of(with("logit_bias", {{"5", 1}})), "logit_bias");
  EXPECT_EQ(param_of(with("temperature", nullptr)), "accepted");  // null = not set
  EXPECT_EQ(param_of(with("max_tokens", 2.0)), "accepted");       // integral float
  EXPECT_EQ(param_of(with("max_tokens", 2.5)), "max_tokens");
  EXPECT_EQ(param_of(json{{"prompt", "x"}}), "model");

  const ApiRequest r = parse_completion_request(
      {{"model", "m"}, {"prompt", json::array({"a", "b"})}, {"n", 3}, {"seed", 7}}, ctx);
  EXPECT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.prompts[1].n, 3);
  EXPECT_EQ(r.prompts[0].sampling.seed, 7u);
  EXPECT_EQ(r.prompts[0].stop.max_tokens, 16);
}

}  // namespace
}  // namespace pareto::server
