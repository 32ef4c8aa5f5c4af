#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace pareto {

SpecialTokenMatcher::SpecialTokenMatcher(const Vocab& vocab) {
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const TokenType type = vocab.types[id];
    const bool control = type == TokenType::kControl || type == TokenType::kUnknown;
    if (!control && type != TokenType::kUserDefined) continue;
    const std::string& text = vocab.texts[id];
    if (text.empty()) continue;
    has_user_defined_ = has_user_defined_ || !control;
    by_first_byte_[static_cast<uint8_t>(text[0])].push_back({text, id, control});
  }
  for (auto& entries : by_first_byte_) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
  }
}

std::vector<TextFragment> SpecialTokenMatcher::split(std::string_view text,
                                                     bool parse_control) const {
  std::vector<TextFragment> fragments;
  if (!parse_control && !has_user_defined_) {
    if (!text.empty()) fragments.push_back({text, -1});
    return fragments;
  }
  size_t plain_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Entry* match = nullptr;
    for (const Entry& e : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      if ((parse_control || !e.control) && text.substr(pos, e.text.size()) == e.text) {
        match = &e;
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    if (pos > plain_start) fragments.push_back({text.substr(plain_start, pos - plain_start), -1});
    fragments.push_back({{}, match->id});
    pos += match->text.size();
    plain_start = pos;
  }
  if (plain_start < text.size()) fragments.push_back({text.substr(plain_start), -1});
  return fragments;
}

}  // namespace pareto
