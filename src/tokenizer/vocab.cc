#include "tokenizer/vocab.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "base/error.h"
#include "base/log.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

// Texts of end-of-turn tokens that chat models stop on even when the metadata names only EOS.
constexpr std::array<std::string_view, 12> kEndOfTurnTexts = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "<|eom_id|>",
    "<|END_OF_TURN_TOKEN|>",
    "<end_of_utterance>",
    "<｜end▁of▁sentence｜>",
    "<|return|>",
};

const GgufValue& require_array(const GgufFile& gguf, std::string_view key) {
  const GgufValue* v = gguf.find(key);
  if (v == nullptr) fail("{}: tokenizer metadata is missing: no '{}' key", gguf.path(), key);
  if (!v->is_array()) fail("{}: '{}' must be an array", gguf.path(), key);
  return *v;
}

// A token id key: absent, negative and 0xFFFFFFFF (how converters write "none") all mean none.
int32_t read_token_id(const GgufFile& gguf, const Vocab& vocab, std::string_view key,
                      bool required_valid) {
  const int64_t raw = gguf.get_int_or(key, -1);
  if (raw < 0 || raw == 0xFFFFFFFFll) return -1;
  if (raw >= vocab.size()) {
    if (required_valid)
      fail("{}: '{}' is {} but the vocabulary has only {} tokens", gguf.path(), key, raw,
           vocab.size());
    spdlog::warn("{}: ignoring '{}' = {}: past the end of the {}-token vocabulary", gguf.path(),
                 key, raw, vocab.size());
    return -1;
  }
  return static_cast<int32_t>(raw);
}

int32_t find_special(const Vocab& vocab, std::string_view text) {
  const int32_t id = vocab.find(text);
  if (id < 0) return -1;
  const TokenType t = vocab.types[id];
  return t == TokenType::kControl || t == TokenType::kUnknown ? id : -1;
}

void collect_end_of_generation(const GgufFile& gguf, Vocab& vocab) {
  auto add = [&](int32_t id) {
    if (id >= 0 && std::find(vocab.eog_ids.begin(), vocab.eog_ids.end(), id) == vocab.eog_ids.end())
      vocab.eog_ids.push_back(id);
  };
  add(vocab.eos_id);
  add(read_token_id(gguf, vocab, "tokenizer.ggml.eot_token_id", false));
  add(read_token_id(gguf, vocab, "tokenizer.ggml.eom_token_id", false));
  for (std::string_view text : kEndOfTurnTexts) {
    const int32_t id = vocab.find(text);
    // Plain-text tokens that happen to spell "<|end|>" are not turn markers.
    if (id >= 0 &&
        (vocab.types[id] == TokenType::kControl || vocab.types[id] == TokenType::kUserDefined))
      add(id);
  }
}

}  // namespace

int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data() + 3, text.data() + 5, value, 16);
  if (ec != std::errc() || ptr != text.data() + 5) return -1;
  return value;
}

int32_t Vocab::find(std::string_view text) const {
  const auto it = text_to_id.find(text);
  return it == text_to_id.end() ? -1 : it->second;
}

