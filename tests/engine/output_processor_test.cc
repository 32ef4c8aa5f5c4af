// SequenceOutputProcessor: what each step streams, stop tokens and strings, finish reasons.
// Token ids are those of the bundled stories260K vocabulary (checked by
// StoriesTokenIdsAreWhatTheTestsAssume), so every expected delta below can be read off the pieces.
#include "engine/output_processor.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "base/error.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

using Ids = std::vector<int32_t>;
using Texts = std::vector<std::string>;
using StopReason = std::variant<std::monostate, std::string, int32_t>;

constexpr int32_t kBos = 1;
constexpr int32_t kEos = 2;
// " upon", " a", " time", ",", " there", " was"
const Ids kUponATime = {407, 261, 378, 432, 383, 286};
// "The end. 🦙 é" with the emoji as four byte tokens.
const Ids kEmojiText = {291, 344, 264, 426, 410, 243, 162, 169, 156, 410, 485};
const std::string kLlama = "\xF0\x9F\xA6\x99";

// The engine keeps one processor per sequence in containers.
static_assert(std::is_move_constructible_v<SequenceOutputProcessor>);

class OutputProcessorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const GgufFile gguf = GgufFile::open(test::stories_model());
    tok_ = Tokenizer::from_gguf(gguf).release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }

  static StopConditions stops(std::vector<std::string> stop, int64_t max_tokens = 100) {
    StopConditions s;
    s.stop = std::move(stop);
    s.max_tokens = max_tokens;
    return s;
  }

  // Feeds ids until the processor finishes; returns each step's text and the last delta.
  static Texts run(SequenceOutputProcessor& proc, const Ids& ids, OutputDelta* last = nullptr) {
    Texts texts;
    for (int32_t id : ids) {
      OutputDelta d = proc.feed(id);
      EXPECT_TRUE(is_valid_utf8(d.text));
      EXPECT_EQ(d.finished, d.finish_reason.has_value());
      EXPECT_EQ(d.finished, proc.finished());
      texts.push_back(d.text);
      if (last != nullptr) *last = d;
      if (d.finished) break;
    }
    return texts;
  }

  static Tokenizer* tok_;
};

Tokenizer* OutputProcessorTest::tok_ = nullptr;

TEST_F(OutputProcessorTest, StoriesTokenIdsAreWhatTheTestsAssume) {
  EXPECT_EQ(tok_->encode("Once upon a time, there was", true, false),
            (Ids{kBos, 403, 407, 261, 378, 432, 383, 286}));
  EXPECT_EQ(tok_->encode("The end. " + kLlama + " \xC3\xA9", false, false), kEmojiText);
  EXPECT_EQ(tok_->eos_id(), kEos);
  EXPECT_TRUE(tok_->is_eog(kEos));
}

TEST_F(OutputProcessorTest, FinishReasonNames) {
  EXPECT_EQ(finish_reason_name(FinishReason::kStop), "stop");
  EXPECT_EQ(finish_reason_name(FinishReason::kLength), "length");
  EXPECT_EQ(finish_reason_name(FinishReason::kAbort), "abort");
  EXPECT_EQ(finish_reason_name(FinishReason::kError), "error");
}

TEST_F(OutputProcessorTest, StreamsEverythingWithoutStopsAndStopsAtMaxTokens) {
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({}, 3));
  OutputDelta last;
  EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", " a", " time"}));
  EXPECT_EQ(last.finish_reason, FinishReason::kLength);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(last.stop_reason));
  EXPECT_EQ(proc.output_text(), " upon a time");
  EXPECT_EQ(proc.num_output_tokens(), 3);
}

TEST_F(OutputProcessorTest, StopStringInsideOneToken) {
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"pon"}));
  OutputDelta last;
  EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" u"}));
  EXPECT_EQ(last.finish_reason, FinishReason::kStop);
  EXPECT_EQ(last.stop_reason, StopReason(std::string("pon")));
  EXPECT_EQ(proc.output_text(), " u");
  EXPECT_EQ(proc.num_output_tokens(), 1);
}

