// The chat-template interpreter against Jinja2: the reference renders of real model templates in
// ../shared/reference/chat_templates, snippets rendered by Jinja2 3.1 itself
// (chat_template_jinja_cases.inc, from chat_template_gen_cases.py), and the error paths and
// resource guards.
#include "tokenizer/chat_template/chat_template.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>
#include <vector>

#include "support/test_paths.h"

namespace pareto {
namespace {

using nlohmann::json;

// 2026-01-15 12:00:00 UTC: the date the reference renders fixed strftime_now to (noon keeps the
// same date in any time zone within +-12 h).
std::chrono::system_clock::time_point fixed_clock() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1768478400));
}

// Renders `source` with `context`: messages, add_generation_prompt, bos_token and eos_token go to
// their fields, everything else to extra.
std::string render(const std::string& source, const json& context = json::object()) {
  ChatTemplate t(source);
  t.set_clock(fixed_clock);
  ChatTemplateInputs in;
  in.add_generation_prompt = false;
  for (auto it = context.begin(); it != context.end(); ++it) {
    if (it.key() == "messages") {
      in.messages = it.value();
    } else if (it.key() == "add_generation_prompt") {
      in.add_generation_prompt = it.value().get<bool>();
    } else if (it.key() == "bos_token") {
      in.bos_token = it.value().get<std::string>();
    } else if (it.key() == "eos_token") {
      in.eos_token = it.value().get<std::string>();
    } else {
      in.extra[it.key()] = it.value();
    }
  }
  return t.render(in);
}

// The message of the ChatTemplateError (or other pareto::Error) that rendering throws.
std::string render_error(const std::string& source, const json& context = json::object()) {
  try {
    render(source, context);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error from: " << source;
  return "";
}

std::string parse_error(const std::string& source) {
  try {
    ChatTemplate t(source);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a syntax error from: " << source;
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- reference templates

TEST(ChatTemplateReference, EveryCaseMatchesJinja2) {
  const std::string dir = test::reference_dir() + "/chat_templates";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    if (path.size() > 11 && path.compare(path.size() - 11, 11, ".cases.json") == 0)
      files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 8u) << dir;
  int num_cases = 0;
  for (const auto& path : files) {
    const auto cases = nlohmann::ordered_json::parse(test::read_file(path));
    const std::string source = test::read_file(dir + "/" + cases.at("template").get<std::string>());
    ChatTemplate tmpl(source);
    tmpl.set_clock(fixed_clock);
    for (const auto& c : cases.at("cases")) {
      SCOPED_TRACE(path + " / " + c.at("name").get<std::string>());
      ++num_cases;
      ChatTemplateInputs in;
      in.messages = c.at("messages");
      in.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
      in.bos_token = c.at("bos_token").get<std::string>();
      in.eos_token = c.at("eos_token").get<std::string>();
      if (c.contains("expected_error")) {
        try {
          tmpl.render(in);
          ADD_FAILURE() << "expected error: " << c.at("expected_error");
        } catch (const ChatTemplateError& e) {
          EXPECT_TRUE(e.raised());
          EXPECT_EQ(std::string(e.what()), c.at("expected_error").get<std::string>());
        }
      } else {
        EXPECT_EQ(tmpl.render(in), c.at("expected").get<std::string>());
      }
    }
  }
  EXPECT_EQ(num_cases, 40);
}

// ---------------------------------------------------------------- Jinja2-generated snippets

struct JinjaCase {
  const char* name;
  const char* source;
  const char* context;
  const char* expected;
};

const JinjaCase kJinjaCases[] = {
#include "chat_template_jinja_cases.inc"
};

TEST(ChatTemplateJinja, SnippetsMatchJinja2) {
  for (const auto& c : kJinjaCases) {
    SCOPED_TRACE(c.name);
    if (c.expected == nullptr) {  // Jinja2 raises here: so must we
      EXPECT_FALSE(render_error(c.source, json::parse(c.context)).empty()) << c.source;
      continue;
    }
    try {
      EXPECT_EQ(render(c.source, json::parse(c.context)), c.expected) << c.source;
    } catch (const Error& e) {
      ADD_FAILURE() << c.name << ": " << e.what();
    }
  }
}

// ---------------------------------------------------------------- features

TEST(ChatTemplate, WhitespaceControl) {
  EXPECT_EQ(render("{% if true %}\n  a\n{% endif %}\n"), "  a\n");
  EXPECT_EQ(render("  {% if true %}x{% endif %}"), "x");     // lstrip_blocks
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");  // + keeps the indent
  EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");  // + keeps the newline
  EXPECT_EQ(render("a \n {{- 'b' -}} \n c"), "abc");         // - on print tags
  EXPECT_EQ(render("  {{ 'x' }}"), "  x");                   // print tags keep indent
  EXPECT_EQ(render("a {# note #}\nb"), "a b");               // comments trim too
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
}

TEST(ChatTemplate, LoopVariables) {
  EXPECT_EQ(
      render(
          "{% for x in 'abc' %}{{ loop.index }}{{ loop.revindex0 }}{% if loop.first %}F{% endif %}"
          "{% if loop.last %}L{% endif %}{% endfor %}"),
      "12F2130L");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.previtem is defined }}-{{ loop.nextitem }};{% "
                   "endfor %}"),
            "False-2;True-3;True-;");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] if x > 1 %}{{ loop.length }}{% endfor %}"), "333");
}

