#pragma once
// SparseGPT for N:M (Frantar & Alistarh, "SparseGPT: Massive Language Models Can Be Accurately
// Pruned in One-Shot", ICML 2023, arXiv 2301.00774; reference code sparsegpt.py, `prunen/prunem`):
//   1. H = 2 X^T X / n over n calibration samples (X as (samples, in)); a column whose input is
//      always zero (H_cc = 0) gets H_cc = 1 and its weights set to 0, as in the reference code;
//   2. damping: H += lambda * mean(diag H) * I, lambda = 1% by default;
//   3. U = the upper Cholesky factor of H^-1 (H^-1 = U^T U);
//   4. columns are processed left to right in blocks of B (default 128). At every column c with
//      c % M == 0, each row chooses which N of the columns c..c+M-1 to KEEP: the N largest
//      w^2 / U_cc^2 (the OBS saliency with the current, already updated weights), i.e. the M-N
//      smallest are pruned. Selection reuses sparse::nm_mask, so ties follow the library rule;
//   5. OBS update, column by column: err = (w_c - q_c) / U_cc with q_c = w_c or 0, then
//      W[:, c+1 .. block end] -= err * U[c, c+1 .. block end]; after the block the accumulated
//      errors update the later columns at once: W[:, end:] -= Err * U[block, end:].
// The kept weights therefore change so that W' X stays close to W X; it is the only criterion
// here that reduces reconstruction error rather than only choosing a mask.
// Data needed: calibration activations (samples, in) (or a Hessian). Linear weights (out, in) only.
// Cost: O(in^3) for the Cholesky factors plus O(out * in^2) for the updates.
#include "twofour/prune/metrics.hpp"
#include "twofour/sparse/mask.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace twofour::prune {

struct SparseGPTOptions {
  sparse::NMPattern pattern{2, 4};  // N kept of every M (the reference code's prunen = M - N)
  std::size_t block_size = 128;     // a multiple of M
  double damping = 0.01;            // fraction of the mean of diag(H)
};

struct SparseGPTResult {
  sparse::Mask mask;           // 1 = kept, N:M along input channels
  std::vector<float> weights;  // the updated weights, exactly 0 where mask == 0
};

// H = 2 X^T X / samples, (in x in) row-major, in double. Validates the activations.
std::vector<double> sparsegpt_hessian(const Activations& x);

// Prunes a Linear weight (shape (out, in), C order). Throws std::invalid_argument for another
// rank, in % M != 0, block_size % M != 0 or 0, damping < 0, a non-finite weight, activations of
// the wrong width or holding NaN/inf, or a Hessian that is not positive definite after damping.
SparseGPTResult sparsegpt_prune(std::span<const float> weights, std::span<const std::size_t> shape,
                                const Activations& calibration, const SparseGPTOptions& options = {});
// Same from a Hessian (in x in, row-major), e.g. accumulated over several batches by the caller.
SparseGPTResult sparsegpt_prune_hessian(std::span<const float> weights, std::span<const std::size_t> shape,
                                        std::span<const double> hessian, const SparseGPTOptions& options = {});

}  // namespace twofour::prune
