// The 2:4 convolution runs its batch in chunks of images (like the dense Conv2d: as many images
// as keep a chunk's patches within 512 KiB, i.e. 131072 / (C*R*S * OH*OW) images), threads taking
// whole chunks. Checked here on shapes whose batches end in a partial chunk: the bits must not
// depend on the thread count (random floats, 1, 2 and 3 threads), and on small-integer data,
// where every product and sum is exact in fp32 whatever the order, every output must equal the
// dense Conv2d on W*M (the oracle) bit for bit, for both mask kinds and both weight-gradient modes.
#include "twofour/nn/sparse_layers.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lib/nn/sparse_support.hpp"
#include "support/seed.hpp"
#include "twofour/nn/train.hpp"
#include "twofour/sparse/mask.hpp"

namespace twofour::nn {
namespace {

struct ConvShape {
  std::size_t c_in, k_out, size, stride, pad;  // 3x3 kernel on size x size images
  std::size_t out() const { return (size + 2 * pad - 3) / stride + 1; }
};

struct ConvRun {
  Tensor y, dx, dw, db;
  bool sparse_forward = false, sparse_input_grad = false;
};

// One forward and backward of a Conv2d holding `w` * `mask`, dense or on the 2:4 kernels, with
// `threads` OpenMP threads.
ConvRun run(const ConvShape& s, const Tensor& w, const std::vector<std::uint8_t>& mask, const Tensor& x,
            const Tensor& dy, bool sparse_exec, SparseWeightGrad grad, int threads) {
  Model model;
  auto& conv = static_cast<Conv2d&>(
      model.net.add(std::make_unique<Conv2d>("conv", s.c_in, s.k_out, 3, s.stride, s.pad, true)));
  conv.weight.prunable = true;
  conv.weight.value.data = w.data;
  conv.weight.mask = mask;
  sparse::apply_mask(conv.weight.value.data, mask);
  for (std::size_t o = 0; o < s.k_out; ++o) conv.bias.value.data[o] = static_cast<float>(o % 3) - 1.0f;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  ConvRun r;
  {
    std::optional<SparseExecutionScope> scope;
    if (sparse_exec) scope.emplace(model, grad);
    r.y = model.net.forward(x, true);
    r.dx = model.net.backward(dy);
    if (scope) {
      r.sparse_forward = scope->status().at(0).sparse_forward;
      r.sparse_input_grad = scope->status().at(0).sparse_input_grad;
    }
  }
  omp_set_num_threads(saved);
  r.dw = conv.weight.grad;
  r.db = conv.bias.grad;
  return r;
}

Tensor random_tensor(std::vector<std::size_t> shape, std::mt19937_64& rng, bool integers) {
  Tensor t(std::move(shape));
  std::uniform_int_distribution<int> small(-3, 3);
  std::normal_distribution<float> normal;
  for (auto& v : t.data) v = integers ? static_cast<float>(small(rng)) : normal(rng);
  return t;
}



// Shapes and batches: 16 channels of 16x16, stride 1 ("same"): 144 * 256 floats per image, chunks
// of 3 images, batches of 7 and 4 (3 + 3 + 1, 3 + 1); 64 channels of 16x16, stride 2: 576 * 49
// floats, chunks of 4, batch 7 (4 + 3); 64 channels of 4x4, stride 2: one output position per
// image, so the whole batch of 5 is a 5-column GEMM (the 2:4 kernels pad it to their large-N form).
struct Case {
  ConvShape shape;
  std::size_t batch;
};
const Case kCases[] = {{{16, 8, 16, 1, 1}, 7}, {{16, 8, 16, 1, 1}, 4}, {{64, 8, 16, 2, 0}, 7}, {{64, 8, 4, 2, 0}, 5}};

TEST(NnSparseConvChunks, BitsDoNotDependOnTheThreadCountAndEqualTheDenseLayerOnIntegers) {
  std::mt19937_64 rng(testing::test_seed("NnSparseConvChunks.Bits", 0x24c));
  for (const Case& c : kCases) {
    const ConvShape& s = c.shape;
    for (bool integers : {false, true}) {
      for (bool transposable : {false, true}) {
        const Tensor w = random_tensor({s.k_out, s.c_in, 3, 3}, rng, integers);
        const auto mask = testing::mask_24(random_tensor({s.k_out, s.c_in, 3, 3}, rng, false), transposable);
        const Tensor x = random_tensor({c.batch, s.c_in, s.size, s.size}, rng, integers);
        const Tensor dy = random_tensor({c.batch, s.k_out, s.out(), s.out()}, rng, integers);
        for (SparseWeightGrad grad : {SparseWeightGrad::kept_only, SparseWeightGrad::dense}) {
          const std::string what = std::to_string(s.c_in) + "x" + std::to_string(s.size) + "^2 stride " +
                                   std::to_string(s.stride) + ", batch " + std::to_string(c.batch) +
                                   (integers ? ", integers" : ", floats") + (transposable ? ", transposable" : ", magnitude") +
                                   (grad == SparseWeightGrad::dense ? ", dense dW" : ", kept dW");
          const ConvRun one = run(s, w, mask, x, dy, true, grad, 1);
          EXPECT_TRUE(one.sparse_forward) << what;
          EXPECT_EQ(one.sparse_input_grad, transposable) << what;
          for (int threads : {2, 3}) {
            const ConvRun more = run(s, w, mask, x, dy, true, grad, threads);
            EXPECT_TRUE(testing::same_bits(more.y, one.y)) << what << ", " << threads << " threads";
            EXPECT_TRUE(testing::same_bits(more.dx, one.dx)) << what << ", " << threads << " threads";
            EXPECT_TRUE(testing::same_bits(more.dw, one.dw)) << what << ", " << threads << " threads";
            EXPECT_TRUE(testing::same_bits(more.db, one.db)) << what << ", " << threads << " threads";
          }
          if (!integers) continue;
          const ConvRun dense = run(s, w, mask, x, dy, false, grad, 2);
          EXPECT_TRUE(testing::same_bits(one.y, dense.y)) << what;
          EXPECT_TRUE(testing::same_bits(one.dx, dense.dx)) << what;
          EXPECT_TRUE(testing::same_bits(one.db, dense.db)) << what;
          for (std::size_t i = 0; i < mask.size(); ++i) {
            if (mask[i] || grad == SparseWeightGrad::dense) {
              ASSERT_EQ(one.dw.data[i], dense.dw.data[i]) << what << " at " << i;
            } else {
              ASSERT_EQ(one.dw.data[i], 0.0f) << what << ": a pruned weight got a gradient at " << i;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace twofour::nn
