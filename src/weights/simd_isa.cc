#include "weights/simd_isa.h"

#include <cstdlib>
#include <string_view>

#include "base/error.h"

namespace pareto {

const char* simd_isa_name(SimdIsa isa) {
  switch (isa) {
    case SimdIsa::kScalar:
      return "scalar";
    case SimdIsa::kAvx2:
      return "avx2";
    case SimdIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

namespace {

bool probe(SimdIsa isa) {
  // __builtin_cpu_supports also checks that the OS saves the wider register state (XCR0).
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  switch (isa) {
    case SimdIsa::kScalar:
      return true;
    case SimdIsa::kAvx2:
      return avx2;
    case SimdIsa::kAvx512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }
  return false;
}

SimdIsa detect() {
  SimdIsa best = SimdIsa::kScalar;
  for (SimdIsa isa : {SimdIsa::kAvx2, SimdIsa::kAvx512})
    if (cpu_supports(isa)) best = isa;
  const char* env = std::getenv("PARETO_SIMD");
  if (env == nullptr || *env == '\0') return best;
  const std::string_view cap(env);
  for (SimdIsa isa : {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512}) {
    if (cap == simd_isa_name(isa)) return isa < best ? isa : best;
  }
  fail("PARETO_SIMD={} is not one of scalar, avx2, avx512", cap);
}

}  // namespace

bool cpu_supports(SimdIsa isa) {
  static const bool supported[3] = {probe(SimdIsa::kScalar), probe(SimdIsa::kAvx2),
                                    probe(SimdIsa::kAvx512)};
  const int idx = static_cast<int>(isa);
  return idx >= 0 && idx < 3 && supported[idx];
}

SimdIsa active_simd_isa() {
  static const SimdIsa isa = detect();
  return isa;
}

}  // namespace pareto
