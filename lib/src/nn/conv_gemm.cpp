#include "twofour/nn/conv_gemm.hpp"

#include <algorithm>
#include <cstddef>
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

// The output columns xo whose input column xo * stride + s (a padded coordinate) lies inside the
// image, pad <= xo * stride + s < pad + w: one contiguous range, so the im2col loops need no
// per-element test.
struct OutputSpan {
  std::size_t begin, end;
};

OutputSpan output_span(std::size_t ow, std::size_t stride, std::size_t s, std::size_t pad, std::size_t w) {
  const std::size_t begin = s >= pad ? 0 : (pad - s + stride - 1) / stride;
  const std::size_t end = std::min(ow, pad + w <= s ? 0 : (pad + w - s + stride - 1) / stride);
  return {std::min(begin, end), end};
}

// "Same" convolutions (stride 1, output as large as the input: the models' 3x3, padding 1): the
// im2col block of kernel tap (r, s) for one image is the input plane shifted by (r - pad, s - pad),
// zero where the shift leaves the plane, so it is one contiguous copy plus zeroed borders instead of
// a short copy per output row.
struct Shift {
  std::ptrdiff_t h, w, dy, dx;
  std::ptrdiff_t row_begin() const { return std::clamp<std::ptrdiff_t>(-dy, 0, h); }
  std::ptrdiff_t row_end() const { return std::clamp<std::ptrdiff_t>(h - dy, row_begin(), h); }
  std::ptrdiff_t col_begin() const { return std::clamp<std::ptrdiff_t>(-dx, 0, w); }
  std::ptrdiff_t col_end() const { return std::clamp<std::ptrdiff_t>(w - dx, col_begin(), w); }
};

// Zeros in the columns of rows [row_begin, row_end) whose source lies left or right of the plane.
// A column at a time down the rows: the runs are |dx| (here 1) long, and a fill per row became a
// library call per row that cost as much as the copy itself (perf, CNN training step).
void zero_columns(float* dst, const Shift& sh) {
  const auto column = [&](std::ptrdiff_t x) {
    for (std::ptrdiff_t y = sh.row_begin(); y < sh.row_end(); ++y) dst[y * sh.w + x] = 0.0f;
  };
  for (std::ptrdiff_t x = 0; x < sh.col_begin(); ++x) column(x);
  for (std::ptrdiff_t x = sh.col_end(); x < sh.w; ++x) column(x);
}

// dst[y, x] = plane[y + dy, x + dx], 0 outside the plane.
void shifted_copy(const float* plane, const Shift& sh, float* dst) {
  const std::ptrdiff_t p = sh.h * sh.w, offset = sh.dy * sh.w + sh.dx;
  const std::ptrdiff_t d0 = sh.row_begin() * sh.w, d1 = sh.row_end() * sh.w;
  const std::ptrdiff_t c0 = std::clamp<std::ptrdiff_t>(-offset, d0, d1), c1 = std::clamp<std::ptrdiff_t>(p - offset, c0, d1);
  std::fill(dst, dst + c0, 0.0f);
  std::copy(plane + c0 + offset, plane + c1 + offset, dst + c0);
  std::fill(dst + c1, dst + p, 0.0f);
  // Columns whose source lies left or right of the plane (the copy wrapped them to a neighbour row).
  zero_columns(dst, sh);
}

// plane[y + dy, x + dx] += src[y, x] where inside the plane. src's out-of-plane columns are set to
// 0 first, so the add can run over one contiguous range (they add +0 to a neighbour row).
void shifted_add(float* src, const Shift& sh, float* plane) {
  const std::ptrdiff_t y0 = sh.row_begin(), y1 = sh.row_end(), x0 = sh.col_begin(), x1 = sh.col_end();
  if (y0 >= y1 || x0 >= x1) return;
  zero_columns(src, sh);
  const std::ptrdiff_t offset = sh.dy * sh.w + sh.dx;  // i + offset stays inside the plane
  for (std::ptrdiff_t i = y0 * sh.w + x0; i < (y1 - 1) * sh.w + x1; ++i) plane[i + offset] += src[i];
}