TEST(ChatTemplate, NamespaceCarriesValuesOutOfLoops) {
  EXPECT_EQ(
      render(
          "{% set ns = namespace(n=0) %}{% set plain = 0 %}{% for i in range(3) %}"
          "{% set ns.n = ns.n + i %}{% set plain = plain + i %}{% endfor %}{{ ns.n }} {{ plain }}"),
      "3 0");
  EXPECT_TRUE(contains(render_error("{% set d = {} %}{% set d.x = 1 %}"), "namespace"));
}

TEST(ChatTemplate, MacrosWithDefaultsAndCaller) {
  EXPECT_EQ(render("{% macro f(a, b=2, c='c') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ f(1) }}|{{ "
                   "f(1, c=3) }}"),
            "12c|123");
  EXPECT_EQ(render("{% macro m() %}({{ caller() }}){% endmacro %}{% call m() %}in{% endcall %}"),
            "(in)");
  EXPECT_EQ(
      render("{% macro v() %}{{ varargs|length }}{{ kwargs.k }}{% endmacro %}{{ v(1, 2, k='x') }}"),
      "2x");
}

TEST(ChatTemplate, FiltersAndTests) {
  EXPECT_EQ(render("{{ [{'r': 'u'}, {'r': 'a'}]|selectattr('r', 'equalto', 'u')|list|length }}"),
            "1");
  EXPECT_EQ(render("{{ {'a': 'é'}|tojson }}"), "{\"a\": \"é\"}");
  EXPECT_EQ(render("{{ {'a': [1]}|tojson(indent=2) }}"), "{\n  \"a\": [\n    1\n  ]\n}");
  EXPECT_EQ(render("{{ x is defined }}{{ x is not defined }}{{ 3 is divisibleby 3 }}"),
            "FalseTrueTrue");
  EXPECT_EQ(
      render("{{ '  a  '|trim }}{{ 'ab'|upper }}{{ none|default('d') }}{{ nothing|default('d') }}"),
      "aABNoned");
  EXPECT_TRUE(contains(render_error("{{ 1|nosuchfilter }}"), "no filter named 'nosuchfilter'"));
  EXPECT_TRUE(contains(render_error("{{ 1 is nosuchtest }}"), "no test named 'nosuchtest'"));
}

TEST(ChatTemplate, Slicing) {
  EXPECT_EQ(
      render("{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-2:] }}"),
      "fedcba bcdef ace ef");
  EXPECT_EQ(render("{{ [1, 2, 3][1:] }} {{ [1, 2, 3][:-1] }} {{ [1, 2, 3][::-1] }}"),
            "[2, 3] [1, 2] [3, 2, 1]");
  EXPECT_EQ(render("{{ 'Grüße'[2:4] }}"), "üß");
}

