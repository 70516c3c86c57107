#include "twofour/prune/sparsegpt.hpp"

#include "twofour/prune/finite.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <stdexcept>
#include <string>

namespace twofour::prune {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Eigen::Index;

Index idx(std::size_t v) { return static_cast<Index>(v); }

void check_inputs(std::span<const float> weights, std::span<const std::size_t> shape, const SparseGPTOptions& o) {
  sparse::validate(o.pattern);
  if (shape.size() != 2)
    throw std::invalid_argument("sparsegpt prunes Linear weights (out, in); got shape " + sparse::shape_string(shape));
  if (shape[0] == 0 || shape[1] == 0 || weights.size() != shape[0] * shape[1])
    throw std::invalid_argument("sparsegpt: " + std::to_string(weights.size()) + " weights for shape " +
                                sparse::shape_string(shape));
  const auto m = static_cast<std::size_t>(o.pattern.m);
  if (shape[1] % m != 0)
    throw std::invalid_argument("sparsegpt: input channels (" + std::to_string(shape[1]) + ") are not a multiple of M = " +
                                std::to_string(m));
  if (o.block_size == 0 || o.block_size % m != 0)
    throw std::invalid_argument("sparsegpt: block size " + std::to_string(o.block_size) +
                                " must be a positive multiple of M = " + std::to_string(m));
  if (!(o.damping >= 0.0) || !std::isfinite(o.damping))
    throw std::invalid_argument("sparsegpt: damping must be a finite number >= 0");
  require_finite_weights(weights, shape);
}

}  // namespace

std::vector<double> sparsegpt_hessian(const Activations& x) {
  validate_activations(x, x.features, "calibration activations");
  RowMatrix xs(idx(x.samples), idx(x.features));
  for (std::size_t i = 0; i < x.values.size(); ++i) xs.data()[i] = static_cast<double>(x.values[i]);
  RowMatrix h(idx(x.features), idx(x.features));
  h.setZero();
  h.selfadjointView<Eigen::Lower>().rankUpdate(xs.transpose(), 2.0 / static_cast<double>(x.samples));
  h.triangularView<Eigen::StrictlyUpper>() = h.transpose();
  return {h.data(), h.data() + h.size()};
}

SparseGPTResult sparsegpt_prune(std::span<const float> weights, std::span<const std::size_t> shape,
                                const Activations& calibration, const SparseGPTOptions& options) {
  check_inputs(weights, shape, options);
  validate_activations(calibration, shape[1], "calibration activations");
  const std::vector<double> h = sparsegpt_hessian(calibration);
  return sparsegpt_prune_hessian(weights, shape, h, options);
}

SparseGPTResult sparsegpt_prune_hessian(std::span<const float> weights, std::span<const std::size_t> shape,
                                        std::span<const double> hessian, const SparseGPTOptions& options) {
  check_inputs(weights, shape, options);
  const std::size_t rows = shape[0], cols = shape[1];
  if (hessian.size() != cols * cols)
    throw std::invalid_argument("sparsegpt: Hessian has " + std::to_string(hessian.size()) + " entries, " +
                                std::to_string(cols) + " input channels need " + std::to_string(cols * cols));
  for (std::size_t i = 0; i < hessian.size(); ++i)
    if (!std::isfinite(hessian[i])) throw std::invalid_argument("sparsegpt: Hessian entry " + std::to_string(i) + " is not finite");

  RowMatrix w(idx(rows), idx(cols));
  for (std::size_t i = 0; i < weights.size(); ++i) w.data()[i] = static_cast<double>(weights[i]);
  RowMatrix h = Eigen::Map<const RowMatrix>(hessian.data(), idx(cols), idx(cols));

  // Dead inputs (never active in the calibration set): the reference code sets H_cc = 1 and
  // zeroes the column, so the factorisation exists and the column's weights carry no error.
  for (Index c = 0; c < idx(cols); ++c)
    if (h(c, c) == 0.0) {
      h(c, c) = 1.0;
      w.col(c).setZero();
    }
  const double damp = options.damping * h.diagonal().mean();
  h.diagonal().array() += damp;

  // U = upper Cholesky factor of H^-1, so that row c of U restricted to columns >= c is the OBS
  // update direction once columns < c are fixed (SparseGPT §3, "Hessian synchronization").
  Eigen::LLT<RowMatrix> llt_h(h);
  if (llt_h.info() != Eigen::Success)
    throw std::invalid_argument("sparsegpt: the damped Hessian is not positive definite (increase damping or add "
                                "calibration samples)");
  const RowMatrix hinv = llt_h.solve(RowMatrix::Identity(idx(cols), idx(cols)));
  Eigen::LLT<RowMatrix> llt_inv(hinv);
  if (llt_inv.info() != Eigen::Success)
    throw std::invalid_argument("sparsegpt: the inverse Hessian is numerically not positive definite (increase damping)");
  const RowMatrix u = llt_inv.matrixU();

  const std::size_t m = static_cast<std::size_t>(options.pattern.m);
  const sparse::GroupedShape group_shape(std::vector<std::size_t>{rows, m});
  SparseGPTResult result;
  result.mask.assign(rows * cols, 0);
  std::vector<float> scores(rows * m);

  for (std::size_t b1 = 0; b1 < cols; b1 += options.block_size) {
    const std::size_t b2 = std::min(cols, b1 + options.block_size);
    const Index count = idx(b2 - b1);
    RowMatrix w1 = w.middleCols(idx(b1), count);
    RowMatrix err(idx(rows), count);
    for (Index i = 0; i < count; ++i) {
      const std::size_t c = b1 + static_cast<std::size_t>(i);
      if ((c - b1) % m == 0) {
        // Keep the N largest w^2 / U_cc^2 of this group, with the already-updated weights.
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t t = 0; t < m; ++t) {
            const double d = u(idx(c + t), idx(c + t));
            const double v = w1(idx(r), i + idx(t));
            scores[r * m + t] = static_cast<float>(v * v / (d * d));
          }
        const sparse::Mask group = sparse::nm_mask(scores, group_shape, options.pattern);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t t = 0; t < m; ++t) result.mask[r * cols + c + t] = group[r * m + t];
      }
      const double d = u(idx(c), idx(c));
      for (std::size_t r = 0; r < rows; ++r) {
        const double wv = w1(idx(r), i);
        const double q = result.mask[r * cols + c] != 0 ? wv : 0.0;
        err(idx(r), i) = (wv - q) / d;
      }
      // OBS: remove column i's error from the rest of the block (column i itself becomes q).
      w1.rightCols(count - i).noalias() -= err.col(i) * u.row(idx(c)).segment(idx(c), count - i);
    }
    w.middleCols(idx(b1), count) = w1;
    if (b2 < cols)
      w.rightCols(idx(cols - b2)).noalias() -= err * u.block(idx(b1), idx(b2), count, idx(cols - b2));
  }

  result.weights.resize(rows * cols);
  for (std::size_t i = 0; i < result.weights.size(); ++i)
    result.weights[i] = result.mask[i] != 0 ? static_cast<float>(w.data()[i]) : 0.0f;
  return result;
}

}  // namespace twofour::prune
