// `twofour demo`: a small random matrix, its 2:4 magnitude pattern, and its compressed form
// (values + metadata nibbles + the uint16 words a kernel feeds to mma.sp).
#include "cli/command.hpp"
#include "twofour/sparse/render.hpp"

#include <iostream>
#include <memory>
#include <random>
#include <vector>

namespace twofour::cli {
namespace {

RegisterCommand reg{{"demo", "Print the 2:4 pattern and compressed form of a small random matrix",
  [](CLI::App& sub) -> std::function<int()> {
    struct Options {
      std::size_t rows = 4, cols = 8;
      unsigned seed = 2024;
    };
    auto o = std::make_shared<Options>();
    sub.add_option("--rows", o->rows, "rows (1..64)")->check(CLI::Range(1, 64));
    sub.add_option("--cols", o->cols, "columns: a multiple of 4 (4..64)")->check(CLI::Range(4, 64));
    sub.add_option("--seed", o->seed, "random seed");
    return [o]() {
      if (o->cols % 4 != 0) throw UsageError("--cols must be a multiple of 4 (2:4 groups run along a row)");
      std::mt19937 rng(o->seed);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> dense(o->rows * o->cols);
      for (float& w : dense) w = normal(rng);
      std::cout << "A " << o->rows << "x" << o->cols << " Gaussian matrix (seed " << o->seed
                << ") pruned to 2:4 by magnitude and compressed for mma.sp:\n\n"
                << sparse::render_24(dense, o->rows, o->cols);
      return 0;
    };
  }}};

}  // namespace
}  // namespace twofour::cli
