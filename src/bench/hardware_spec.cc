#include "bench/hardware_spec.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/error.h"
#include "base/thread_pool.h"
#include "bench/memory_bandwidth.h"
#include "ops/matmul.h"
#include "weights/quantize.h"

namespace pareto::bench {
namespace {

// Default achieved fractions for describe_this_machine(), calibrated on the 2-core AVX-512
// dev box (hardware/this-machine.json records how): `pareto bench model` decode of
// llama-135m-q8_0 streams weights at ~0.2 of the measured read bandwidth (tinyllama Q8_0 ~0.3),
// its prefill runs at ~0.75 of our own Q8_0 matmul rate.
constexpr double kDefaultBandwidthFraction = 0.2;
constexpr double kDefaultFlopsFraction = 0.75;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

double number(const nlohmann::json& j, const char* key, const std::string& origin, double min,
              double max) {
  if (!j.contains(key)) fail("{}: missing field \"{}\"", origin, key);
  const nlohmann::json& v = j.at(key);
  if (!v.is_number()) fail("{}: field \"{}\" must be a number, got {}", origin, key, v.dump());
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max)
    fail("{}: field \"{}\" = {} is out of range [{}, {}]", origin, key, x, min, max);
  return x;
}

const std::vector<std::string>& compute_dtypes() {
  static const std::vector<std::string> names = {"f32", "f16", "bf16", "int8"};
  return names;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

double HardwareSpec::peak_for(const std::string& dtype) const {
  double peak = 0;
  if (dtype == "f32")
    peak = peak_tflops.f32;
  else if (dtype == "f16")
    peak = peak_tflops.f16;
  else if (dtype == "bf16")
    peak = peak_tflops.bf16;
  else if (dtype == "int8")
    peak = peak_tflops.int8;
  else
    fail("hardware {}: unknown compute dtype '{}' (f32, f16, bf16 or int8)", name, dtype);
  if (!(peak > 0)) fail("hardware {}: no peak_tflops.{} given", name, dtype);
  return peak;
}

HardwareSpec hardware_spec_from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) fail("{}: expected a JSON object", origin);
  HardwareSpec s;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
    fail("{}: missing field \"name\" (a non-empty string)", origin);
  s.name = j["name"].get<std::string>();
  if (j.contains("source")) {
    if (!j["source"].is_string()) fail("{}: field \"source\" must be a string", origin);
    s.source = j["source"].get<std::string>();
  }
  s.memory_bytes = number(j, "memory_gib", origin, 1e-6, 1e9) * kGiB;
  s.reserve_fraction = number(j, "reserve_fraction", origin, 0, 0.99);
  s.memory_bandwidth_gb_s = number(j, "memory_bandwidth_gb_s", origin, 1e-3, 1e9);
  if (!j.contains("peak_tflops") || !j["peak_tflops"].is_object())
    fail("{}: missing field \"peak_tflops\" (an object with f32, f16, bf16, int8)", origin);
  const nlohmann::json& p = j["peak_tflops"];
  const std::string porigin = origin + ": peak_tflops";
  // Absent dtypes are 0 (not supported); at least one must be given.
  auto peak = [&](const char* key) {
    return p.contains(key) ? number(p, key, porigin, 0, 1e9) : 0;
  };
  s.peak_tflops = {peak("f32"), peak("f16"), peak("bf16"), peak("int8")};
  if (s.peak_tflops.f32 + s.peak_tflops.f16 + s.peak_tflops.bf16 + s.peak_tflops.int8 <= 0)
    fail("{}: field \"peak_tflops\" gives no positive peak", origin);
  if (j.contains("quantized_compute")) {
    const nlohmann::json& q = j["quantized_compute"];
    if (!q.is_string() || std::find(compute_dtypes().begin(), compute_dtypes().end(),
                                    q.get<std::string>()) == compute_dtypes().end())
      fail("{}: field \"quantized_compute\" must be one of f32, f16, bf16, int8, got {}", origin,
           q.dump());
    s.quantized_compute = q.get<std::string>();
  }
  s.host_link_gb_s = number(j, "host_link_gb_s", origin, 1e-3, 1e9);
  if (!j.contains("achieved") || !j["achieved"].is_object())
    fail("{}: missing field \"achieved\" (an object with bandwidth_fraction, flops_fraction)",
         origin);
  const std::string aorigin = origin + ": achieved";
  s.bandwidth_fraction = number(j["achieved"], "bandwidth_fraction", aorigin, 1e-4, 1);
  s.flops_fraction = number(j["achieved"], "flops_fraction", aorigin, 1e-4, 1);
  s.peak_for(s.quantized_compute);  // the dtype quantized models use must have a peak
  return s;
}

HardwareSpec load_hardware_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("hardware file {}: cannot open", path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail("hardware file {}: not valid JSON ({})", path, e.what());
  }
  return hardware_spec_from_json(j, "hardware file " + path);
}

