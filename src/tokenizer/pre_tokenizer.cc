#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include <array>

#include "base/error.h"
#include "base/log.h"
#include "tokenizer/utf8.h"

namespace pareto {
namespace {

// The split regexes. Each is the string of the model's Hugging Face tokenizer.json (a Split
// pre-tokenizer, or the regex built into ByteLevel with use_regex) where that is known, and
// llama.cpp's list in src/llama-vocab.cpp otherwise; docs/tokenizer.md says which. HF's
// Digits(individual_digits) is written \p{N} (\p{N}+ when not individual) and its Punctuation is
// [\p{P}$+<=>^`|~]+ (Unicode punctuation or ASCII punctuation).

// GPT-2 (HF ByteLevel with use_regex): contractions, letters, digits, other symbols, each
// optionally led by one space; a whitespace run keeps its last character for the next word.
constexpr const char* kGpt2 =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
// Llama 3 (tiktoken cl100k): case-insensitive contractions, a letter run may take one leading
// non-letter, numbers in groups of up to 3, newlines kept apart from other whitespace.
constexpr const char* kLlama3 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Qwen2: Llama 3 with every digit its own word.
constexpr const char* kQwen2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Qwen3.5: Qwen2 with combining marks inside letter runs.
constexpr const char* kQwen35 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// GPT-4o (tiktoken o200k): words split at case changes, contractions attached to the word,
// symbol runs may take trailing newlines and '/'.
constexpr const char* kGpt4o =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Mistral Tekken: the GPT-4o shape without contractions and with single digits.
constexpr const char* kTekken =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Youtu: the GPT-4o shape with single digits.
constexpr const char* kYoutu =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Youtu's first step: Hangul, CJK punctuation, Bopomofo, and CJK ideograph/kana runs.
constexpr const char* kYoutuCjk =
    R"re([\x{AC00}-\x{D7A3}\x{3131}-\x{318E}]+|[\x{FF01}\x{2026}\x{201C}\x{201D}\x{2018}\x{2019}\x{2014}\x{FF1A}\x{FF1B}\x{FF0C}\x{3001}-\x{303F}\x{FE30}-\x{FE4F}]+|[\x{3105}-\x{312F}]+|[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re";
// Ling / BailingMoE: Qwen2-like, possessive, single newlines.
constexpr const char* kBailing =
    R"re('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)re";
// Seed-Coder: Qwen2-like, symbol runs never take newlines.
constexpr const char* kSeedCoder =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Qwen2 without contractions (Turkish apostrophe suffixes stay on the word).
constexpr const char* kUfakzeka =
    R"re([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// K-EXAONE: a word may run on over single spaces between letters.
constexpr const char* kExaoneMoe =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)re";
// MiniCPM5's second step: Llama 3 with unlimited digit runs (the first step cut them in 3s).
constexpr const char* kMiniCpm5 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Jais 2: Llama 3 with whitespace runs cut into power-of-two lengths.
constexpr const char* kJais2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})re";
// DeepSeek V3: an ASCII symbol may lead an ASCII word; letters with their marks; symbols.
constexpr const char* kDeepseekV3 =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Spark 2.5: the DeepSeek V3 word regex, newlines alone.
constexpr const char* kSpark25 =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+)re";
// CJK ideographs and kana (DeepSeek V3, Spark 2.5).
constexpr const char* kCjkKana = R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re";
// CJK ideographs, U+0800..U+4E00 (most other non-Latin scripts) and Hangul (DeepSeek LLM/Coder).
constexpr const char* kDeepseekCjk =
    R"re([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re";
// DeepSeek LLM's letters: an explicit list of cased-letter ranges (not all of \p{L}).
constexpr const char* kDeepseekLetters =
    R"re(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})re"
    R"re(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A})re"
    R"re(\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556})re"
    R"re(\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF})re"
    R"re(\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})re"
    R"re(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D})re"
    R"re(\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})re"
    R"re(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4})re"
    R"re(\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124})re"
    R"re(\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F})re"
    R"re(\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})re"
    R"re(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})re"
    R"re(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17})re"
    R"re(\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3})re"
    R"re(\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF})re"
    R"re(\x{1E900}-\x{1E943}]+)re";
// DeepSeek LLM's punctuation: ASCII, full-width ASCII, curly quotes, CJK space and full stops.
constexpr const char* kDeepseekPunct =
    R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re";
// BLOOM: a word is anything but whitespace, ( | ) and sentence punctuation, led by one optional
// space. (HF's string nests a class, [^(\s|[.,!?…。，、।۔،])], which Oniguruma reads as this
// union and PCRE2 would not.)
constexpr const char* kBloom =
    R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)re";
