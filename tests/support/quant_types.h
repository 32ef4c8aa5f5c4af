// The tensor types and SIMD levels the weight and op tests sweep over.
#pragma once

#include <vector>

#include "base/dtype.h"
#include "weights/simd_isa.h"

namespace pareto::test {

inline constexpr DType kAllTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,
                                      DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                                      DType::Q4_K, DType::Q5_K, DType::Q6_K};

// The SIMD levels this CPU can run (always includes the scalar reference).
inline std::vector<SimdIsa> supported_isas() {
  std::vector<SimdIsa> isas;
  for (SimdIsa isa : {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512})
    if (cpu_supports(isa)) isas.push_back(isa);
  return isas;
}

}  // namespace pareto::test
