// SparseExecutionScope (sparse_layers.hpp) and the compressed-weight helpers the sparse layers
// share (sparse_weights.hpp).
#include "twofour/nn/sparse_layers.hpp"

#include "conv_chunks.hpp"
#include "sparse_layer_impl.hpp"

#include <algorithm>

#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <memory>

namespace twofour::nn {

namespace detail {

// Runs under OpenMP on large layers (element-wise, each slot its own position: the same bits).

void Compressed24::scatter_add(const float* compressed, float* dense) const {
#pragma omp parallel for schedule(static) if (pos_.size() >= kMinParallelWork)
  for (std::size_t i = 0; i < pos_.size(); ++i)
    if (pos_[i] != kFiller) dense[pos_[i]] += compressed[i];
}

void Compressed24::decompress(const float* weights, std::vector<float>& dense) const {
  dense.assign(rows_ * cols_, 0.0f);
  const std::size_t mw = sparse::meta_words_per_row(cols_);
  for (std::size_t r = 0; r < rows_; ++r)
    for (std::size_t g = 0; g < cols_ / 4; ++g) {
      const unsigned nib = sparse::meta_nibble(meta_.data() + r * mw, g);
      const std::size_t s = r * cols_ / 2 + 2 * g;
      const unsigned idx[2] = {sparse::nibble_idx0(nib), sparse::nibble_idx1(nib)};
      for (std::size_t j = 0; j < 2; ++j)
        if (pos_[s + j] != kFiller) dense[r * cols_ + 4 * g + idx[j]] = weights[pos_[s + j]];
    }
}

namespace {

// One 4 x 4 block in registers (baseline SSE on x86-64): four loads, the shuffle network, four
// stores, against sixteen scalar loads and stores (the scalar transpose was 7% of an MLP
// retraining step).
inline void transpose4(const float* src, std::size_t lds, float* dst, std::size_t ldd) {
#if defined(__SSE2__)
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + lds), r2 = _mm_loadu_ps(src + 2 * lds),
         r3 = _mm_loadu_ps(src + 3 * lds);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + ldd, r1);
  _mm_storeu_ps(dst + 2 * ldd, r2);
  _mm_storeu_ps(dst + 3 * ldd, r3);
#else
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t r = 0; r < 4; ++r) dst[c * ldd + r] = src[r * lds + c];
#endif
}

}  // namespace

void transpose(const float* src, std::size_t rows, std::size_t cols, float* dst) {
  constexpr std::size_t kTile = 16;  // a 16 x 16 tile of floats: 16 cache lines each way
  const std::size_t row_tiles = (rows + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelWork)
  for (std::size_t t = 0; t < row_tiles; ++t) {
    const std::size_t r0 = t * kTile, r1 = std::min(rows, r0 + kTile);
    for (std::size_t c0 = 0; c0 < cols; c0 += kTile) {
      const std::size_t c1 = std::min(cols, c0 + kTile);
      const std::size_t r4 = r0 + (r1 - r0) / 4 * 4, c4 = c0 + (c1 - c0) / 4 * 4;
      for (std::size_t r = r0; r < r4; r += 4)
        for (std::size_t c = c0; c < c4; c += 4) transpose4(src + r * cols + c, cols, dst + c * rows + r, rows);
      // Edges of the tile (fewer than 4 rows or columns left).
      for (std::size_t c = c4; c < c1; ++c)
        for (std::size_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
      for (std::size_t c = c0; c < c4; ++c)
        for (std::size_t r = r4; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
    }
  }
}

}  // namespace detail

SparseExecutionScope::SparseExecutionScope(Model& model, SparseWeightGrad weight_grad) : weight_grad_(weight_grad) {
  for (auto& layer : model.net.layers) {
    if (auto* lin = dynamic_cast<Linear*>(layer.get()); lin != nullptr && lin->weight.prunable) {
      lin->sparse = std::make_shared<SparseLinear>(weight_grad);
      layers_.push_back(lin);
    } else if (auto* conv = dynamic_cast<Conv2d*>(layer.get()); conv != nullptr && conv->weight.prunable) {
      conv->sparse = std::make_shared<SparseConv>(weight_grad);
      layers_.push_back(conv);
    }
  }
}

SparseExecutionScope::~SparseExecutionScope() {
  for (auto* layer : layers_) {
    if (auto* lin = dynamic_cast<Linear*>(layer)) lin->sparse.reset();
    if (auto* conv = dynamic_cast<Conv2d*>(layer)) conv->sparse.reset();
  }
}

std::vector<SparseLayerStatus> SparseExecutionScope::status() const {
  std::vector<SparseLayerStatus> out;
  for (const auto* layer : layers_) {
    if (const auto* lin = dynamic_cast<const Linear*>(layer)) out.push_back(lin->sparse->status(*lin));
    if (const auto* conv = dynamic_cast<const Conv2d*>(layer)) out.push_back(conv->sparse->status(*conv));
  }
  return out;
}

std::string SparseExecutionScope::describe() const {
  const std::string dw = weight_grad_ == SparseWeightGrad::kept_only ? "dW at kept weights" : "dW dense (straight-through)";
  std::string line = "2:4 kernels:";
  bool first = true;
  for (const auto& s : status()) {
    line += first ? " " : ", ";
    first = false;
    line += s.layer + (s.sparse_forward ? " (forward 2:4, " + dw +
                                              (s.sparse_input_grad ? ", dX 2:4: mask transposable)"
                                                                   : ", dX dense: mask not transposable)")
                                        : " (dense: no 2:4 mask, or a batch of <= 16)");
  }
  if (first) line += " none (no 2:4 target)";
  return line;
}

}  // namespace twofour::nn