// HF Punctuation(Contiguous): runs of Unicode or ASCII punctuation.
constexpr const char* kPunctuation = R"re([\p{P}\$\+<=>\^~\|`]+)re";
// llama.cpp's fallback set (its LLAMA_VOCAB_PRE_TYPE_DEFAULT) punctuates without the backtick.
constexpr const char* kDefaultPunctuation = R"re([\p{P}\$\+<=>\^~\|]+)re";

using Patterns = std::vector<PreTokenizerPattern>;

const Patterns& gpt2() {
  static const Patterns p = {kGpt2};
  return p;
}
const Patterns& llama3() {
  static const Patterns p = {kLlama3};
  return p;
}
const Patterns& qwen2() {
  static const Patterns p = {kQwen2};
  return p;
}
const Patterns& qwen35() {
  static const Patterns p = {kQwen35};
  return p;
}
// HF Sequence[Digits(individual_digits), ByteLevel(use_regex)].
const Patterns& starcoder() {
  static const Patterns p = {R"re(\p{N})re", kGpt2};
  return p;
}
// HF Sequence[Punctuation(Contiguous), ByteLevel(use_regex), Digits, Split([0-9][0-9][0-9])].
// The last two run on the ByteLevel-mapped text, so they are byte steps: a numeric mapped
// character is an ASCII digit or one of the self-mapped bytes B2 B3 B9 BC BD BE (² ³ ¹ ¼ ½ ¾),
// which also cuts multi-byte characters such as "м" (D0 BC) in two, exactly as HF does.
const Patterns& falcon() {
  static const Patterns p = {
      kPunctuation,
      kGpt2,
      {R"re([0-9\xB2\xB3\xB9\xBC-\xBE]+)re", true},
      {R"re([0-9][0-9][0-9])re", true},
  };
  return p;
}
const Patterns& deepseek_llm() {
  static const Patterns p = {R"re([\r\n])re", kDeepseekLetters, kDeepseekPunct,
                             R"re(\s+$)re",   kDeepseekCjk,     R"re(\p{N})re"};
  return p;
}
const Patterns& deepseek_coder() {
  static const Patterns p = {R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", kDeepseekCjk,
                             R"re(\p{N})re"};
  return p;
}
const Patterns& deepseek_v3() {
  static const Patterns p = {R"re(\p{N}{1,3})re", kCjkKana, kDeepseekV3};
  return p;
}
const Patterns& spark25() {
  static const Patterns p = {R"re(\p{N}{1,3})re", kCjkKana, kSpark25, R"re(\p{N})re"};
  return p;
}
const Patterns& youtu() {
  static const Patterns p = {kYoutuCjk, kYoutu};
  return p;
}
const Patterns& bloom() {
  static const Patterns p = {kBloom};
  return p;
}
const Patterns& viking() {
  static const Patterns p = {kBloom, R"re(\p{N})re"};
  return p;
}
const Patterns& gpt4o() {
  static const Patterns p = {kGpt4o};
  return p;
}
const Patterns& tekken() {
  static const Patterns p = {kTekken};
  return p;
}
// Digit runs cut into groups of 3 from the right (1234567 -> 1 234 567), then GPT-4o. HF's
// \d{1,3}(?=(?:\d{3})*\b) with Oniguruma's \b, whose word characters are \p{L}\p{M}\p{N}\p{Pc}
// (PCRE2's lack marks and the other numbers); the \b always follows a digit here.
const Patterns& tiny_aya() {
  static const Patterns p = {R"re(\d{1,3}(?=(?:\d{3})*(?![\p{L}\p{M}\p{N}\p{Pc}])))re", kGpt4o};
  return p;
}
// Digit runs, then an empty match before each group of 3 from the right (1 234 567); no word
// regex (SuperBPE tokens span whitespace).
const Patterns& superbpe() {
  static const Patterns p = {R"re(\p{N}+)re", R"re((?=(\d{3})+(?!\d)))re"};
  return p;
}
const Patterns& bailingmoe() {
  static const Patterns p = {kBailing};
  return p;
}
const Patterns& seed_coder() {
  static const Patterns p = {kSeedCoder};
  return p;
}
const Patterns& ufakzeka() {
  static const Patterns p = {kUfakzeka};
  return p;
}
// Lines and newline runs first, then Qwen2.
const Patterns& laguna() {
  static const Patterns p = {R"re([^\n]+|[\n]+)re", kQwen2};
  return p;
}
const Patterns& exaone_moe() {
  static const Patterns p = {kExaoneMoe};
  return p;
}
const Patterns& minicpm5() {
  static const Patterns p = {R"re(\p{N}{1,3})re", kMiniCpm5};
  return p;
}
const Patterns& jais2() {
  static const Patterns p = {kJais2};
  return p;
}
// What llama.cpp applies to "default" (and to files without tokenizer.ggml.pre).
const Patterns& llama_cpp_default() {
  static const Patterns p = {kDefaultPunctuation, kGpt2, R"re(\p{N}+)re", R"re([0-9][0-9][0-9])re"};
  return p;
}

