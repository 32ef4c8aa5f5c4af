// The sampler's random numbers. std::mt19937_64's seeding and output sequence are fixed by the
// C++ standard, and the float conversion below uses only exact integer-to-double arithmetic,
// so a seed gives the same draws with every compiler, standard library and CPU
// (std::uniform_real_distribution's algorithm is implementation-defined, hence not used).
#pragma once

#include <cstdint>
#include <random>

namespace pareto {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t next_u64() { return engine_(); }

  // Uniform in [0, 1): the top 53 bits of one draw scaled by 2^-53, every value exact in double.
  double next_double() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

// A nondeterministic 64-bit seed for requests that did not ask for one.
inline uint64_t random_seed() {
  std::random_device device;
  uint64_t seed = 0;
  // random_device yields unsigned int, which may be only 32 bits wide.
  for (int i = 0; i < 2; ++i) seed = (seed << 32) ^ static_cast<uint64_t>(device());
  return seed;
}

}  // namespace pareto