TEST_F(OutputProcessorTest, StopStringSpanningTokensIsHeldBackUntilItCompletes) {
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"a time"}));
  OutputDelta last;
  // " a" ends in "a", which may start "a time": held back; the match then cuts before it.
  EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", " ", ""}));
  EXPECT_EQ(last.finish_reason, FinishReason::kStop);
  EXPECT_EQ(last.stop_reason, StopReason(std::string("a time")));
  EXPECT_EQ(proc.output_text(), " upon ");
}

TEST_F(OutputProcessorTest, StopStringAtTheVeryStart) {
  // The prompt is only BOS, so the SentencePiece space of " Once" is stripped: "Once" matches
  // at offset 0 and nothing is streamed.
  SequenceOutputProcessor proc(*tok_, Ids{kBos}, stops({"Once"}));
  OutputDelta last;
  EXPECT_EQ(run(proc, Ids{403, 407}, &last), (Texts{""}));
  EXPECT_EQ(last.finish_reason, FinishReason::kStop);
  EXPECT_EQ(proc.output_text(), "");

  SequenceOutputProcessor no_prompt(*tok_, Ids{}, stops({"Once"}));
  EXPECT_EQ(run(no_prompt, Ids{403, 407}), (Texts{""}));
  EXPECT_TRUE(no_prompt.finished());
}

TEST_F(OutputProcessorTest, StopStringsWithOverlappingPrefixes) {
  {
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"there is", "there was"}));
    OutputDelta last;
    EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", " a", " time", ",", " ", ""}));
    EXPECT_EQ(last.stop_reason, StopReason(std::string("there was")));
    EXPECT_EQ(proc.output_text(), " upon a time, ");
  }
  {
    // Both complete with " time": the one that ends first wins, whatever the list order.
    // "upon" is held from the start because it begins "upon a time".
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"upon a time", "a ti"}));
    OutputDelta last;
    EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" ", "", "upon "}));
    EXPECT_EQ(last.stop_reason, StopReason(std::string("a ti")));
    EXPECT_EQ(proc.output_text(), " upon ");
  }
  {
    // Both end at the same byte: the one that starts first wins (the shorter output).
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"a time", " a time"}));
    OutputDelta last;
    EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", "", ""}));
    EXPECT_EQ(last.stop_reason, StopReason(std::string(" a time")));
    EXPECT_EQ(proc.output_text(), " upon");
  }
}

TEST_F(OutputProcessorTest, IncludeStopStringInOutput) {
  {
    StopConditions s = stops({"a time"});
    s.include_stop_str_in_output = true;
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    OutputDelta last;
    // Nothing is held: the text is emitted whether or not the stop string completes.
    EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", " a", " time"}));
    EXPECT_EQ(last.finish_reason, FinishReason::kStop);
    EXPECT_EQ(last.stop_reason, StopReason(std::string("a time")));
  }
  {
    // Text after the stop string in the same token is never emitted.
    StopConditions s = stops({"ti"});
    s.include_stop_str_in_output = true;
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    EXPECT_EQ(run(proc, kUponATime), (Texts{" upon", " a", " ti"}));
    EXPECT_EQ(proc.output_text(), " upon a ti");
  }
}