// llama.cpp's per-name settings besides the split (see PreTokenizerConfig).
enum Flags : unsigned {
  kNone = 0,
  kIgnoreMerges = 1,
  kAddBos = 2,
  kNoCleanSpaces = 4,
};

struct Entry {
  std::string_view canonical;
  std::vector<std::string_view> names;  // tokenizer.ggml.pre values
  const Patterns& patterns;
  unsigned flags = kNone;
};

// The names and flags of llama.cpp's llama_vocab::impl::load, grouped by split.
const std::vector<Entry>& known_entries() {
  static const std::vector<Entry> entries = {
      {"gpt-2",
       {"gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "exaone4", "jina-es", "jina-de",
        "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "gigachat",
        "a.x-4.0", "mellum", "modern-bert"},
       gpt2()},
      {"gpt-2", {"trillion", "granite-docling"}, gpt2(), kNoCleanSpaces},
      {"llama3",
       {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano"},
       llama3(),
       kIgnoreMerges | kAddBos},
      {"llama3", {"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"}, llama3()},
      {"qwen2",
       {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"},
       qwen2(),
       kNoCleanSpaces},
      {"qwen2", {"megrez", "stablelm2"}, qwen2()},
      {"qwen35", {"qwen35"}, qwen35(), kNoCleanSpaces},
      {"starcoder",
       {"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"},
       starcoder()},
      {"starcoder", {"smollm", "command-r"}, starcoder(), kNoCleanSpaces},
      {"falcon", {"falcon"}, falcon()},
      {"deepseek-llm", {"deepseek-llm"}, deepseek_llm(), kNoCleanSpaces},
      {"deepseek-coder", {"deepseek-coder"}, deepseek_coder(), kNoCleanSpaces},
      {"deepseek-v3",
       {"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"},
       deepseek_v3(),
       kNoCleanSpaces},
      {"spark2_5", {"spark2_5"}, spark25(), kNoCleanSpaces},
      {"youtu", {"youtu"}, youtu(), kIgnoreMerges | kNoCleanSpaces},
      {"bloom", {"bloom", "gpt3-finnish"}, bloom()},
      {"bloom", {"poro-chat"}, bloom(), kNoCleanSpaces},
      {"viking", {"viking"}, viking(), kNoCleanSpaces},
      {"gpt-4o", {"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, gpt4o(), kNoCleanSpaces},
      {"tekken", {"tekken"}, tekken(), kIgnoreMerges | kAddBos | kNoCleanSpaces},
      {"tiny_aya", {"tiny_aya", "cohere2moe"}, tiny_aya(), kNoCleanSpaces},
      {"superbpe", {"superbpe"}, superbpe(), kNoCleanSpaces},
      {"bailingmoe", {"bailingmoe", "bailingmoe2", "llada-moe"}, bailingmoe(), kNoCleanSpaces},
      {"seed-coder", {"seed-coder"}, seed_coder(), kNoCleanSpaces},
      {"ufakzeka", {"ufakzeka"}, ufakzeka(), kNoCleanSpaces},
      {"laguna", {"laguna"}, laguna(), kNoCleanSpaces},
      {"exaone-moe", {"exaone-moe"}, exaone_moe()},
      {"minicpm5", {"minicpm5"}, minicpm5(), kIgnoreMerges},
      {"jais-2", {"jais-2"}, jais2()},
      {"default", {"default"}, llama_cpp_default()},
  };
  return entries;
}

}  // namespace

PreTokenizerConfig pre_tokenizer_config(std::string_view pre) {
  for (const Entry& e : known_entries()) {
    for (std::string_view name : e.names) {
      if (name == pre) {
        return {std::string(e.canonical), e.patterns, (e.flags & kIgnoreMerges) != 0,
                (e.flags & kAddBos) != 0, (e.flags & kNoCleanSpaces) == 0};
      }
    }
  }
  if (!pre.empty()) {
    spdlog::warn("unknown pre-tokenizer '{}'; falling back to the GPT-2 split regex", pre);
  }
  return {"gpt-2", gpt2(), false, false, true};
}

std::vector<std::string_view> known_pre_tokenizer_names() {
  std::vector<std::string_view> names;
  for (const Entry& e : known_entries()) names.insert(names.end(), e.names.begin(), e.names.end());
  return names;
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  bool bytes = false;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buf{};
  pcre2_get_error_message(code, buf.data(), buf.size());
  return reinterpret_cast<const char*>(buf.data());
}

// PCRE2's \s also matches U+180E, which Unicode no longer counts as White_Space; Oniguruma (HF)
// and llama.cpp use the White_Space property. Rewrites \s and \S outside \Q...\E to it.
std::string with_white_space_property(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  bool quoted = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '\\' || i + 1 == pattern.size()) {
      out += c;
      continue;
    }
    const char next = pattern[++i];
    if (quoted) {
      if (next == 'E') quoted = false;
    } else if (next == 'Q') {
      quoted = true;
    } else if (next == 's') {
      out += R"(\p{White_Space})";
      continue;
    } else if (next == 'S') {
      out += R"(\P{White_Space})";
      continue;
    }
    out += c;
    out += next;
  }
  return out;
}

// Appends the pieces of `piece` split by `re` to `out`: matches and the text between them, and
// a cut at each empty match.
void split_isolated(const pcre2_code* code, bool bytes, pcre2_match_data* md,
                    std::string_view piece, std::vector<std::string_view>& out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  // The input was validated once up front, so PCRE2 need not check it again per match.
  const uint32_t options = bytes ? 0 : PCRE2_NO_UTF_CHECK;
  size_t last = 0;  // end of what has been emitted
  size_t pos = 0;   // where the next match attempt starts
  while (pos < piece.size()) {
    int rc = pcre2_match(code, subject, piece.size(), pos, options, md, nullptr);
    // Long runs can overflow the small default JIT stack; the interpreter keeps its backtracking
    // state on the heap instead.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code, subject, piece.size(), pos, options | PCRE2_NO_JIT, md, nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex match failed: {}", pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
    const size_t start = ovector[0], end = ovector[1];
    if (start >= piece.size()) break;
    if (end == start) {
      // An empty match cuts the piece there (HF keeps the text before it as a piece); the search
      // goes on one character later.
      if (start > last) {
        out.push_back(piece.substr(last, start - last));
        last = start;
      }
      pos = start + (bytes ? 1 : utf8_check_at(piece, start).length);
      continue;
    }
    if (start > last) out.push_back(piece.substr(last, start - last));
    out.push_back(piece.substr(start, end - start));
    last = pos = end;
  }
  if (last < piece.size()) out.push_back(piece.substr(last));
}

}  // namespace

