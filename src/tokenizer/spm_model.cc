#include "tokenizer/spm_model.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace pareto {
namespace {

struct Symbol {
  uint32_t start;
  uint32_t length;  // 0 once merged into the symbol on its left
  int32_t prev;
  int32_t next;  // -1 at the ends
};

struct Candidate {
  float score;
  int32_t left;
  int32_t right;
  uint32_t length;  // of the merged text; a mismatch later means the candidate is stale
};

// Orders the max-heap: higher score first, then the leftmost pair.
struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  }
};

uint64_t span_key(uint32_t start, uint32_t length) {
  return (static_cast<uint64_t>(start) << 32) | length;
}

}  // namespace

std::string spm_unescape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    if (text.substr(pos, kSpmSpace.size()) == kSpmSpace) {
      out += ' ';
      pos += kSpmSpace.size();
    } else {
      out += text[pos++];
    }
  }
  return out;
}

SpmModel::SpmModel(const Vocab& vocab) : vocab_(vocab) {
  byte_ids_.fill(-1);
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if (vocab.types[id] == TokenType::kByte) {
      const int b = parse_byte_token(vocab.texts[id]);
      if (b >= 0) byte_ids_[b] = id;
    }
    if (vocab.types[id] == TokenType::kUnused) has_unused_ = true;
    // A word boundary is a space marker right after something else; a piece with one inside
    // could be merged across it.
    if (find_piece(vocab.texts[id]) == id) {
      const std::string_view text = vocab.texts[id];
      for (size_t pos = text.find(kSpmSpace, 1); pos != std::string_view::npos;
           pos = text.find(kSpmSpace, pos + 1)) {
        if (pos < kSpmSpace.size() ||
            text.substr(pos - kSpmSpace.size(), kSpmSpace.size()) != kSpmSpace) {
          words_are_independent_ = false;
        }
      }
    }
  }
}

int32_t SpmModel::find_piece(std::string_view text) const {
  const int32_t id = vocab_.find(text);
  if (id < 0) return -1;
  switch (vocab_.types[id]) {
    case TokenType::kUndefined:
    case TokenType::kNormal:
    case TokenType::kUserDefined:
    case TokenType::kUnused:
      return id;
    default:
      return -1;
  }
}

void SpmModel::encode(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const {
  std::string escaped;
  escaped.reserve(text.size() + 3 + text.size() / 2);
  if (space_prefix) escaped += kSpmSpace;
  for (char c : text) {
    if (c == ' ') {
      escaped += kSpmSpace;
    } else {
      escaped += c;
    }
  }
  if (!words_are_independent_) {
    encode_word(escaped, out);
    return;
  }
  // No piece spans a word boundary, so no merge crosses one and the words can be encoded
  // separately: far fewer symbols per merge queue for the same result.
  const std::string_view all(escaped);
  size_t word_start = 0;
  for (size_t pos = all.find(kSpmSpace, 1); pos != std::string_view::npos;
       pos = all.find(kSpmSpace, pos + kSpmSpace.size())) {
    if (pos >= kSpmSpace.size() &&
        all.substr(pos - kSpmSpace.size(), kSpmSpace.size()) == kSpmSpace) {
      continue;  // a run of spaces stays together
    }
    encode_word(all.substr(word_start, pos - word_start), out);
    word_start = pos;
  }
  encode_word(all.substr(word_start), out);
}

void SpmModel::encode_word(std::string_view escaped, std::vector<int32_t>& out) const {
  if (escaped.empty()) return;
  std::vector<Symbol> symbols;
  symbols.reserve(escaped.size());
  for (size_t pos = 0; pos < escaped.size();) {
    const Utf8Check c = utf8_check_at(escaped, pos);
    // A broken sequence is split into single bytes; each ends up as a byte token.
    const size_t length = c.status == Utf8Status::kComplete ? c.length : 1;
    const auto idx = static_cast<int32_t>(symbols.size());
    symbols.push_back(
        {static_cast<uint32_t>(pos), static_cast<uint32_t>(length), idx - 1, idx + 1});
    pos += length;
  }
  symbols.back().next = -1;
  if (symbols.size() == 1) {
    emit(escaped, 0, symbols[0].length, MergeHistory(), out);
    return;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t length = symbols[left].length + symbols[right].length;
    const int32_t id = find_piece(escaped.substr(symbols[left].start, length));
    if (id >= 0) queue.push({vocab_.scores[id], left, right, length});
  };
  for (size_t i = 1; i < symbols.size(); ++i) {
    try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  }

  MergeHistory history;
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != c.length) continue;
    if (has_unused_) history[span_key(left.start, c.length)] = left.length;
    left.length = c.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    try_add(left.prev, c.left);
    try_add(c.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    emit(escaped, symbols[i].start, symbols[i].length, history, out);
  }
}

void SpmModel::emit(std::string_view text, uint32_t start, uint32_t length,
                    const MergeHistory& history, std::vector<int32_t>& out) const {
  const int32_t id = find_piece(text.substr(start, length));
  if (id >= 0 && vocab_.types[id] != TokenType::kUnused) {
    out.push_back(id);
    return;
  }
  // Unused pieces may take part in merges but are never output: undo the merge that made them.
  if (const auto it = history.find(span_key(start, length)); it != history.end()) {
    emit(text, start, it->second, history, out);
    emit(text, start + it->second, length - it->second, history, out);
    return;
  }
  emit_unknown(text.substr(start, length), out);
}

void SpmModel::emit_unknown(std::string_view character, std::vector<int32_t>& out) const {
  bool all_bytes = true;
  for (char c : character) all_bytes = all_bytes && byte_ids_[static_cast<uint8_t>(c)] >= 0;
  if (all_bytes) {
    for (char c : character) out.push_back(byte_ids_[static_cast<uint8_t>(c)]);
  } else if (vocab_.unk_id >= 0) {
    out.push_back(vocab_.unk_id);
  }
  // With neither byte tokens nor an unknown token the character cannot be represented at all.
}

}  // namespace pareto
