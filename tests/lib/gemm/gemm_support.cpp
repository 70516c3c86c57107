#include "lib/gemm/gemm_support.hpp"

#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/rounding.hpp"

namespace twofour::testing {
namespace {

std::uint16_t random_half(std::mt19937_64& rng, gemm::HalfType type) {
  const auto& fmt = type == gemm::HalfType::fp16 ? sim::spec::fp16 : sim::spec::bf16;
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  const unsigned pick = static_cast<unsigned>(rng() % 32);
  if (pick == 0) return 0;
  if (pick == 1) return static_cast<std::uint16_t>(1 + rng() % 0x3ff);  // subnormal
  return static_cast<std::uint16_t>(sim::spec::encode(fmt, u(rng)));
}

}  // namespace

std::vector<std::uint16_t> random_metadata(std::mt19937_64& rng, std::size_t rows, std::size_t k) {
  static constexpr unsigned kPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  const std::size_t mw = sparse::meta_words_per_row(k);
  std::vector<std::uint16_t> meta(rows * mw);
  for (auto& w : meta) w = static_cast<std::uint16_t>(rng());  // garbage in unused nibbles
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g = 0; g < k / 4; ++g) {
      const auto& p = kPairs[rng() % 6];
      std::uint16_t& w = meta[r * mw + g / 4];
      const unsigned shift = static_cast<unsigned>(4 * (g % 4));
      w = static_cast<std::uint16_t>((w & ~(0xfu << shift)) | (sparse::make_nibble(p[0], p[1]) << shift));
    }
  }
  return meta;
}

std::vector<float> random_dense_fp32(std::mt19937_64& rng, std::size_t count) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = u(rng);
  return v;
}

std::vector<std::uint16_t> random_dense_half(std::mt19937_64& rng, std::size_t count, gemm::HalfType type) {
  std::vector<std::uint16_t> v(count);
  for (auto& x : v) x = random_half(rng, type);
  return v;
}

Random24<float> random_24_fp32(std::mt19937_64& rng, std::size_t rows, std::size_t k) {
  Random24<float> a;
  a.rows = rows;
  a.cols = k;
  a.values = random_dense_fp32(rng, rows * (k / 2));
  a.meta = random_metadata(rng, rows, k);
  return a;
}

Random24<std::uint16_t> random_24_half(std::mt19937_64& rng, std::size_t rows, std::size_t k, gemm::HalfType type) {
  Random24<std::uint16_t> a;
  a.rows = rows;
  a.cols = k;
  a.values = random_dense_half(rng, rows * (k / 2), type);
  a.meta = random_metadata(rng, rows, k);
  return a;
}

}  // namespace twofour::testing
