// `pareto tokenize`: shows how a model's tokenizer splits a text. Needs only the tokenizer
// metadata, so it works on vocabulary-only GGUF files.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "weights/gguf_file.h"

namespace pareto::cli {
namespace {

struct TokenizeOptions {
  std::string model_path;
  std::string text;
  bool no_bos = false;
  bool pieces = false;
  bool no_parse_special = false;
};

// Makes a piece printable on one line: control characters and bytes that are not valid UTF-8
// are escaped, quotes and backslashes too.
std::string escape_piece(std::string_view piece) {
  std::string out;
  for (size_t pos = 0; pos < piece.size();) {
    const Utf8Check c = utf8_check_at(piece, pos);
    const auto byte = static_cast<uint8_t>(piece[pos]);
    if (c.status != Utf8Status::kComplete) {
      out += fmt::format("\\x{:02x}", byte);
      ++pos;
      continue;
    }
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '\\' || byte == '\'') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte == 0x7F) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out.append(piece.substr(pos, c.length));
    }
    pos += c.length;
  }
  return out;
}

int run_tokenize(const TokenizeOptions& opts) {
  const GgufFile gguf = GgufFile::open(opts.model_path);
  const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::from_gguf(gguf);
  const std::vector<int32_t> ids =
      tokenizer->encode(opts.text, !opts.no_bos, !opts.no_parse_special);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
  }
  std::printf("%s\n", line.c_str());
  if (opts.pieces) {
    for (int32_t id : ids) {
      const std::string piece = tokenizer->token_to_piece(id, /*render_special=*/true);
      std::printf("%d '%s'\n", id, escape_piece(piece).c_str());
    }
  }
  return 0;
}

RegisterCommand reg{
    "tokenize", "Print the token ids a model's tokenizer gives for a text", [](CLI::App& sub) {
      auto opts = std::make_shared<TokenizeOptions>();
      sub.add_option("-m,--model", opts->model_path, "GGUF file (a vocabulary-only file will do)")
          ->required();
      sub.add_flag("--no-bos", opts->no_bos, "Do not add the BOS token the model asks for");
      sub.add_flag("--pieces", opts->pieces, "Also print each token's text, one per line");
      sub.add_flag("--no-parse-special", opts->no_parse_special,
                   "Tokenize special-token texts such as <s> as plain text");
      sub.add_option("text", opts->text, "Text to tokenize")->required();
      return [opts] { return run_tokenize(*opts); };
    }};

}  // namespace
}  // namespace pareto::cli