TEST(ChatTemplate, GenerationBlockRendersItsBody) {
  EXPECT_EQ(render("a{% generation %}b{% endgeneration %}c"), "abc");
}

TEST(ChatTemplate, ExtraVariablesAndFixedInputs) {
  const std::string source =
      "{{ enable_thinking }}|{{ tools|length }}|{{ bos_token }}|{{ add_generation_prompt }}";
  EXPECT_EQ(
      render(source,
             {{"enable_thinking", false}, {"tools", json::array({1, 2})}, {"bos_token", "<s>"}}),
      "False|2|<s>|False");
}

// HF's tojson is json.dumps without sort_keys: objects print in the order the client wrote their
// keys, at every depth, and iterate in it; sort_keys=true and dictsort still sort. Expected
// strings are Jinja2 3.1's output for the same inputs.
TEST(ChatTemplate, ObjectsKeepTheInputKeyOrder) {
  ChatTemplateInputs in;
  in.messages =
      nlohmann::ordered_json::parse(R"([{"role": "user", "name": "bob", "content": "Hi"}])");
  in.extra["tools"] = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
      "name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object",
      "properties": {"unit": {"type": "string", "enum": ["c", "f"]}, "city": {"type": "string"}},
      "required": ["city"]}}}])");
  const auto render_in = [&](const std::string& source) { return ChatTemplate(source).render(in); };
  EXPECT_EQ(render_in("{{ tools | tojson }}"),
            R"([{"type": "function", "function": {"name": "get_weather", "description": )"
            R"("Weather in a city", "parameters": {"type": "object", "properties": {"unit": )"
            R"({"type": "string", "enum": ["c", "f"]}, "city": {"type": "string"}}, "required": )"
            R"(["city"]}}}])");
  EXPECT_EQ(render_in("{{ messages[0] | tojson }}"),
            R"({"role": "user", "name": "bob", "content": "Hi"})");
  EXPECT_EQ(render_in("{% for k in messages[0] %}{{ k }},{% endfor %}|{{ messages[0] | list }}"),
            "role,name,content,|['role', 'name', 'content']");
  EXPECT_EQ(render_in("{{ tools[0].function.parameters.properties | items | list }}"),
            "[('unit', {'type': 'string', 'enum': ['c', 'f']}), ('city', {'type': 'string'})]");
  EXPECT_EQ(render_in("{{ tools[0].function.parameters | tojson(indent=1) }}"),
            "{\n \"type\": \"object\",\n \"properties\": {\n  \"unit\": {\n   \"type\": "
            "\"string\",\n   \"enum\": [\n    \"c\",\n    \"f\"\n   ]\n  },\n  \"city\": {\n   "
            "\"type\": \"string\"\n  }\n },\n \"required\": [\n  \"city\"\n ]\n}");
  EXPECT_EQ(render_in("{{ tools[0] | tojson(sort_keys=true) }}"),
            R"({"function": {"description": "Weather in a city", "name": "get_weather", )"
            R"("parameters": {"properties": {"city": {"type": "string"}, "unit": {"enum": ["c", )"
            R"("f"], "type": "string"}}, "required": ["city"], "type": "object"}}, "type": )"
            R"("function"})");
  EXPECT_EQ(render_in("{{ messages[0] | dictsort }}"),
            "[('content', 'Hi'), ('name', 'bob'), ('role', 'user')]");
}

TEST(ChatTemplate, DefaultChatml) {
  ChatTemplate t(ChatTemplate::default_chatml());
  ChatTemplateInputs in;
  in.messages = json::array(
      {{{"role", "system"}, {"content", "S"}},
       {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "Hi"}}})}},
       {{"role", "assistant"}, {"content", nullptr}}});
  EXPECT_EQ(t.render(in),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n<|im_end|>\n<|im_start|>assistant\n");
  in.add_generation_prompt = false;
  in.messages = json::array({{{"role", "user"}, {"content", "x"}}});
  EXPECT_EQ(t.render(in), "<|im_start|>user\nx<|im_end|>\n");
}

