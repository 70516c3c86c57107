#pragma once
// The training stack's data types: a dense float tensor (C order, NCHW for images), a trainable
// parameter with its gradient and optional 2:4 mask, and a small portable random generator so
// that a seed gives the same run on every standard library.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twofour::nn {

struct Tensor {
  std::vector<std::size_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<std::size_t> s, float fill = 0.0f);
  std::size_t numel() const { return data.size(); }
  std::size_t dim(std::size_t i) const { return shape.at(i); }
  std::size_t rank() const { return shape.size(); }
  std::string shape_string() const;  // "(128, 16, 28, 28)"
};

struct Parameter {
  std::string name;     // "conv2.weight"
  Tensor value;
  Tensor grad;          // same shape; backward() accumulates into it
  bool decay = true;    // weight decay applies (weights); biases and BatchNorm affine do not decay
  bool prunable = false;            // a 2:4 target of the model (grouped along input channels)
  std::vector<std::uint8_t> mask;   // 1 kept, 0 pruned, C order; empty = dense
};

// splitmix64-seeded xoshiro256**: a fixed algorithm, so runs do not depend on the standard
// library's distributions (std::normal_distribution differs between implementations).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();                        // [0, 1)
  double normal();                         // standard normal (Box-Muller, no caching)
  std::uint64_t below(std::uint64_t n);    // uniform in [0, n), unbiased
 private:
  std::uint64_t s_[4];
};

// Keeps freed tensor memory inside the process for reuse. A training step allocates and frees
// its activations (megabytes each) every step; with glibc's default thresholds those blocks go
// back to the kernel and every step page-faults them in again (about 7,000 faults and a third of
// the CNN's non-GEMM time per step, measured). This raises glibc's mmap and trim thresholds for
// the whole process, once, and asks for transparent huge pages for the next 512 MiB of heap;
// elsewhere it does nothing. train() calls it.
void retain_freed_memory();

// Derives an independent stream seed from (seed, purpose, index): epochs' shuffles, layer inits.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index);

}  // namespace twofour::nn
