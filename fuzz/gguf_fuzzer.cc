// libFuzzer target for the GGUF reader: any input must either parse into a file whose every
// tensor lies inside the input, or fail with a pareto::Error naming the input. Anything else
// (a crash, a sanitizer report, another exception type, a message without the name) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "weights/gguf_file.h"

namespace {

constexpr const char* kName = "fuzz-input.gguf";

void check_message(const pareto::Error& e) {
  if (std::string_view(e.what()).find(kName) == std::string_view::npos) std::abort();
}

// Exercises what the loader and `pareto inspect` do with a parsed file.
void use(const pareto::GgufFile& f) {
  volatile uint8_t sink = 0;
  for (const auto& t : f.tensors()) {
    uint8_t acc = 0;
    for (uint64_t i = 0; i < t.num_bytes; ++i) acc ^= t.data[i];
    sink = sink ^ acc;
    (void)t.num_elements();
    (void)pareto::dtype_name(t.type);
    if (f.find_tensor(t.name) != &t) std::abort();
  }
  for (const auto& [key, value] : f.metadata()) {
    (void)value.to_display_string();
    if (f.find(key) != &value) std::abort();
  }
  // Typed lookups may throw for a key of the wrong type, and must name the file when they do.
  for (const char* key : {"general.architecture", "tokenizer.ggml.model", "llama.block_count",
                          "tokenizer.ggml.tokens", "tokenizer.ggml.scores"}) {
    try {
      (void)f.get_string_or(key, "");
    } catch (const pareto::Error& e) {
      check_message(e);
    }
    try {
      (void)f.get_int_or(key, 0);
      (void)f.get_float_or(key, 0.0);
      (void)f.get_bool_or(key, false);
    } catch (const pareto::Error& e) {
      check_message(e);
    }
  }
  if (const auto* tokens = f.find("tokenizer.ggml.tokens")) {
    try {
      (void)tokens->as_string_array();
    } catch (const pareto::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const pareto::GgufFile f = pareto::GgufFile::parse(data, size, kName);
    use(f);
  } catch (const pareto::Error& e) {
    check_message(e);
  }
  return 0;
}