// The geometry of one convolution over (h, w) planes, shared by the block builder and its adjoint.
struct Geometry {
  std::size_t c, k, stride, pad, h, w, oh, ow;
  Geometry(const Conv2d& conv, std::size_t h_, std::size_t w_)
      : c(conv.in_c), k(conv.k), stride(conv.stride), pad(conv.pad), h(h_), w(w_),
        oh((h_ + 2 * conv.pad - conv.k) / conv.stride + 1), ow((w_ + 2 * conv.pad - conv.k) / conv.stride + 1) {}
  std::size_t positions() const { return oh * ow; }
  bool same() const { return stride == 1 && oh == h && ow == w; }
  Shift shift(std::size_t r, std::size_t s) const {
    const auto p = static_cast<std::ptrdiff_t>(pad);
    return {static_cast<std::ptrdiff_t>(h), static_cast<std::ptrdiff_t>(w), static_cast<std::ptrdiff_t>(r) - p,
            static_cast<std::ptrdiff_t>(s) - p};
  }
  std::size_t row(PatchRows order, std::size_t ci, std::size_t r, std::size_t s) const {
    return order == PatchRows::crs ? (ci * k + r) * k + s : (r * k + s) * c + ci;
  }
};

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
  const std::size_t n = x.dim(0);
  const Geometry g(conv, x.dim(2), x.dim(3));
  oh = g.oh;
  ow = g.ow;
  const std::size_t p = g.positions(), np = n * p;
  out.resize(g.k * g.k * g.c * np);  // every element is written below
#pragma omp parallel for schedule(static) if (out.size() >= (std::size_t{1} << 16))
  for (std::size_t img = 0; img < n; ++img)
    conv_patch_block(conv, x.data.data(), img, 1, g.h, g.w, PatchRows::rsc, out.data() + img * p, np);
}

void conv_patch_block(const Conv2d& conv, const float* x, std::size_t first, std::size_t count, std::size_t h,
                      std::size_t w, PatchRows rows, float* out, std::size_t ld) {
  const Geometry g(conv, h, w);
  const std::size_t p = g.positions(), k = g.k;
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t ci = 0; ci < g.c; ++ci) {
      const float* plane = x + ((first + i) * g.c + ci) * h * w;
      for (std::size_t r = 0; r < k; ++r)
        for (std::size_t s = 0; s < k; ++s) {
          float* dst = out + g.row(rows, ci, r, s) * ld + i * p;
          if (g.same()) {
            shifted_copy(plane, g.shift(r, s), dst);
            continue;
          }
          const OutputSpan xs = output_span(g.ow, g.stride, s, g.pad, w);
          for (std::size_t y = 0; y < g.oh; ++y) {
            float* row = dst + y * g.ow;
            const std::size_t iy = y * g.stride + r;  // padded coordinate
            if (iy < g.pad || iy - g.pad >= h) {
              std::fill(row, row + g.ow, 0.0f);
              continue;
            }
            const float* src = plane + (iy - g.pad) * w;
            std::fill(row, row + xs.begin, 0.0f);
            for (std::size_t xo = xs.begin; xo < xs.end; ++xo) row[xo] = src[xo * g.stride + s - g.pad];
            std::fill(row + xs.end, row + g.ow, 0.0f);
          }
        }
    }
}

void conv_patch_block_backward(const Conv2d& conv, float* columns, std::size_t ld, std::size_t first,
                               std::size_t count, std::size_t h, std::size_t w, PatchRows rows, float* dx) {
  const Geometry g(conv, h, w);
  const std::size_t p = g.positions(), k = g.k;
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t ci = 0; ci < g.c; ++ci) {
      float* plane = dx + ((first + i) * g.c + ci) * h * w;
      for (std::size_t r = 0; r < k; ++r)
        for (std::size_t s = 0; s < k; ++s) {
          float* src = columns + g.row(rows, ci, r, s) * ld + i * p;
          if (g.same()) {
            shifted_add(src, g.shift(r, s), plane);
            continue;
          }
          const OutputSpan xs = output_span(g.ow, g.stride, s, g.pad, w);
          for (std::size_t y = 0; y < g.oh; ++y) {
            const std::size_t iy = y * g.stride + r;
            if (iy < g.pad || iy - g.pad >= h) continue;
            float* dst = plane + (iy - g.pad) * w;
            for (std::size_t xo = xs.begin; xo < xs.end; ++xo) dst[xo * g.stride + s - g.pad] += src[y * g.ow + xo];
          }
        }
    }
}

}  // namespace twofour::nn