PreTokenizer::PreTokenizer(const std::vector<PreTokenizerPattern>& patterns) {
  bool after_bytes = false;
  for (const PreTokenizerPattern& pattern : patterns) {
    if (after_bytes && !pattern.bytes) {
      fail("pre-tokenizer regex /{}/ works on characters but follows a byte step", pattern.regex);
    }
    after_bytes = pattern.bytes;
    const std::string source =
        pattern.bytes ? pattern.regex : with_white_space_property(pattern.regex);
    const uint32_t options = PCRE2_DOLLAR_ENDONLY | (pattern.bytes ? 0 : PCRE2_UTF | PCRE2_UCP);
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    auto regex = std::make_unique<Regex>();
    regex->bytes = pattern.bytes;
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(), options,
                                &error_code, &error_offset, nullptr);
    if (regex->code == nullptr) {
      fail("pre-tokenizer regex /{}/ does not compile at offset {}: {}", pattern.regex,
           error_offset, pcre2_message(error_code));
    }
    // JIT is an optimisation only: on a platform without it pcre2_match interprets.
    pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);
    regexes_.push_back(std::move(regex));
  }
}

PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> result;
  if (text.empty()) return result;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(pcre2_match_data_create(1, nullptr));
  if (!md) fail("pre-tokenizer: out of memory");

  std::vector<std::string_view> pieces, next;
  auto split_valid_run = [&](std::string_view run) {
    pieces.assign(1, run);
    for (const auto& regex : regexes_) {
      next.clear();
      for (std::string_view piece : pieces) {
        split_isolated(regex->code, regex->bytes, md.get(), piece, next);
      }
      pieces.swap(next);
    }
    result.insert(result.end(), pieces.begin(), pieces.end());
  };

  size_t run_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Check c = utf8_check_at(text, pos);
    if (c.status == Utf8Status::kComplete) {
      pos += c.length;
      continue;
    }
    if (pos > run_start) split_valid_run(text.substr(run_start, pos - run_start));
    result.push_back(text.substr(pos, 1));
    run_start = ++pos;
  }
  if (run_start < text.size()) split_valid_run(text.substr(run_start));
  return result;
}

}  // namespace pareto