TEST(ChatTemplate, StrftimeNowReadsTheClock) {
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d') }}"), "2026-01-15");
  ChatTemplate t("{{ strftime_now('%Y') }}");
  const std::string year = t.render({});  // the real clock
  EXPECT_EQ(year.size(), 4u);
}

TEST(ChatTemplate, RendersConcurrently) {
  const std::string dir = test::reference_dir() + "/chat_templates";
  const ChatTemplate t(test::read_file(dir + "/Qwen-Qwen2.5-7B-Instruct.jinja"));
  ChatTemplateInputs in;
  in.messages = json::array({{{"role", "user"}, {"content", "Hi"}}});
  const std::string expected = t.render(in);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < 50; ++r) ok[static_cast<size_t>(i)] += t.render(in) == expected;
    });
  }
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 50);
}

// ---------------------------------------------------------------- errors

TEST(ChatTemplateErrors, RaiseExceptionCarriesTheMessage) {
  try {
    render("{{ raise_exception('Roles must alternate') }}");
    FAIL();
  } catch (const ChatTemplateError& e) {
    EXPECT_TRUE(e.raised());
    EXPECT_STREQ(e.what(), "Roles must alternate");
  }
}

TEST(ChatTemplateErrors, SyntaxErrorsNameLineAndColumn) {
  EXPECT_TRUE(contains(parse_error("line one\n{% if x %}\nno end"), "expected 'endif'"));
  EXPECT_TRUE(contains(parse_error("a\nb\n{{ 1 + }}"), "line 3, column 8"));
  EXPECT_TRUE(contains(parse_error("\n\n  {% endfor %}"), "line 3, column 6: unexpected 'endfor'"));
  EXPECT_TRUE(contains(parse_error("{% include 'x' %}"), "unsupported tag 'include'"));
  EXPECT_TRUE(contains(parse_error("{{ 'abc }}"), "unterminated string"));
  EXPECT_TRUE(contains(parse_error("{# never closed"), "missing end of comment"));
  EXPECT_TRUE(contains(parse_error("{{ (1 }}"), "line 1"));
  EXPECT_TRUE(contains(parse_error("{% break %}"), "outside of a loop"));
  EXPECT_TRUE(contains(parse_error("{{ a ? b }}"), "unexpected char '?'"));
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheLine) {
  const std::string e1 = render_error("ok\n{{ missing.attr }}");
  EXPECT_TRUE(contains(e1, "line 2")) << e1;
  EXPECT_TRUE(contains(e1, "'missing' is undefined")) << e1;
  EXPECT_TRUE(contains(render_error("{{ 1 + 'a' }}"), "unsupported operand"));
  EXPECT_TRUE(contains(render_error("{{ 'a' + 1 }}"), "can only concatenate str"));
  EXPECT_TRUE(contains(render_error("{{ 1 / 0 }}"), "division by zero"));
  EXPECT_TRUE(contains(render_error("{{ 9223372036854775807 + 1 }}"), "integer overflow"));
  EXPECT_TRUE(contains(render_error("{% for x in none %}{% endfor %}"), "not iterable"));
  EXPECT_TRUE(contains(render_error("{{ undefined_fn() }}"), "'undefined_fn' is undefined"));
  EXPECT_TRUE(contains(render_error("{{ x|tojson }}"), "not JSON serializable"));
  EXPECT_TRUE(contains(render_error("{% set a, b = [1] %}"), "not enough values to unpack"));
}

// ---------------------------------------------------------------- hostile templates