TEST_F(OutputProcessorTest, MinTokensSuppressesEarlyEosAndStops) {
  {
    StopConditions s = stops({});
    s.min_tokens = 3;
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    OutputDelta last;
    // The EOS at token 2 is ordinary (textless) output; the one at token 4 stops.
    EXPECT_EQ(run(proc, Ids{407, kEos, 261, kEos, 378}, &last), (Texts{" upon", "", " a", ""}));
    EXPECT_EQ(last.finish_reason, FinishReason::kStop);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(last.stop_reason));
    EXPECT_EQ(proc.num_output_tokens(), 4);
  }
  {
    // A stop string completed before min_tokens does not stop; a later one does.
    StopConditions s = stops({"upon"});
    s.min_tokens = 2;
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    OutputDelta last;
    EXPECT_EQ(run(proc, Ids{407, 407, 261}, &last), (Texts{" upon", " "}));
    EXPECT_EQ(last.stop_reason, StopReason(std::string("upon")));
    EXPECT_EQ(proc.output_text(), " upon ");
  }
  {
    // min_tokens counts the current token: with 2, the second token may stop.
    StopConditions s = stops({});
    s.min_tokens = 2;
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    EXPECT_EQ(run(proc, Ids{407, kEos}), (Texts{" upon", ""}));
    EXPECT_TRUE(proc.finished());
  }
}

TEST_F(OutputProcessorTest, IgnoreEos) {
  StopConditions s = stops({}, 3);
  s.ignore_eos = true;
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
  OutputDelta last;
  EXPECT_EQ(run(proc, Ids{407, kEos, 261, 378}, &last), (Texts{" upon", "", " a"}));
  EXPECT_EQ(last.finish_reason, FinishReason::kLength);

  // With special tokens rendered, the ignored EOS shows up as text.
  s.skip_special_tokens = false;
  SequenceOutputProcessor rendered(*tok_, Ids{kBos, 403}, s);
  run(rendered, Ids{407, kEos, 261});
  EXPECT_EQ(rendered.output_text(), " upon" + tok_->token_to_piece(kEos, true) + " a");
  EXPECT_FALSE(tok_->token_to_piece(kEos, true).empty());
}

TEST_F(OutputProcessorTest, StopTokenIds) {
  {
    StopConditions s = stops({});
    s.stop_token_ids = {261};
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    OutputDelta last;
    EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", ""}));
    EXPECT_EQ(last.finish_reason, FinishReason::kStop);
    EXPECT_EQ(last.stop_reason, StopReason(int32_t{261}));
    EXPECT_EQ(proc.output_text(), " upon");  // the stop token's text is not emitted
  }
  {
    // Held-back text that never became a stop string is emitted with the stop token.
    StopConditions s = stops({"a time"});
    s.stop_token_ids = {378};
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    OutputDelta last;
    EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", " ", "a"}));
    EXPECT_EQ(last.stop_reason, StopReason(int32_t{378}));
    EXPECT_EQ(proc.output_text(), " upon a");
  }
  {
    // A stop token is checked before max_tokens, and EOS listed explicitly reports its id.
    StopConditions s = stops({}, 2);
    s.stop_token_ids = {kEos};
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, s);
    OutputDelta last;
    run(proc, Ids{407, kEos}, &last);
    EXPECT_EQ(last.finish_reason, FinishReason::kStop);
    EXPECT_EQ(last.stop_reason, StopReason(int32_t{kEos}));
  }
}

TEST_F(OutputProcessorTest, MaxTokensFlushesHeldText) {
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"a time"}, 2));
  OutputDelta last;
  EXPECT_EQ(run(proc, kUponATime, &last), (Texts{" upon", " a"}));
  EXPECT_EQ(last.finish_reason, FinishReason::kLength);
  EXPECT_EQ(proc.output_text(), " upon a");
}

TEST_F(OutputProcessorTest, HeldTextIsReleasedWhenItStopsMatching) {
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"a time", "a tall"}));
  // " a" is held; ", " shows it was not a stop string.
  EXPECT_EQ(run(proc, Ids{407, 261, 432, 383}), (Texts{" upon", " ", "a,", " there"}));
  EXPECT_FALSE(proc.finished());
  EXPECT_EQ(proc.output_text(), " upon a, there");
}

