#include "tokenizer/tokenizer.h"

#include "base/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/spm_model.h"
#include "tokenizer/subword_model.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

// The bytes a token contributes to decoded text (control and unknown tokens: none).
std::string decoded_piece(const Vocab& vocab, int32_t id) {
  const std::string& text = vocab.texts[id];
  switch (vocab.types[id]) {
    case TokenType::kControl:
    case TokenType::kUnknown:
      return "";
    case TokenType::kByte: {
      const int b = parse_byte_token(text);
      return b >= 0 ? std::string(1, static_cast<char>(b)) : text;
    }
    case TokenType::kUserDefined:
      // Added tokens are stored as written, not in the byte-level alphabet.
      return vocab.kind == TokenizerKind::kSentencePiece ? spm_unescape_spaces(text) : text;
    default:
      return vocab.kind == TokenizerKind::kSentencePiece ? spm_unescape_spaces(text)
                                                         : unicode_to_bytes(text);
  }
}

std::vector<std::string> read_merges(const GgufFile& gguf) {
  const GgufValue* merges = gguf.find("tokenizer.ggml.merges");
  if (merges == nullptr) {
    fail("{}: tokenizer metadata is missing: BPE tokenizer without 'tokenizer.ggml.merges'",
         gguf.path());
  }
  if (!merges->is_array()) fail("{}: 'tokenizer.ggml.merges' must be an array", gguf.path());
  return merges->as_string_array();
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& gguf) {
  Vocab vocab = load_vocab(gguf);
  std::vector<std::string> merges;
  if (vocab.kind == TokenizerKind::kByteLevelBpe) merges = read_merges(gguf);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(vocab), std::move(merges)));
}

Tokenizer::Tokenizer(Vocab vocab, std::vector<std::string> merges) : vocab_(std::move(vocab)) {
  // The models keep a reference to vocab_, so they are built only once it is in place.
  if (vocab_.kind == TokenizerKind::kSentencePiece) {
    model_ = std::make_unique<SpmModel>(vocab_);
    strips_leading_space_ = vocab_.add_space_prefix;
  } else {
    PreTokenizerConfig pre = pre_tokenizer_config(vocab_.pre);
    // Files that leave out add_bos_token get llama.cpp's default for their model family
    // (e.g. Llama 3 adds <|begin_of_text|>).
    if (!vocab_.add_bos_from_file && pre.add_bos && vocab_.bos_id >= 0) vocab_.add_bos = true;
    auto bpe = std::make_unique<BpeModel>(vocab_, merges, std::move(pre));
    pre_name_ = bpe->pre_tokenizer_name();
    model_ = std::move(bpe);
  }
  specials_ = std::make_unique<SpecialTokenMatcher>(vocab_);
  pieces_.reserve(vocab_.size());
  for (int32_t id = 0; id < vocab_.size(); ++id) pieces_.push_back(decoded_piece(vocab_, id));
  is_eog_.assign(vocab_.size(), 0);
  for (int32_t id : vocab_.eog_ids) is_eog_[id] = 1;
}

Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && vocab_.add_bos) out.push_back(vocab_.bos_id);
  // SentencePiece puts its dummy space before the text and again after every special token,
  // as the original tokenizer sees each stretch between special tokens as a separate text.
  bool after_special = true;
  for (const TextFragment& f : specials_->split(text, parse_special)) {
    if (f.token_id >= 0) {
      out.push_back(f.token_id);
      after_special = true;
    } else {
      model_->encode(f.text, vocab_.add_space_prefix && after_special, out);
      after_special = false;
    }
  }
  if (add_bos && vocab_.add_eos) out.push_back(vocab_.eos_id);
  return out;
}

void Tokenizer::check_id(int32_t id) const {
  if (!vocab_.contains(id)) {
    fail("token id {} is outside the vocabulary of {} tokens ({})", id, vocab_.size(),
         vocab_.source);
  }
}

const std::string& Tokenizer::piece_ref(int32_t id, bool render_special) const {
  check_id(id);
  if (render_special && pieces_[id].empty()) return vocab_.texts[id];
  return pieces_[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  bool strip = strips_leading_space_;
  for (int32_t id : ids) {
    const std::string& piece = piece_ref(id, render_special);
    if (piece.empty()) continue;
    if (strip && piece[0] == ' ') {
      out.append(piece, 1);
    } else {
      out += piece;
    }
    strip = false;
  }
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  return piece_ref(id, render_special);
}

const std::string& Tokenizer::token_text(int32_t id) const {
  check_id(id);
  return vocab_.texts[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
  check_id(id);
  return vocab_.types[id];
}

bool Tokenizer::is_eog(int32_t id) const {
  return vocab_.contains(id) && is_eog_[id] != 0;
}

}  // namespace pareto
