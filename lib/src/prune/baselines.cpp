#include "twofour/prune/baselines.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace twofour::prune {
namespace {

float key(float s) { return std::isnan(s) ? std::numeric_limits<float>::infinity() : s; }

std::size_t pruned_count(double sparsity, std::size_t count) {
  if (!(sparsity >= 0.0 && sparsity <= 1.0))
    throw std::invalid_argument("sparsity " + std::to_string(sparsity) + " is not in [0, 1]");
  const auto n = static_cast<std::size_t>(std::floor(sparsity * static_cast<double>(count) + 0.5));
  return std::min(n, count);
}

// Indices of the `keep` highest scores (ties: lower index first).
std::vector<std::size_t> top(std::span<const double> scores, std::size_t keep) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] != scores[b] ? scores[a] > scores[b] : a < b; });
  order.resize(keep);
  return order;
}

std::vector<double> widen(std::span<const float> s) {
  std::vector<double> d(s.size());
  std::transform(s.begin(), s.end(), d.begin(), [](float x) { return static_cast<double>(key(x)); });
  return d;
}

}  // namespace

Mask unstructured_mask(std::span<const float> scores, double sparsity) {
  const auto d = widen(scores);
  Mask mask(scores.size(), 0);
  for (std::size_t i : top(d, scores.size() - pruned_count(sparsity, scores.size()))) mask[i] = 1;
  return mask;
}

Mask per_row_unstructured_mask(std::span<const float> scores, const GroupedShape& shape, double sparsity) {
  if (scores.size() != shape.numel()) throw std::invalid_argument("per_row_unstructured_mask: size mismatch");
  Mask mask(scores.size(), 0);
  const std::size_t keep = shape.cols() - pruned_count(sparsity, shape.cols());
  std::vector<double> row(shape.cols());
  for (std::size_t r = 0; r < shape.rows(); ++r) {
    for (std::size_t c = 0; c < shape.cols(); ++c) row[c] = static_cast<double>(key(scores[shape.offset(r, c)]));
    for (std::size_t c : top(row, keep)) mask[shape.offset(r, c)] = 1;
  }
  return mask;
}

std::vector<Mask> global_unstructured_masks(std::span<const std::span<const float>> layers, double sparsity) {
  std::vector<double> all;
  for (auto layer : layers)
    for (float s : layer) all.push_back(static_cast<double>(key(s)));
  Mask flat(all.size(), 0);
  for (std::size_t i : top(all, all.size() - pruned_count(sparsity, all.size()))) flat[i] = 1;
  std::vector<Mask> out;
  std::size_t at = 0;
  for (auto layer : layers) {
    out.emplace_back(flat.begin() + static_cast<std::ptrdiff_t>(at),
                     flat.begin() + static_cast<std::ptrdiff_t>(at + layer.size()));
    at += layer.size();
  }
  return out;
}

Mask block_mask(std::span<const float> scores, const GroupedShape& shape, std::size_t block_rows,
                std::size_t block_cols, double sparsity) {
  if (scores.size() != shape.numel()) throw std::invalid_argument("block_mask: size mismatch");
  if (block_rows == 0 || block_cols == 0 || shape.rows() % block_rows != 0 || shape.cols() % block_cols != 0 ||
      (block_rows > 1 && shape.out() % block_rows != 0))
    throw std::invalid_argument("blocks of " + std::to_string(block_rows) + "x" + std::to_string(block_cols) +
                                " do not tile the grouped view of shape " + sparse::shape_string(shape.shape()));
  const std::size_t br = shape.rows() / block_rows, bc = shape.cols() / block_cols;
  std::vector<double> block_scores(br * bc, 0.0);
  for (std::size_t r = 0; r < shape.rows(); ++r)
    for (std::size_t c = 0; c < shape.cols(); ++c)
      block_scores[(r / block_rows) * bc + c / block_cols] += static_cast<double>(key(scores[shape.offset(r, c)]));
  Mask mask(scores.size(), 0);
  for (std::size_t b : top(block_scores, block_scores.size() - pruned_count(sparsity, block_scores.size()))) {
    const std::size_t r0 = (b / bc) * block_rows, c0 = (b % bc) * block_cols;
    for (std::size_t r = r0; r < r0 + block_rows; ++r)
      for (std::size_t c = c0; c < c0 + block_cols; ++c) mask[shape.offset(r, c)] = 1;
  }
  return mask;
}

Mask channel_mask(std::span<const float> scores, const GroupedShape& shape, ChannelAxis axis, double sparsity) {
  if (scores.size() != shape.numel()) throw std::invalid_argument("channel_mask: size mismatch");
  const std::size_t channels = axis == ChannelAxis::output ? shape.out() : shape.in();
  std::vector<double> ch(channels, 0.0);
  for (std::size_t r = 0; r < shape.rows(); ++r)
    for (std::size_t c = 0; c < shape.cols(); ++c)
      ch[axis == ChannelAxis::output ? r % shape.out() : c] += static_cast<double>(key(scores[shape.offset(r, c)]));
  std::vector<std::uint8_t> keep(channels, 0);
  for (std::size_t i : top(ch, channels - pruned_count(sparsity, channels))) keep[i] = 1;
  Mask mask(scores.size(), 0);
  for (std::size_t r = 0; r < shape.rows(); ++r)
    for (std::size_t c = 0; c < shape.cols(); ++c)
      mask[shape.offset(r, c)] = keep[axis == ChannelAxis::output ? r % shape.out() : c];
  return mask;
}

}  // namespace twofour::prune