TEST_F(OutputProcessorTest, DeltasAddUpToTheTextTruncatedAtTheStop) {
  const Ids all = tok_->encode(
      "Once upon a time, there was a little girl named Lily. She liked the cat.", true, false);
  const Ids prompt(all.begin(), all.begin() + 2);
  const Ids ids(all.begin() + 2, all.end());
  IncrementalDetokenizer reference(*tok_);
  reference.prime(prompt);
  std::string full;
  for (int32_t id : ids) full += reference.feed(id);
  ASSERT_EQ(full, " upon a time, there was a little girl named Lily. She liked the cat.");

  const Texts stop_strings = {"Lily", "e l",  "ed the", "named Lily. She", ", there",
                              "l",    "cat.", "zzz",    " upon",           "irl n"};
  for (const std::string& stop : stop_strings) {
    for (bool include : {false, true}) {
      SCOPED_TRACE(stop + (include ? " (included)" : ""));
      StopConditions s = stops({stop, "girls"});
      s.include_stop_str_in_output = include;
      SequenceOutputProcessor proc(*tok_, prompt, s);
      const size_t at = full.find(stop);
      const std::string expected = at == std::string::npos ? full
                                   : include               ? full.substr(0, at + stop.size())
                                                           : full.substr(0, at);
      std::string streamed;
      OutputDelta last;
      for (const std::string& t : run(proc, ids, &last)) {
        streamed += t;
        // Nothing streamed is ever taken back.
        ASSERT_EQ(expected.compare(0, streamed.size(), streamed), 0) << streamed;
      }
      EXPECT_EQ(streamed, expected);
      EXPECT_EQ(proc.output_text(), expected);
      if (at == std::string::npos) {
        ASSERT_FALSE(proc.finished());
        EXPECT_EQ(proc.finish(FinishReason::kLength).text, "");
      } else {
        EXPECT_EQ(last.finish_reason, FinishReason::kStop);
        EXPECT_EQ(last.stop_reason, StopReason(stop));
      }
    }
  }
}

TEST_F(OutputProcessorTest, Utf8CharactersSplitAcrossByteTokens) {
  {
    SequenceOutputProcessor proc(*tok_, Ids{kBos}, stops({}));
    // The emoji's bytes are held by the detokenizer and come out whole with the last one.
    EXPECT_EQ(run(proc, kEmojiText),
              (Texts{"The", " e", "nd", ".", " ", "", "", "", kLlama, " ", "\xC3\xA9"}));
  }
  {
    // A stop string that is the emoji matches across its four byte tokens.
    SequenceOutputProcessor proc(*tok_, Ids{kBos}, stops({kLlama}));
    OutputDelta last;
    EXPECT_EQ(run(proc, kEmojiText, &last).back(), "");
    EXPECT_EQ(last.stop_reason, StopReason(kLlama));
    EXPECT_EQ(proc.output_text(), "The end. ");
    EXPECT_EQ(proc.num_output_tokens(), 9);
  }
  {
    // A stop string starting with the same bytes but another character holds nothing back
    // (decoded text has whole characters only) and never matches.
    const std::string fox = "\xF0\x9F\xA6\x8A";
    SequenceOutputProcessor proc(*tok_, Ids{kBos}, stops({fox + " \xC3\xA9"}));
    std::string streamed;
    for (const std::string& t : run(proc, kEmojiText)) streamed += t;
    EXPECT_EQ(streamed, "The end. " + kLlama + " \xC3\xA9");
  }
  {
    // Spanning held-back UTF-8 and the following tokens.
    SequenceOutputProcessor proc(*tok_, Ids{kBos}, stops({". " + kLlama + " \xC3\xA9"}));
    OutputDelta last;
    EXPECT_EQ(run(proc, kEmojiText, &last),
              (Texts{"The", " e", "nd", "", "", "", "", "", "", "", ""}));
    EXPECT_EQ(last.finish_reason, FinishReason::kStop);
    EXPECT_EQ(proc.output_text(), "The end");
  }
}

