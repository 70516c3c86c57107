#pragma once
// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60000 training and 10000 test 28x28 grey images,
// 10 classes, as IDX files. Debian's package dataset-fashion-mnist installs them gzip'd under
// /usr/share/datasets/fashion-mnist/.
#include "twofour/nn/tensor.hpp"

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::nn {

inline constexpr const char* kFashionMnistPackage = "dataset-fashion-mnist";
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The data files are absent; the message names the folder, the file and the package to install.
struct DataMissing : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Dataset {
  std::size_t rows = 0, cols = 0;
  std::vector<float> images;          // count * rows * cols, normalised (x/255 - mean) / std
  std::vector<std::uint8_t> labels;   // count, each in [0, 10)
  std::size_t size() const { return labels.size(); }
};

// Per-pixel normalisation constants of the Fashion-MNIST training set (x in [0, 1]).
inline constexpr float kFashionMean = 0.2860f, kFashionStd = 0.3530f;

// Loads `train-*` (train = true) or `t10k-*` files from `dir`, accepting both `.gz` and
// uncompressed names. `limit` > 0 keeps only the first `limit` examples. Throws DataMissing when
// a file is absent and io::FormatError when one is malformed or images and labels disagree.
Dataset load_fashion_mnist(const std::filesystem::path& dir, bool train, std::size_t limit = 0);

// Examples `indices` as a batch tensor: shape {n} + image_shape ({784} or {1, 28, 28}).
Tensor make_batch(const Dataset& data, std::span<const std::size_t> indices, std::span<const std::size_t> image_shape);

}  // namespace twofour::nn
