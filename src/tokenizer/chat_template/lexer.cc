#include "tokenizer/chat_template/lexer.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "tokenizer/utf8.h"

namespace pareto::chat_template {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(const std::string& src, const SourceMap& map) : src_(src), map_(map) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag_start(pos_);
      if (tag == std::string::npos) {
        emit_text(src_.substr(pos_), pos_);
        pos_ = src_.size();
        break;
      }
      const char kind = src_[tag + 1];  // '{', '%' or '#'
      const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      std::string text = src_.substr(pos_, tag - pos_);
      strip_before(text, sign, kind != '{');
      const size_t raw_body = kind == '%' ? match_raw_begin(tag) : std::string::npos;
      emit_text(std::move(text), pos_);
      if (kind == '#') {
        lex_comment(tag);
      } else if (raw_body != std::string::npos) {
        lex_raw(raw_body);
      } else {
        lex_tag(tag, kind == '%');
      }
    }
    tokens_.push_back(Token{TokenType::kEof, "", 0, 0.0, src_.size()});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error(size_t offset, const std::string& message) const {
    throw Error("chat template: " + map_.where(offset) + ": " + message);
  }

  size_t find_tag_start(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string::npos;
  }

  // `{%` [-+] ws* `raw` ws* (`-%}` ws* | `%}`): returns the offset after it, or npos.
  size_t match_raw_begin(size_t tag) {
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return std::string::npos;
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "-%}") == 0) {
      p += 3;
      while (p < src_.size() && is_space(src_[p])) ++p;
      line_starting_ = p > 0 && src_[p - 1] == '\n';
      return p;
    }
    if (src_.compare(p, 2, "%}") == 0) {
      line_starting_ = false;
      return p + 2;
    }
    return std::string::npos;
  }

  // Whitespace control on the text before a tag: `-` strips all trailing whitespace; otherwise
  // lstrip_blocks removes the spaces and tabs that precede a block or comment tag on its line.
  void strip_before(std::string& text, char sign, bool lstrip_applies) const {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0 && is_space(text[end - 1])) --end;
      text.resize(end);
    } else if (sign != '+' && lstrip_applies) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size() &&
          std::all_of(text.begin() + static_cast<std::ptrdiff_t>(l_pos), text.end(), is_space)) {
        text.resize(l_pos);
      }
    }
  }

  void emit_text(std::string text, size_t offset) {
    if (!text.empty()) tokens_.push_back(Token{TokenType::kText, std::move(text), 0, 0.0, offset});
  }

  // After a tag end: `-` eats all following whitespace; plain block/comment ends eat one newline
  // (trim_blocks); `+` keeps everything.
  void finish_tag(size_t after_end, bool trim_newline, bool strip_all) {
    size_t p = after_end;
    if (strip_all) {
      while (p < src_.size() && is_space(src_[p])) ++p;
    } else if (trim_newline && p < src_.size() && src_[p] == '\n') {
      ++p;
    }
    line_starting_ = p > 0 && src_[p - 1] == '\n';
    pos_ = p;
  }

  void lex_comment(size_t tag) {
    size_t body = tag + 2;
    if (body < src_.size() && (src_[body] == '-' || src_[body] == '+')) ++body;
    const size_t end = src_.find("#}", body);
    if (end == std::string::npos) {
      // Jinja2 stops quietly when a comment opens at the very end of the template.
      if (body >= src_.size()) {
        pos_ = src_.size();
        return;
      }
      error(tag, "missing end of comment tag");
    }
    const char before = end > body ? src_[end - 1] : '\0';
    finish_tag(end + 2, before != '+', before == '-');
  }

  void lex_raw(size_t body) {
    for (size_t p = src_.find("{%", body); p != std::string::npos; p = src_.find("{%", p + 1)) {
      size_t q = p + 2;
      const char sign = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q] : '\0';
      if (sign) ++q;
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q += 6;
      while (q < src_.size() && is_space(src_[q])) ++q;
      char end_sign = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) end_sign = src_[q++];
      if (src_.compare(q, 2, "%}") != 0) continue;
      std::string text = src_.substr(body, p - body);
      strip_before(text, sign, true);
      emit_text(std::move(text), body);
      finish_tag(q + 2, end_sign != '+', end_sign == '-');
      return;
    }
    error(body, "missing end of raw directive");
  }

  void lex_tag(size_t tag, bool is_block) {
    tokens_.push_back(
        Token{is_block ? TokenType::kBlockBegin : TokenType::kVarBegin, "", 0, 0.0, tag});
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    std::vector<char> balance;
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size()) {
        error(tag, is_block ? "unexpected end of template, expected '%}'"
                            : "unexpected end of template, expected '}}'");
      }
      if (balance.empty()) {
        const char* close = is_block ? "%}" : "}}";
        if (src_.compare(p, 2, close) == 0 ||
            (src_[p] == '-' && src_.compare(p + 1, 2, close) == 0) ||
            (is_block && src_[p] == '+' && src_.compare(p + 1, 2, close) == 0)) {
          const char sign = src_[p] == '-' || src_[p] == '+' ? src_[p] : '\0';
          tokens_.push_back(
              Token{is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", 0, 0.0, p});
          finish_tag(p + (sign ? 3 : 2), is_block && sign != '+', sign == '-');
          return;
        }
      }
      p = lex_token(p, balance);
    }
  }

  size_t lex_token(size_t p, std::vector<char>& balance) {
    const char c = src_[p];
    if (is_digit(c)) return lex_number(p);
    if (is_name_start(c) || static_cast<unsigned char>(c) >= 0x80) {
      size_t q = p;
      while (q < src_.size() &&
             (is_name_char(src_[q]) || static_cast<unsigned char>(src_[q]) >= 0x80)) {
        ++q;
      }
      tokens_.push_back(Token{TokenType::kName, src_.substr(p, q - p), 0, 0.0, p});
      return q;
    }
    if (c == '\'' || c == '"') return lex_string(p);
    static const char* const kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (src_.compare(p, 2, op) == 0) {
        tokens_.push_back(Token{TokenType::kOperator, op, 0, 0.0, p});
        return p + 2;
      }
    }
    if (std::string_view("+-*/%~=.:|,()[]{}<>;").find(c) == std::string_view::npos) {
      error(p, std::string("unexpected char '") + c + "'");
    }
    if (c == '(' || c == '[' || c == '{') {
      balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) error(p, std::string("unexpected '") + c + "'");
      if (balance.back() != c) {
        error(p, std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
      }
      balance.pop_back();
    }
    tokens_.push_back(Token{TokenType::kOperator, std::string(1, c), 0, 0.0, p});
    return p + 1;
  }

  size_t lex_digits(size_t p, std::string& digits) const {
    while (p < src_.size() && (is_digit(src_[p]) || (src_[p] == '_' && p + 1 < src_.size() &&
                                                     is_digit(src_[p + 1]) && !digits.empty()))) {
      if (src_[p] != '_') digits += src_[p];
      ++p;
    }
    return p;
  }

  size_t lex_number(size_t p) {
    const size_t start = p;
    std::string digits;
    p = lex_digits(p, digits);
    bool is_float = false;
    const bool after_dot = !tokens_.empty() && tokens_.back().type == TokenType::kOperator &&
                           tokens_.back().text == ".";
    if (!after_dot && p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      digits += '.';
      p = lex_digits(p + 1, digits);
      is_float = true;
    }
    if (!after_dot && p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      std::string exp = "e";
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) exp += src_[q++];
      if (q < src_.size() && is_digit(src_[q])) {
        std::string exp_digits;
        q = lex_digits(q, exp_digits);
        digits += exp + exp_digits;
        p = q;
        is_float = true;
      }
    }
    Token t{is_float ? TokenType::kFloat : TokenType::kInt, digits, 0, 0.0, start};
    if (is_float) {
      t.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      int64_t v = 0;
      for (char d : digits) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d - '0', &v)) {
          error(start, "integer literal too large");
        }
      }
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
    return p;
  }

  size_t lex_string(size_t p) {
    const char quote = src_[p];
    std::string value;
    size_t q = p + 1;
    while (true) {
      if (q >= src_.size()) error(p, "unterminated string");
      const char c = src_[q];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++q;
        continue;
      }
      if (q + 1 >= src_.size()) error(p, "unterminated string");
      const char e = src_[q + 1];
      q += 2;
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t i = 0; i < n; ++i) {
            const int h = q + i < src_.size() ? hex_value(src_[q + i]) : -1;
            if (h < 0) error(q - 2, "truncated \\" + std::string(1, e) + " escape");
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          if (cp > 0x10FFFF) error(q - 2, "illegal Unicode character in escape");
          q += n;
          append_utf8(value, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && q < src_.size() && src_[q] >= '0' && src_[q] <= '7'; ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[q++] - '0');
            }
            append_utf8(value, cp);
          } else {
            value += '\\';
            value += e;
          }
      }
    }
    tokens_.push_back(Token{TokenType::kString, std::move(value), 0, 0.0, p});
    return q + 1;
  }

  const std::string& src_;
  const SourceMap& map_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

SourceMap::SourceMap(std::string_view source) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\n') line_starts_.push_back(i + 1);
  }
}

int SourceMap::line(size_t offset) const {
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  return static_cast<int>(it - line_starts_.begin());
}

int SourceMap::column(size_t offset) const {
  return static_cast<int>(offset - line_starts_[static_cast<size_t>(line(offset) - 1)]) + 1;
}

std::string SourceMap::where(size_t offset) const {
  return "line " + std::to_string(line(offset)) + ", column " + std::to_string(column(offset));
}

std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<Token> tokenize(const std::string& source, const SourceMap& map) {
  return Lexer(source, map).run();
}

}  // namespace pareto::chat_template
