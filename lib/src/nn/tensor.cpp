#include "twofour/nn/tensor.hpp"

#include <cmath>
#include <mutex>
#include <numbers>

#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#endif

namespace twofour::nn {

Tensor::Tensor(std::vector<std::size_t> s, float fill) : shape(std::move(s)) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  data.assign(n, fill);
}

void retain_freed_memory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    // Blocks up to 1 GiB come from the heap, and the heap is never trimmed below 1 GiB of free top.
    constexpr int kThreshold = 1 << 30;
    mallopt(M_MMAP_THRESHOLD, kThreshold);
    mallopt(M_TRIM_THRESHOLD, kThreshold);
    // Transparent huge pages for that heap, where the system grants them on request (THP mode
    // "madvise", Debian's default; "always" needs nothing and "never" ignores the request): a block
    // reserved at the heap's top is marked MADV_HUGEPAGE and freed into the top chunk, which the
    // tensors are then carved from, faulting 2 MiB pages (address space only until touched). With
    // 4 KiB pages an MLP epoch ran 5% (dense) and 14% (2:4 retraining) slower and fell more often
    // into a slow speed from one repetition to the next (docs/training.md, "Speed").
    constexpr std::size_t kReserve = std::size_t{512} << 20, kHuge = std::size_t{2} << 20;
    if (void* block = std::malloc(kReserve); block != nullptr) {
      const auto begin = (reinterpret_cast<std::uintptr_t>(block) + kHuge - 1) / kHuge * kHuge;
      const auto end = (reinterpret_cast<std::uintptr_t>(block) + kReserve) / kHuge * kHuge;
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // best effort
      std::free(block);
    }
  });
#endif
}

std::string Tensor::shape_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  // xoshiro256** (Blackman & Vigna).
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Rejection sampling (Lemire's threshold) so every value is equally likely.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index) {
  std::uint64_t x = seed;
  std::uint64_t h = splitmix64(x);
  x = h ^ (purpose * 0xd1b54a32d192ed03ULL);
  h = splitmix64(x);
  x = h ^ (index * 0x8cb92ba72f3d8dd7ULL);
  return splitmix64(x);
}

}  // namespace twofour::nn
