#pragma once
// Test data for the training tests: a synthetic 10-class 28x28 set (a class-specific bright bar
// plus noise; learnable in one epoch) and Fashion-MNIST when the Debian package is installed.
#include "twofour/nn/data.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

namespace twofour::testing {

inline nn::Dataset synthetic_dataset(std::size_t count, std::uint64_t seed) {
  nn::Dataset d;
  d.rows = d.cols = 28;
  nn::Rng rng(seed);
  d.labels.resize(count);
  d.images.resize(count * 784);
  for (std::size_t i = 0; i < count; ++i) {
    const auto label = static_cast<std::uint8_t>(rng.below(10));
    d.labels[i] = label;
    float* img = d.images.data() + i * 784;
    for (std::size_t p = 0; p < 784; ++p) img[p] = static_cast<float>(0.3 * rng.normal());
    // Class c: a vertical bar at column 2 + 2.5c, rows 4..23.
    const std::size_t col = 2 + (label * 5) / 2;
    for (std::size_t r = 4; r < 24; ++r) img[r * 28 + col] += 2.0f;
  }
  return d;
}

// The Fashion-MNIST folder (TWOFOUR_FASHION_MNIST_DIR overrides), or empty when absent.
inline std::filesystem::path fashion_mnist_dir() {
  std::filesystem::path dir = nn::kFashionMnistDir;
  if (const char* env = std::getenv("TWOFOUR_FASHION_MNIST_DIR"); env != nullptr && *env != '\0') dir = env;
  std::error_code ec;
  if (!std::filesystem::exists(dir / "train-images-idx3-ubyte.gz", ec) &&
      !std::filesystem::exists(dir / "train-images-idx3-ubyte", ec))
    return {};
  return dir;
}

inline std::string fashion_missing_message() {
  return std::string("Fashion-MNIST not installed (Debian package ") + nn::kFashionMnistPackage + ", under " +
         nn::kFashionMnistDir + "); skipping";
}

}  // namespace twofour::testing
