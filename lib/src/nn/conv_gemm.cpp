#include "twofour/nn/conv_gemm.hpp"

#include <stdexcept>

namespace twofour::nn {

namespace {

// (K, C, RS) <-> (K, RS, C): element (k, c, rs) sits at (k*C + c)*RS + rs in one order and at
// (k*RS + rs)*C + c in the other.
std::vector<float> move_channel(std::span<const float> w, std::span<const std::size_t> shape, bool innermost) {
  if (shape.size() != 4) return {w.begin(), w.end()};
  const std::size_t K = shape[0], C = shape[1], RS = shape[2] * shape[3];
  std::vector<float> out(w.size());
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t rs = 0; rs < RS; ++rs) {
        const std::size_t kcrs = (k * C + c) * RS + rs, krsc = (k * RS + rs) * C + c;
        if (innermost) out[krsc] = w[kcrs];
        else out[kcrs] = w[krsc];
      }
  return out;
}

}  // namespace

std::vector<float> to_krsc(std::span<const float> w, std::span<const std::size_t> shape) { return move_channel(w, shape, true); }
std::vector<float> from_krsc(std::span<const float> w, std::span<const std::size_t> shape) { return move_channel(w, shape, false); }

std::vector<float> conv_patches(const Conv2d& conv, const Tensor& x, PatchLayout layout, std::size_t& oh,
                                std::size_t& ow) {
  if (x.rank() != 4 || x.dim(1) != conv.in_c)
    throw std::invalid_argument(conv.name + ": input " + x.shape_string() + " has the wrong shape");
  const std::size_t n = x.dim(0), c = conv.in_c, h = x.dim(2), w = x.dim(3), kk = conv.k;
  oh = (h + 2 * conv.pad - kk) / conv.stride + 1;
  ow = (w + 2 * conv.pad - kk) / conv.stride + 1;
  const std::size_t samples = n * oh * ow, features = kk * kk * c;
  std::vector<float> out(samples * features, 0.0f);
  for (std::size_t img = 0; img < n; ++img)
    for (std::size_t y = 0; y < oh; ++y)
      for (std::size_t xo = 0; xo < ow; ++xo) {
        const std::size_t sample = (img * oh + y) * ow + xo;
        for (std::size_t r = 0; r < kk; ++r) {
          const std::size_t iy = y * conv.stride + r;
          if (iy < conv.pad || iy - conv.pad >= h) continue;
          for (std::size_t s = 0; s < kk; ++s) {
            const std::size_t ix = xo * conv.stride + s;
            if (ix < conv.pad || ix - conv.pad >= w) continue;
            for (std::size_t ci = 0; ci < c; ++ci) {
              const std::size_t feature = (r * kk + s) * c + ci;
              out[layout == PatchLayout::rows ? sample * features + feature : feature * samples + sample] =
                  x.data[((img * c + ci) * h + (iy - conv.pad)) * w + (ix - conv.pad)];
            }
          }
        }
      }
  return out;
}

}  // namespace twofour::nn