TEST_F(OutputProcessorTest, ByteLevelPieceEndingMidCharacter) {
  const GgufFile gguf = GgufFile::open(test::reference_dir() + "/tokenizer/ggml-vocab-gpt-2.gguf");
  const auto gpt2 = Tokenizer::from_gguf(gguf);
  // GPT-2 spells " 🦙!" as ' \xF0\x9F', '\xA6', '\x99', '!'.
  const Ids ids = gpt2->encode(" " + kLlama + "!", false, false);
  ASSERT_EQ(ids, (Ids{12520, 99, 247, 0}));
  SequenceOutputProcessor proc(*gpt2, Ids{}, stops({kLlama + "!"}));
  OutputDelta last;
  EXPECT_EQ(run(proc, ids, &last), (Texts{" ", "", "", ""}));
  EXPECT_EQ(last.finish_reason, FinishReason::kStop);
  EXPECT_EQ(proc.output_text(), " ");
}

TEST_F(OutputProcessorTest, AbortMidStreamFlushesHeldText) {
  {
    SequenceOutputProcessor proc(*tok_, Ids{kBos, 403}, stops({"a time"}));
    EXPECT_EQ(run(proc, Ids{407, 261}), (Texts{" upon", " "}));
    const OutputDelta d = proc.finish(FinishReason::kAbort);
    EXPECT_EQ(d.text, "a");
    EXPECT_TRUE(d.finished);
    EXPECT_EQ(d.finish_reason, FinishReason::kAbort);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(d.stop_reason));
    EXPECT_TRUE(proc.finished());
    EXPECT_EQ(proc.output_text(), " upon a");
    EXPECT_THROW(proc.feed(378), Error);
    EXPECT_THROW(proc.finish(FinishReason::kAbort), Error);
  }
  {
    // Bytes of an unfinished character become U+FFFD.
    SequenceOutputProcessor proc(*tok_, Ids{kBos}, stops({}));
    run(proc, Ids{291, 243, 162});
    const OutputDelta d = proc.finish(FinishReason::kLength);
    EXPECT_EQ(d.text, std::string(kReplacementChar));
    EXPECT_EQ(d.finish_reason, FinishReason::kLength);
    EXPECT_EQ(proc.output_text(), "The" + std::string(kReplacementChar));
  }
}

TEST_F(OutputProcessorTest, PromptPrimesTheDetokenizer) {
  // The prompt's last bytes start the emoji that the generated tokens complete.
  SequenceOutputProcessor proc(*tok_, Ids{kBos, 291, 243, 162}, stops({}));
  EXPECT_EQ(run(proc, Ids{169, 156, 410}), (Texts{"", kLlama, " "}));
}

TEST_F(OutputProcessorTest, RejectsBadStopConditions) {
  const auto bad = [](auto edit) {
    StopConditions s;
    edit(s);
    return s;
  };
  EXPECT_NO_THROW(StopConditions{}.validate());
  EXPECT_THROW(bad([](StopConditions& s) { s.max_tokens = -1; }).validate(), Error);
  EXPECT_THROW(bad([](StopConditions& s) { s.min_tokens = -1; }).validate(), Error);
  EXPECT_THROW(bad([](StopConditions& s) { s.min_tokens = 17; }).validate(), Error);
  EXPECT_THROW(bad([](StopConditions& s) { s.stop = {"ok", ""}; }).validate(), Error);
  EXPECT_THROW(bad([](StopConditions& s) { s.stop = {"\xF0\x9F"}; }).validate(), Error);
  EXPECT_THROW(bad([](StopConditions& s) { s.stop_token_ids = {-1}; }).validate(), Error);

  StopConditions out_of_vocab;
  out_of_vocab.stop_token_ids = {tok_->vocab_size()};
  EXPECT_THROW(SequenceOutputProcessor(*tok_, Ids{}, out_of_vocab), Error);
  SequenceOutputProcessor proc(*tok_, Ids{}, StopConditions{});
  EXPECT_THROW(proc.feed(tok_->vocab_size()), Error);
  EXPECT_THROW(proc.feed(-1), Error);
  EXPECT_EQ(proc.num_output_tokens(), 0);
}

}  // namespace
}  // namespace pareto
