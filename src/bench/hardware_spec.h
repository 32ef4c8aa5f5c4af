// What the cost model (bench/cost_model.h, `pareto plan`) knows about a machine: memory, memory
// bandwidth, peak arithmetic by dtype, the host link KV swaps cross, and the fractions of those
// peaks real kernels achieve. Loaded from a JSON file (hardware/*.json) or measured here.
//
// File format (every field required unless marked optional; sizes in GiB, rates in 1e9/1e12):
//   {"name": "A100-SXM4-80GB",
//    "source": "where each number comes from",           (optional)
//    "memory_gib": 80,            memory for weights + KV cache + activations
//    "reserve_fraction": 0.1,     share of (memory - weights) kept for activations and runtime
//    "memory_bandwidth_gb_s": 2039,
//    "peak_tflops": {"f32": 19.5, "f16": 312, "bf16": 312, "int8": 624},
//    "quantized_compute": "f16",  dtype whose peak quantized weights run at (optional, "int8")
//    "host_link_gb_s": 25,        the KV swap path: PCIe for a GPU, memcpy for a CPU
//    "achieved": {"bandwidth_fraction": 0.7, "flops_fraction": 0.6}}
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/dtype.h"

namespace pareto::bench {

struct PeakFlops {  // TFLOP/s (int8: TOP/s), dense
  double f32 = 0, f16 = 0, bf16 = 0, int8 = 0;
};

struct HardwareSpec {
  std::string name;
  std::string source;  // provenance: datasheet, or the measuring commands
  double memory_bytes = 0;
  double reserve_fraction = 0;
  double memory_bandwidth_gb_s = 0;
  PeakFlops peak_tflops;
  std::string quantized_compute = "int8";  // f32 | f16 | bf16 | int8
  double host_link_gb_s = 0;
  // Achieved fractions: decode streams weights and KV at bandwidth * bandwidth_fraction;
  // prefill (and compute-bound batched decode) runs at peak * flops_fraction.
  double bandwidth_fraction = 1;
  double flops_fraction = 1;

  // Peak TFLOP/s for a compute dtype name ("f32", "f16", "bf16", "int8"); throws pareto::Error
  // for another name or a peak of 0 (not given).
  double peak_for(const std::string& dtype) const;
};

// Parses and validates; throws pareto::Error naming `origin` and the missing or bad field.
HardwareSpec hardware_spec_from_json(const nlohmann::json& j, const std::string& origin);
HardwareSpec load_hardware_spec(const std::string& path);
nlohmann::json to_json(const HardwareSpec& spec);

struct DescribeOptions {
  double bandwidth_seconds_budget = 1.0;  // the read-bandwidth measurement
  double flops_seconds_budget = 1.0;      // the matmul FLOP-rate measurement
  int threads = 0;                        // 0: one per physical core, as the engine uses
};

// This machine, measured: MemAvailable from /proc/meminfo (reserve 0.6: the engine's default
// KV cache is 40% of what the weights leave), read bandwidth (bench/memory_bandwidth.h), F32,
// F16, BF16 and int8 (Q8_0) matmul rates of our own kernels on 256 tokens, memcpy bandwidth as the
// host link. Achieved fractions are the defaults calibrated on the 2-core dev box with `pareto
// bench model` (see docs/cost_model.md); pass --hardware with a calibrated file for other machines.
HardwareSpec describe_this_machine(const DescribeOptions& options = {});

// The measured peaks behind describe_this_machine, exposed for tests and the hardware file.
// GFLOP/s of our matmul with 2048 x 2048 weights of `type` (F32, or a type quantize_row can
// write) times 256 tokens: the best of repeated runs within the budget.
double measure_matmul_gflops(DType type, double seconds_budget, int threads);

}  // namespace pareto::bench
