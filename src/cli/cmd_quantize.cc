// `pareto quantize IN.gguf OUT.gguf --type T`: converts a model's weights to another storage
// type. The policy and the conversion are weights/model_quantizer.h; this file is the command
// line and the progress display.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "base/error.h"
#include "base/thread_pool.h"
#include "cli/command.h"
#include "weights/gguf_file.h"
#include "weights/model_quantizer.h"

namespace pareto::cli {
namespace {

struct QuantizeOptions {
  std::string in;
  std::string out;
  std::string type;
  int threads = 0;
};

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1 << 20);
}

// One warning per (row length, wanted type, stored type), naming the first tensor: a small
// model can have every matrix fall back, and one line per tensor would bury the progress.
void log_fallbacks(const QuantPlan& plan) {
  struct Group {
    const TensorQuantPlan* first;
    size_t count;
  };
  std::map<std::tuple<int64_t, DType, DType>, Group> groups;
  for (const TensorQuantPlan& t : plan.tensors) {
    if (!t.fallback()) continue;
    spdlog::debug("{}: rows of {} elements are not whole {} blocks; stored as {}", t.name,
                  t.shape[0], dtype_name(t.wanted), dtype_name(t.to));
    auto [it, inserted] = groups.try_emplace({t.shape[0], t.wanted, t.to}, Group{&t, 0});
    ++it->second.count;
  }
  for (const auto& [key, g] : groups)
    spdlog::warn(
        "{} tensor(s) with rows of {} elements (e.g. {}) are not whole {} blocks; stored as {}",
        g.count, std::get<0>(key), g.first->name, dtype_name(std::get<1>(key)),
        dtype_name(std::get<2>(key)));
}

int run_quantize(const QuantizeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const auto scheme = parse_quant_scheme(o.type);
  if (!scheme) fail("quantize: unknown --type '{}' (one of {})", o.type, quant_scheme_names());

  const GgufFile in = GgufFile::open(o.in);
  const QuantPlan plan = plan_quantization(in, *scheme);
  if (plan.requantizes)
    spdlog::warn(
        "{}: the input is already quantized; its weights are dequantized and rounded again, "
        "which loses more accuracy than quantizing the original F32/F16 weights",
        o.in);
  log_fallbacks(plan);

  ThreadPool pool(o.threads);
  fmt::print(stderr, "quantize: {} -> {} as {}, {} tensors, {} threads\n", o.in, o.out,
             quant_scheme_name(*scheme), plan.tensors.size(), pool.num_threads());
  const int width = static_cast<int>(fmt::formatted_size("{}", plan.tensors.size()));
  write_quantized_model(
      in, plan, o.out, pool, [&](size_t i, size_t n, const TensorQuantPlan& t, uint64_t done) {
        fmt::print(stderr, "quantize: [{:>{}}/{}] {:<28} {:>5} -> {:<5} {:8.2f} / {:.2f} MiB\n",
                   i + 1, width, n, t.name, dtype_name(t.from), dtype_name(t.to), mib(done),
                   mib(plan.out_bytes));
      });
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr, "quantize: wrote {} ({:.2f} MiB of tensors, from {:.2f} MiB) in {:.1f} s\n",
             o.out, mib(plan.out_bytes), mib(plan.in_bytes), secs);
  return 0;
}

const RegisterCommand reg{
    "quantize", "Convert a GGUF model's weights to another type (q8_0, q4_0, q4_k_m, ...)",
    [](CLI::App& sub) {
      auto o = std::make_shared<QuantizeOptions>();
      sub.add_option("input", o->in, "Input GGUF model")->required();
      sub.add_option("output", o->out, "Output GGUF file")->required();
      sub.add_option("--type", o->type, "q8_0, q4_0, q4_k_m, q6_k, f16, bf16 or f32")->required();
      sub.add_option("-t,--threads", o->threads, "Worker threads (0: one per core)")
          ->capture_default_str();
      return [o] { return run_quantize(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