Vocab load_vocab(const GgufFile& gguf) {
  Vocab vocab;
  vocab.source = gguf.path();
  if (!gguf.has("tokenizer.ggml.model"))
    fail("{}: tokenizer metadata is missing: no 'tokenizer.ggml.model' key", gguf.path());
  const std::string model = gguf.get_string("tokenizer.ggml.model");
  if (model == "llama") {
    vocab.kind = TokenizerKind::kSentencePiece;
  } else if (model == "gpt2") {
    vocab.kind = TokenizerKind::kByteLevelBpe;
  } else {
    fail(
        "{}: unsupported tokenizer model '{}' (supported: 'llama' SentencePiece, 'gpt2' "
        "byte-level BPE)",
        gguf.path(), model);
  }
  vocab.pre = gguf.get_string_or("tokenizer.ggml.pre", "");

  vocab.texts = require_array(gguf, "tokenizer.ggml.tokens").as_string_array();
  if (vocab.texts.empty()) fail("{}: 'tokenizer.ggml.tokens' is empty", gguf.path());
  if (vocab.texts.size() > static_cast<size_t>(INT32_MAX))
    fail("{}: 'tokenizer.ggml.tokens' has too many entries", gguf.path());
  const size_t n = vocab.texts.size();

  if (const GgufValue* scores = gguf.find("tokenizer.ggml.scores")) {
    vocab.scores = scores->as_float_array();
    if (vocab.scores.size() != n)
      fail("{}: 'tokenizer.ggml.scores' has {} entries but there are {} tokens", gguf.path(),
           vocab.scores.size(), n);
  } else if (vocab.kind == TokenizerKind::kSentencePiece) {
    // SentencePiece merges are decided by score; without them the encoding would be arbitrary.
    fail("{}: tokenizer metadata is missing: no 'tokenizer.ggml.scores' key", gguf.path());
  } else {
    vocab.scores.assign(n, 0.0f);
  }

  vocab.types.assign(n, TokenType::kNormal);
  if (const GgufValue* types = gguf.find("tokenizer.ggml.token_type")) {
    const std::vector<int64_t> raw = types->as_int_array();
    if (raw.size() != n)
      fail("{}: 'tokenizer.ggml.token_type' has {} entries but there are {} tokens", gguf.path(),
           raw.size(), n);
    for (size_t i = 0; i < n; ++i) {
      if (raw[i] < 0 || raw[i] > 6)
        fail("{}: token {} has invalid type {} in 'tokenizer.ggml.token_type'", gguf.path(), i,
             raw[i]);
      vocab.types[i] = static_cast<TokenType>(raw[i]);
    }
  }

  vocab.text_to_id.reserve(n);
  for (size_t i = 0; i < n; ++i) vocab.text_to_id[vocab.texts[i]] = static_cast<int32_t>(i);

  const bool spm = vocab.kind == TokenizerKind::kSentencePiece;
  vocab.bos_id = read_token_id(gguf, vocab, "tokenizer.ggml.bos_token_id", true);
  vocab.eos_id = read_token_id(gguf, vocab, "tokenizer.ggml.eos_token_id", true);
  vocab.unk_id = read_token_id(gguf, vocab, "tokenizer.ggml.unknown_token_id", false);
  vocab.pad_id = read_token_id(gguf, vocab, "tokenizer.ggml.padding_token_id", false);
  // Older conversions leave out the ids and rely on the conventional texts.
  if (!gguf.has("tokenizer.ggml.bos_token_id") && spm) vocab.bos_id = find_special(vocab, "<s>");
  if (!gguf.has("tokenizer.ggml.eos_token_id"))
    vocab.eos_id = find_special(vocab, spm ? "</s>" : "<|endoftext|>");
  if (!gguf.has("tokenizer.ggml.unknown_token_id") && spm)
    vocab.unk_id = find_special(vocab, "<unk>");

  // SentencePiece models add BOS unless told otherwise, but only if they have one; asking
  // explicitly for a BOS that does not exist is an error in the file.
  vocab.add_bos = gguf.get_bool_or("tokenizer.ggml.add_bos_token", spm && vocab.bos_id >= 0);
  vocab.add_bos_from_file = gguf.has("tokenizer.ggml.add_bos_token");
  vocab.add_eos = gguf.get_bool_or("tokenizer.ggml.add_eos_token", false);
  vocab.add_space_prefix = gguf.get_bool_or("tokenizer.ggml.add_space_prefix", spm);
  if (vocab.add_bos && vocab.bos_id < 0)
    fail("{}: the tokenizer is set to add a BOS token but has no BOS token id", gguf.path());
  if (vocab.add_eos && vocab.eos_id < 0)
    fail("{}: the tokenizer is set to add an EOS token but has no EOS token id", gguf.path());

  collect_end_of_generation(gguf, vocab);
  return vocab;
}

}  // namespace pareto
