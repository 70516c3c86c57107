#include "twofour/nn/conv_gemm.hpp"

#include <algorithm>
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

// The output columns xo whose input column xo * stride + s - pad lies inside the image: one
// contiguous range [begin, end).
struct Span {
  std::size_t begin, end;
};
Span inside(std::size_t ow, std::size_t stride, std::size_t s, std::size_t pad, std::size_t w) {
  const std::size_t begin = s >= pad ? 0 : (pad - s + stride - 1) / stride;
  const std::size_t end = std::min(ow, pad + w <= s ? 0 : (pad + w - s + stride - 1) / stride);
  return {std::min(begin, end), end};
}

void check_input(const Conv2d& conv, const std::vector<std::size_t>& shape) {
  if (shape.size() != 4 || shape[1] != conv.in_c || shape[2] + 2 * conv.pad < conv.k || shape[3] + 2 * conv.pad < conv.k)
    throw std::invalid_argument(conv.name + ": input has the wrong shape");
}

}  // namespace

std::vector<float> to_krsc(std::span<const float> w, std::span<const std::size_t> shape) { return move_channel(w, shape, true); }
std::vector<float> from_krsc(std::span<const float> w, std::span<const std::size_t> shape) { return move_channel(w, shape, false); }

std::vector<float> conv_patches(const Conv2d& conv, const Tensor& x, PatchLayout layout, std::size_t& oh,
                                std::size_t& ow) {
  if (x.rank() != 4 || x.dim(1) != conv.in_c)
    throw std::invalid_argument(conv.name + ": input " + x.shape_string() + " has the wrong shape");
  const std::size_t n = x.dim(0), c = conv.in_c, h = x.dim(2), w = x.dim(3), kk = conv.k;
  if (layout == PatchLayout::columns) {
    std::vector<float> out;
    conv_patch_columns(conv, x, out, oh, ow);
    return out;
  }
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

void conv_patch_columns(const Conv2d& conv, const Tensor& x, std::vector<float>& out, std::size_t& oh,
                        std::size_t& ow) {
  check_input(conv, x.shape);
  const std::size_t n = x.dim(0), c = conv.in_c, h = x.dim(2), w = x.dim(3), kk = conv.k, st = conv.stride, pad = conv.pad;
  oh = (h + 2 * pad - kk) / st + 1;
  ow = (w + 2 * pad - kk) / st + 1;
  const std::size_t p = oh * ow, np = n * p;
  out.resize(kk * kk * c * np);  // every element is written below
#pragma omp parallel for schedule(static) if (out.size() >= (std::size_t{1} << 16))
  for (std::size_t img = 0; img < n; ++img)
    for (std::size_t ci = 0; ci < c; ++ci) {
      const float* plane = x.data.data() + (img * c + ci) * h * w;
      for (std::size_t r = 0; r < kk; ++r)
        for (std::size_t s = 0; s < kk; ++s) {
          float* dst = out.data() + ((r * kk + s) * c + ci) * np + img * p;
          const Span xs = inside(ow, st, s, pad, w);
          for (std::size_t y = 0; y < oh; ++y) {
            float* row = dst + y * ow;
            const std::size_t iy = y * st + r;  // padded coordinate
            if (iy < pad || iy - pad >= h) {
              std::fill(row, row + ow, 0.0f);
              continue;
            }
            const float* src = plane + (iy - pad) * w;
            std::fill(row, row + xs.begin, 0.0f);
            for (std::size_t xo = xs.begin; xo < xs.end; ++xo) row[xo] = src[xo * st + s - pad];
            std::fill(row + xs.end, row + ow, 0.0f);
          }
        }
    }
}

Tensor conv_patch_columns_backward(const Conv2d& conv, const std::vector<float>& columns,
                                   const std::vector<std::size_t>& shape) {
  check_input(conv, shape);
  const std::size_t n = shape[0], c = conv.in_c, h = shape[2], w = shape[3], kk = conv.k, st = conv.stride, pad = conv.pad;
  const std::size_t oh = (h + 2 * pad - kk) / st + 1, ow = (w + 2 * pad - kk) / st + 1;
  const std::size_t p = oh * ow, np = n * p;
  if (columns.size() != kk * kk * c * np) throw std::invalid_argument(conv.name + ": column gradient has the wrong size");
  Tensor dx(shape);
#pragma omp parallel for schedule(static) if (columns.size() >= (std::size_t{1} << 16))
  for (std::size_t img = 0; img < n; ++img)
    for (std::size_t ci = 0; ci < c; ++ci) {
      float* plane = dx.data.data() + (img * c + ci) * h * w;
      for (std::size_t r = 0; r < kk; ++r)
        for (std::size_t s = 0; s < kk; ++s) {
          const float* src = columns.data() + ((r * kk + s) * c + ci) * np + img * p;
          const Span xs = inside(ow, st, s, pad, w);
          for (std::size_t y = 0; y < oh; ++y) {
            const std::size_t iy = y * st + r;
            if (iy < pad || iy - pad >= h) continue;
            float* dst = plane + (iy - pad) * w;
            for (std::size_t xo = xs.begin; xo < xs.end; ++xo) dst[xo * st + s - pad] += src[y * ow + xo];
          }
        }
    }
  return dx;
}

}  // namespace twofour::nn
