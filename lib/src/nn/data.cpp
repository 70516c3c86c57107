#include "twofour/nn/data.hpp"

#include "twofour/io/idx.hpp"

#include <algorithm>

namespace twofour::nn {
namespace {

std::filesystem::path find_file(const std::filesystem::path& dir, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    const auto p = dir / (stem + suffix);
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  throw DataMissing("Fashion-MNIST file " + (dir / (stem + ".gz")).string() +
                    " not found: install the Debian package " + kFashionMnistPackage +
                    " (apt-get install " + kFashionMnistPackage + ") or pass --data DIR");
}

}  // namespace

Dataset load_fashion_mnist(const std::filesystem::path& dir, bool train, std::size_t limit) {
  const std::string prefix = train ? "train" : "t10k";
  const auto images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const auto labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  const io::Array images = io::read_idx(images_path);
  const io::Array labels = io::read_idx(labels_path);
  if (images.dtype != io::DType::u8 || images.shape.size() != 3)
    throw io::FormatError(images_path.string() + ": expected u8 images of rank 3 (count, rows, cols)");
  if (labels.dtype != io::DType::u8 || labels.shape.size() != 1)
    throw io::FormatError(labels_path.string() + ": expected u8 labels of rank 1");
  if (images.shape[0] != labels.shape[0])
    throw io::FormatError(images_path.string() + ": " + std::to_string(images.shape[0]) + " images but " +
                          labels_path.string() + " has " + std::to_string(labels.shape[0]) + " labels");
  Dataset d;
  d.rows = images.shape[1];
  d.cols = images.shape[2];
  const std::size_t count = limit > 0 ? std::min(limit, images.shape[0]) : images.shape[0];
  const std::size_t pixels = d.rows * d.cols;
  d.labels.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto label = static_cast<std::uint8_t>(labels.data[i]);
    if (label >= 10)
      throw io::FormatError(labels_path.string() + ": label " + std::to_string(label) + " of example " +
                            std::to_string(i) + " is not a class 0..9");
    d.labels[i] = label;
  }
  d.images.resize(count * pixels);
  for (std::size_t i = 0; i < count * pixels; ++i)
    d.images[i] = (static_cast<float>(static_cast<std::uint8_t>(images.data[i])) / 255.0f - kFashionMean) / kFashionStd;
  return d;
}

Tensor make_batch(const Dataset& data, std::span<const std::size_t> indices, std::span<const std::size_t> image_shape) {
  std::vector<std::size_t> shape{indices.size()};
  shape.insert(shape.end(), image_shape.begin(), image_shape.end());
  Tensor t(shape);
  const std::size_t pixels = data.rows * data.cols;
  if (t.numel() != indices.size() * pixels) throw std::invalid_argument("make_batch: image shape does not match the data");
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::copy_n(data.images.data() + indices[i] * pixels, pixels, t.data.data() + i * pixels);
  return t;
}

}  // namespace twofour::nn
