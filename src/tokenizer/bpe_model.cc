#include "tokenizer/bpe_model.h"

#include <queue>

#include "base/error.h"
#include "base/log.h"
#include "tokenizer/byte_level.h"

namespace pareto {
namespace {

struct Symbol {
  int32_t id;  // token of the symbol's text; -1 for a byte the vocabulary cannot spell
  int32_t prev;
  int32_t next;
  bool alive;
};

struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;  // the ids the pair had when queued; a change later means it is stale
  int32_t right_id;
  int32_t result_id;
};

// Orders the max-heap: lowest rank first, then the leftmost pair.
struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.left > b.left;
  }
};

}  // namespace

BpeModel::BpeModel(const Vocab& vocab, const std::vector<std::string>& merges,
                   PreTokenizerConfig pre)
    : vocab_(vocab),
      pre_(pre.patterns),
      pre_name_(std::move(pre.name)),
      ignore_merges_(pre.ignore_merges) {
  for (int b = 0; b < 256; ++b) byte_ids_[b] = vocab.find(byte_to_unicode(static_cast<uint8_t>(b)));

  merges_.reserve(merges.size());
  size_t skipped = 0;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos || space + 1 >= m.size()) {
      fail(
          "{}: merge {} ('{}') in 'tokenizer.ggml.merges' is not two tokens separated by a "
          "space",
          vocab.source, rank, m);
    }
    const std::string_view left(m.data(), space);
    const std::string_view right(m.data() + space + 1, m.size() - space - 1);
    const int32_t left_id = vocab.find(left);
    const int32_t right_id = vocab.find(right);
    const int32_t result_id = vocab.find(std::string(left) + std::string(right));
    if (left_id < 0 || right_id < 0 || result_id < 0) {
      ++skipped;  // a merge whose parts or result are not tokens can never be applied
      continue;
    }
    // The first listing of a pair is its rank.
    merges_.emplace(pair_key(left_id, right_id), Merge{static_cast<int32_t>(rank), result_id});
  }
  if (skipped > 0) {
    spdlog::debug("{}: {} of {} merges name texts that are not tokens and are ignored",
                  vocab.source, skipped, merges.size());
  }
}

void BpeModel::encode(std::string_view text, bool /*space_prefix*/,
                      std::vector<int32_t>& out) const {
  for (std::string_view word : pre_.split(text)) encode_word(word, out);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() == 1 && byte_ids_[static_cast<uint8_t>(word[0])] >= 0) {
    out.push_back(byte_ids_[static_cast<uint8_t>(word[0])]);
    return;
  }
  if (ignore_merges_) {
    const int32_t id = vocab_.find(bytes_to_unicode(word));
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  const auto n = static_cast<int32_t>(word.size());
  std::vector<Symbol> symbols(n);
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = {byte_ids_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1, true};
  }

  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[left].id, right_id = symbols[right].id;
    if (left_id < 0 || right_id < 0) return;
    const auto it = merges_.find(pair_key(left_id, right_id));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, left_id, right_id, it->second.result_id});
  };
  for (int32_t i = 1; i < n; ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (!left.alive || !right.alive || left.next != c.right || left.id != c.left_id ||
        right.id != c.right_id) {
      continue;
    }
    left.id = c.result_id;
    left.next = right.next;
    right.alive = false;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    try_add(left.prev, c.left);
    try_add(c.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    if (symbols[i].id >= 0) {
      out.push_back(symbols[i].id);
    } else if (vocab_.unk_id >= 0) {
      out.push_back(vocab_.unk_id);
    }
  }
}

}  // namespace pareto
