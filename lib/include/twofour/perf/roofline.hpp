#pragma once
// A roofline estimate of dense and 2:4-sparse GEMM time on a GPU from its published peaks
// (gpu_specs.hpp). Assumptions (also in docs/perf-model.md):
//  - each GEMM reads its weights and its input activations from DRAM once and writes its output
//    once (perfect on-chip reuse inside the GEMM, none between GEMMs);
//  - it runs at the published peak when compute-bound and at the published DRAM bandwidth when
//    memory-bound: time = max(operations / peak, bytes / bandwidth); no launch overhead, no tile
//    or wave quantisation, no non-GEMM layers (they fuse into the GEMMs' epilogues in TensorRT);
//  - 2:4 halves the multiply-adds of an eligible GEMM (peak sparse = 2 x dense) and shrinks its
//    weights to the kept half plus 2 bits of metadata per kept value;
//  - outputs are written in the input type; the layers of a network run one after another.
#include "twofour/perf/gpu_specs.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace twofour::perf {

// One GEMM of a network, D (m x n) = W (m x k) . X (k x n), with W the weights (2:4 groups run
// along k) and n = batch x n_per_example (a convolution as implicit GEMM: m output channels,
// k = input channels per group x kernel area, n_per_example = output positions).
struct GemmShape {
  std::string name;
  std::int64_t m = 0, k = 0, n_per_example = 0;
  std::int64_t count = 1;            // identical GEMMs (convolution groups, repeated layers)
  // Elements of X read from DRAM per example and copy; 0: k x n_per_example. An implicit-GEMM
  // convolution reads its input tensor, not the im2col matrix: channels x input positions.
  std::int64_t input_per_example = 0;
  bool sparse = false;               // the weights are 2:4 (the layer is pruned)
  bool weight_per_example = false;   // "W" is an activation too (attention scores): scales with batch
};

struct NetworkShape {
  std::string name;
  std::string source;  // where the shapes come from
  std::vector<GemmShape> gemms;
};

struct Traffic {
  double weight_bytes = 0, input_bytes = 0, output_bytes = 0;
  double total() const { return weight_bytes + input_bytes + output_bytes; }
};

struct GemmTime {
  double operations = 0;         // 2 m n k count
  Traffic dense_bytes, sparse_bytes;
  double dense_compute_s = 0, dense_memory_s = 0, sparse_compute_s = 0, sparse_memory_s = 0;
  double dense_s() const;
  double sparse_s() const;
  double speedup() const { return dense_s() / sparse_s(); }
};

// DRAM traffic of one GEMM at `batch` (all `count` copies), dense or with 2:4 weights.
Traffic gemm_traffic(const GemmShape& g, std::int64_t batch, const std::string& dtype, bool sparse_weights);
// Bytes of a 2:4-compressed m x k weight: m k / 2 kept values plus 2 bits of metadata per kept value.
double compressed_weight_bytes(std::int64_t m, std::int64_t k, const std::string& dtype);

GemmTime estimate(const GemmShape& g, std::int64_t batch, const GpuSpec& gpu, const std::string& dtype);

struct NetworkTime {
  std::int64_t batch = 0;
  std::vector<GemmTime> gemms;  // in the order of NetworkShape::gemms
  double dense_s = 0, sparse_s = 0;
  double speedup() const { return dense_s / sparse_s; }
};
NetworkTime estimate(const NetworkShape& net, std::int64_t batch, const GpuSpec& gpu, const std::string& dtype);

// A network description file (data/perf/models/*.json). Throws io::FormatError on bad input.
NetworkShape load_network(const std::filesystem::path& path);

}  // namespace twofour::perf
