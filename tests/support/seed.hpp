#pragma once
// Fixed, printed seeds for randomized tests; TWOFOUR_SEED overrides, TWOFOUR_EXHAUSTIVE=1 opts in
// to the long sweeps.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace twofour::testing {

inline std::uint64_t test_seed(const char* test_name, std::uint64_t fallback) {
  std::uint64_t seed = fallback;
  if (const char* env = std::getenv("TWOFOUR_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 0);
  }
  std::printf("[ seed     ] %s: %llu (set TWOFOUR_SEED to override)\n", test_name,
              static_cast<unsigned long long>(seed));
  return seed;
}

inline bool exhaustive_requested() {
  const char* env = std::getenv("TWOFOUR_EXHAUSTIVE");
  return env != nullptr && std::string(env) == "1";
}

inline bool sanitizer_build() {
  const char* env = std::getenv("TWOFOUR_SANITIZER_BUILD");
  return env != nullptr && std::string(env) == "1";
}

}  // namespace twofour::testing
