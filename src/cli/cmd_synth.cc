// `pareto synth`: writes a Llama-family GGUF model with random weights and a real tokenizer
// (copied from another GGUF file), so the engine can be benchmarked at real model sizes without
// downloading weights. The work is model/synthetic_model.h; this file is the command line.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "base/dtype.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "cli/command.h"
#include "model/synthetic_model.h"
#include "model/synthetic_shapes.h"
#include "weights/gguf_file.h"
#include "weights/quantize.h"

namespace pareto::cli {
namespace {

struct SynthOptions {
  std::string shape;
  std::string config;
  std::string vocab_from;
  std::string type;
  std::string out;
  uint64_t seed = 0;
  int64_t layers = 0;
  int threads = 0;
};

int run_synth(const SynthOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  SyntheticShape shape = o.config.empty() ? find_shape(o.shape) : load_shape(o.config);
  if (o.layers > 0) shape.num_layers = o.layers;
  shape.validate(o.config.empty() ? o.shape : o.config);

  const auto type = parse_dtype(o.type);
  if (!type || !can_quantize(*type))
    fail(
        "synth: unsupported --type '{}' (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, "
        "q5_k, q6_k)",
        o.type);

  const GgufFile vocab_file = GgufFile::open(o.vocab_from);
  ThreadPool pool(o.threads);
  fmt::print(stderr, "synth: {} ({}), {} layers, {} matrices, {} threads\n", shape.name,
             shape.architecture, shape.num_layers, dtype_name(*type), pool.num_threads());
  const SyntheticModelInfo info = write_synthetic_model(
      shape, vocab_file, *type, o.seed, o.out, pool,
      [](size_t i, size_t n, const std::string& name) {
        fmt::print(stderr, "synth: [{:>{}}/{}] {}\n", i + 1, fmt::formatted_size("{}", n), n, name);
      });
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr, "synth: wrote {} ({} tensors, {:.1f} M parameters) in {:.1f} s\n", o.out,
             info.num_tensors, static_cast<double>(info.num_parameters) / 1e6, secs);
  return 0;
}

const RegisterCommand reg{
    "synth", "Write a random-weight Llama-family GGUF model with a real tokenizer",
    [](CLI::App& sub) {
      auto o = std::make_shared<SynthOptions>();
      auto* shape = sub.add_option("--shape", o->shape,
                                   "Built-in shape: llama-135m, tinyllama-1.1b, qwen2.5-0.5b");
      auto* config = sub.add_option("--config", o->config, "JSON file with a custom shape");
      shape->excludes(config);
      config->excludes(shape);
      sub.add_option("--vocab-from", o->vocab_from, "GGUF file whose tokenizer.* keys to copy")
          ->required();
      sub.add_option("--type", o->type, "Matrix type: f32, f16, q8_0, q4_0 (or bf16, q4_k, ...)")
          ->required();
      sub.add_option("-o,--output", o->out, "Output GGUF file")->required();
      sub.add_option("--seed", o->seed, "Random seed")->capture_default_str();
      sub.add_option("--layers", o->layers, "Override the shape's number of layers");
      sub.add_option("--threads", o->threads, "Worker threads (0: one per core)")
          ->capture_default_str();
      return [o, shape, config] {
        if (shape->count() == 0 && config->count() == 0)
          fail("synth: one of --shape or --config is required");
        return run_synth(*o);
      };
    }};

}  // namespace
}  // namespace pareto::cli