TEST(ChatTemplateGuards, LongLoopsHitTheStepLimit) {
  // Nested loops of 10^10 turns stop at the step limit (lowered here to keep the test fast).
  ChatTemplate t(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
  ChatTemplateLimits limits;
  limits.max_steps = 200000;
  t.set_limits(limits);
  try {
    t.render({});
    FAIL();
  } catch (const ChatTemplateError& e) {
    EXPECT_TRUE(contains(e.what(), "step limit (200000)")) << e.what();
  }
  // With the default limit: scanning a 1 MB string 100000 times is too much work.
  const std::string e = render_error(
      "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{% if 'y' in s %}{% endif %}"
      "{% endfor %}");
  EXPECT_TRUE(contains(e, "step limit (5000000)")) << e;
}

TEST(ChatTemplateGuards, UnboundedRecursionIsRefused) {
  const std::string e = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_TRUE(contains(e, "nested deeper than")) << e;
}

TEST(ChatTemplateGuards, OutputGrowthIsCapped) {
  const std::string e = render_error(
      "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s "
      "%}{% endfor %}");
  EXPECT_TRUE(contains(e, "exceeds")) << e;
  EXPECT_TRUE(contains(render_error("{{ 'x' * 100000000000 }}"), "exceeds"));
  EXPECT_TRUE(contains(render_error("{{ range(1000000000)|length }}"), "range too big"));
}

TEST(ChatTemplateGuards, WorkOnBigStringsIsCharged) {
  // A 4 MiB string searched and measured 100000 times must hit the step limit, not run for
  // minutes.
  const std::string e = render_error(
      "{% set ns = namespace(s='x') %}{% for i in range(22) %}{% set ns.s = ns.s ~ ns.s %}"
      "{% endfor %}{% for i in range(100000) %}{% if 'zz' in ns.s or ns.s|length == 0 %}{% endif %}"
      "{% endfor %}");
  EXPECT_TRUE(contains(e, "step limit")) << e;
}

TEST(ChatTemplateGuards, LongConversationsStayWithinTheLimits) {
  json messages = json::array();
  for (int i = 0; i < 2000; ++i) {
    messages.push_back({{"role", i % 2 == 0 ? "user" : "assistant"},
                        {"content", std::string(2000, static_cast<char>('a' + i % 26))}});
  }
  const std::string dir = test::reference_dir() + "/chat_templates";
  for (const char* name :
       {"Qwen-Qwen2.5-7B-Instruct.jinja", "meta-llama-Llama-3.2-3B-Instruct.jinja",
        "mistralai-Mistral-Nemo-Instruct-2407.jinja"}) {
    SCOPED_TRACE(name);
    ChatTemplate t(test::read_file(dir + "/" + name));
    ChatTemplateInputs in;
    in.messages = messages;
    EXPECT_GT(t.render(in).size(), 2000u * 2000u);
  }
}

TEST(ChatTemplateGuards, DeepNestingIsASyntaxError) {
  const std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_TRUE(contains(parse_error(deep), "nested too deeply"));
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
  EXPECT_TRUE(contains(parse_error(blocks), "nested too deeply"));
}

TEST(ChatTemplateGuards, SelfReferentialValuesDoNotHangOrLeak) {
  EXPECT_TRUE(contains(render_error("{% set a = [] %}{% do a.append(a) %}{{ a }}"), "too deeply"));
  EXPECT_TRUE(
      contains(render_error("{% set a = [] %}{% do a.append(a) %}{{ a|tojson }}"), "too deeply"));
  EXPECT_EQ(render("{% set a = [] %}{% do a.append(a) %}{{ a|length }}"), "1");
}

TEST(ChatTemplateGuards, StoredClosuresCannotOutliveTheirFrame) {
  EXPECT_TRUE(contains(
      render_error("{% set ns = namespace() %}{% for i in [1] %}{% set ns.c = loop.cycle %}"
                   "{% endfor %}{{ ns.c('a') }}"),
      "after its loop"));
  EXPECT_TRUE(contains(
      render_error(
          "{% set ns = namespace() %}{% macro keep() %}{% set ns.c = caller %}{% endmacro %}"
          "{% call keep() %}x{% endcall %}{{ ns.c() }}"),
      "after its call block"));
}

}  // namespace
}  // namespace pareto