nlohmann::json to_json(const HardwareSpec& s) {
  return {{"name", s.name},
          {"source", s.source},
          {"memory_gib", s.memory_bytes / kGiB},
          {"reserve_fraction", s.reserve_fraction},
          {"memory_bandwidth_gb_s", s.memory_bandwidth_gb_s},
          {"peak_tflops",
           {{"f32", s.peak_tflops.f32},
            {"f16", s.peak_tflops.f16},
            {"bf16", s.peak_tflops.bf16},
            {"int8", s.peak_tflops.int8}}},
          {"quantized_compute", s.quantized_compute},
          {"host_link_gb_s", s.host_link_gb_s},
          {"achieved",
           {{"bandwidth_fraction", s.bandwidth_fraction}, {"flops_fraction", s.flops_fraction}}}};
}

double measure_matmul_gflops(DType type, double seconds_budget, int threads) {
  // 2048 x 2048 weights (4.5 MB as Q8_0, 16 MB as F32) times 256 tokens: large enough to be
  // compute-bound, the shape of a prefill chunk of a ~1B model.
  constexpr int64_t K = 2048, N = 2048, T = 256;
  if (type != DType::F32 && !can_quantize(type))
    fail("measure_matmul_gflops: cannot build {} weights", dtype_name(type));
  std::vector<float> row(K);
  std::vector<uint8_t> weights(row_bytes(type, K) * N);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) row[k] = static_cast<float>(((n * 131 + k * 7) % 97) - 48) / 97;
    uint8_t* dst = weights.data() + row_bytes(type, K) * n;
    if (type == DType::F32)
      std::copy(row.begin(), row.end(), reinterpret_cast<float*>(dst));
    else
      quantize_row(type, row.data(), dst, K);
  }
  std::vector<float> x(K * T), y(N * T);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) / 13 - 0.5f;
  WeightMatrix w{type, K, N, weights.data()};
  // As a loaded model holds them (Model::load packs Q8_0/Q4_0/Q4_K/Q6_K/F16/BF16 for the AVX-512
  // VNNI kernels).
  if (can_pack_weights(w)) pack_weights(w, weights.data());
  ThreadPool pool(threads);
  matmul(w, x.data(), T, y.data(), pool);  // warm-up
  double best = 0, spent = 0;
  int runs = 0;
  while (runs < 2 || spent < seconds_budget) {
    const auto t0 = std::chrono::steady_clock::now();
    matmul(w, x.data(), T, y.data(), pool);
    const double secs = seconds_since(t0);
    spent += secs;
    best = std::max(best, 2.0 * K * N * T / secs / 1e9);
    if (++runs >= 1000) break;
  }
  return best;
}

HardwareSpec describe_this_machine(const DescribeOptions& o) {
  HardwareSpec s;
  s.name = fmt::format("this machine ({} threads)",
                       o.threads > 0 ? o.threads : ThreadPool::default_num_threads());
  // MemAvailable: what a new process can use without swapping.
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemAvailable:") break;
    meminfo.ignore(256, '\n');
    kib = 0;
  }
  if (!(kib > 0)) fail("describe this machine: no MemAvailable in /proc/meminfo");
  s.memory_bytes = kib * 1024;
  s.reserve_fraction = 0.6;

  ThreadPool pool(o.threads);
  MemoryBandwidthOptions mo;
  mo.array_bytes = size_t{64} << 20;
  mo.reps = std::clamp(static_cast<int>(o.bandwidth_seconds_budget / 0.2), 1, 10);
  const MemoryBandwidthResult bw = measure_memory_bandwidth(mo, pool);
  s.memory_bandwidth_gb_s = bw.read.best_gb_s;
  // STREAM copy counts read + write bytes; a KV swap of X bytes moves X bytes.
  s.host_link_gb_s = bw.copy.best_gb_s / 2;

  // F16/BF16 weights: whatever our kernels do with them (widening to F32 or native dot
  // products), the measured rate is the peak that applies.
  const double budget = o.flops_seconds_budget / 4;
  const int t = pool.num_threads();
  s.peak_tflops.f32 = measure_matmul_gflops(DType::F32, budget, t) / 1e3;
  s.peak_tflops.f16 = measure_matmul_gflops(DType::F16, budget, t) / 1e3;
  s.peak_tflops.bf16 =
      can_quantize(DType::BF16) ? measure_matmul_gflops(DType::BF16, budget, t) / 1e3 : 0;
  s.peak_tflops.int8 = measure_matmul_gflops(DType::Q8_0, budget, t) / 1e3;
  s.quantized_compute = "int8";  // Q4/Q8 matmuls quantize activations to 8 bits
  s.bandwidth_fraction = kDefaultBandwidthFraction;
  s.flops_fraction = kDefaultFlopsFraction;
  s.source = fmt::format(
      "measured now: MemAvailable, read bandwidth of 64 MiB arrays ({} reps), host link = "
      "STREAM copy / 2, F32, F16, BF16 and Q8_0 matmul of 2048x2048 weights by 256 tokens; "
      "achieved "
      "fractions are the defaults calibrated on the dev box",
      mo.reps);
  return s;
}

}  // namespace pareto::bench
