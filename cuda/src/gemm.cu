// Host API of the tiled GEMM (twofour/cuda/gemm.hpp): one kernel instantiation per supported row,
// the raw-pointer launcher and the Tile-in, Tile-out round trip used by the validator and tests.
#include "gemm_kernel.cuh"
#include "twofour/cuda/device.hpp"
#include "twofour/cuda/gemm.hpp"
#include "twofour/sim/spec/metadata.hpp"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::cuda {
namespace {

using detail::GemmParams;
using detail::row_index;

constexpr int kSparseF16 = row_index("SM80_SP_16x8x32_F32F16F16F32_TN");
constexpr int kSparseF16Ordered = row_index("SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN");
constexpr int kSparseBf16 = row_index("SM80_SP_16x8x32_F32BF16BF16F32_TN");
constexpr int kSparseBf16Ordered = row_index("SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN");
constexpr int kDenseF16 = row_index("SM80_16x8x16_F32F16F16F32_TN");
constexpr int kDenseBf16 = row_index("SM80_16x8x16_F32BF16BF16F32_TN");
static_assert(kSparseF16 >= 0 && kSparseF16Ordered >= 0 && kSparseBf16 >= 0 && kSparseBf16Ordered >= 0 &&
                  kDenseF16 >= 0 && kDenseBf16 >= 0,
              "a GEMM row is missing from sim/spec/registry.hpp");

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

template <int Row>
void launch_row(const GemmParams& p, cudaStream_t stream) {
  using T = detail::GemmTraits<Row>;
  // The 3-stage ring needs 84 KiB (sparse) / 105 KiB (dense): sm_80 and sm_90 have it, sm_86 and
  // sm_89 (99 KiB) do not; say so instead of failing inside the launch.
  int device = 0, optin = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "cudaDeviceGetAttribute");
  if (optin < T::kSharedBytes)
    throw std::runtime_error("the GEMM kernel needs " + std::to_string(T::kSharedBytes) +
                             " bytes of shared memory per block; this GPU allows " + std::to_string(optin));
  // Above 48 KiB of dynamic shared memory a kernel must opt in (every launch: cheap, and it keeps
  // the call thread- and device-agnostic).
  void (*kernel)(GemmParams) = nullptr;
  if constexpr (T::kSparse) kernel = detail::sparse_gemm_kernel<Row>;
  else kernel = detail::dense_gemm_kernel<Row>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSharedBytes),
        "cudaFuncSetAttribute (GEMM shared memory)");
  // A 1-D grid; gemm_geometry::cta_tile maps each block to its output tile (L2-friendly order).
  const long long tiles = static_cast<long long>((p.m + kGemmTileM - 1) / kGemmTileM) * ((p.n + kGemmTileN - 1) / kGemmTileN);
  if (tiles > 0x7fffffffLL) throw std::invalid_argument("GEMM too large for one launch");
  const dim3 grid(static_cast<unsigned>(tiles));
  kernel<<<grid, detail::kThreads, T::kSharedBytes, stream>>>(p);
  check(cudaGetLastError(), "GEMM kernel launch");
}

// Device memory owned for the duration of one round trip.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(std::size_t bytes) { check(cudaMalloc(&ptr, bytes == 0 ? 1 : bytes), "cudaMalloc"); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(ptr); }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr); }
};

template <typename T>
void upload(const DeviceBuffer& dst, const std::vector<T>& src) {
  check(cudaMemcpy(dst.ptr, src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice), "copy to GPU");
}

std::vector<std::uint16_t> low_halves(const sim::Tile& t) {
  std::vector<std::uint16_t> out(t.bits.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint16_t>(t.bits[i] & 0xffffu);
  return out;
}

// The same undefined-behaviour checks (and message) as sim's GEMM level, before anything runs.
void check_metadata(const sim::spec::Instruction& instr, int m, int k, const std::vector<std::uint8_t>& nibbles) {
  const int chunks = k / instr.chunk_width(), step_chunks = instr.chunks_per_row();
  for (int i = 0; i < m; ++i)
    for (int ch = 0; ch < chunks; ++ch) {
      const unsigned nibble = nibbles[static_cast<std::size_t>(i) * chunks + ch] & 0xfu;
      const sim::spec::DecodedNibble d = sim::spec::decode_nibble(instr, nibble);
      if (sim::spec::is_undefined(d.status))
        throw sim::MetadataError(std::string(instr.name) + " GPU GEMM: metadata of A row " + std::to_string(i) +
                                 ", chunk " + std::to_string(ch) + " (k-step " + std::to_string(ch / step_chunks) +
                                 ") is 0x" + "0123456789abcdef"[nibble] + ": " +
                                 std::string(sim::spec::nibble_status_text(d.status)));
    }
}

}  // namespace

void launch_gemm(const sim::spec::Instruction& instr, const GemmDeviceOperands& ops, void* stream) {
  check_gemm_shape(instr, ops.m, ops.n, ops.k);
  if (ops.a == nullptr || ops.b == nullptr || ops.d == nullptr || (instr.is_sparse() && ops.metadata == nullptr))
    throw std::invalid_argument("launch_gemm: A, B, D (and metadata for a sparse row) must be device pointers");
  const GemmParams p{ops.m, ops.n, ops.k, static_cast<const std::uint16_t*>(ops.a), ops.metadata,
                     static_cast<const std::uint16_t*>(ops.b), ops.c, ops.d};
  auto* s = static_cast<cudaStream_t>(stream);
  if (instr.name == "SM80_SP_16x8x32_F32F16F16F32_TN") launch_row<kSparseF16>(p, s);
  else if (instr.name == "SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN") launch_row<kSparseF16Ordered>(p, s);
  else if (instr.name == "SM80_SP_16x8x32_F32BF16BF16F32_TN") launch_row<kSparseBf16>(p, s);
  else if (instr.name == "SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN") launch_row<kSparseBf16Ordered>(p, s);
  else if (instr.name == "SM80_16x8x16_F32F16F16F32_TN") launch_row<kDenseF16>(p, s);
  else launch_row<kDenseBf16>(p, s);  // check_gemm_shape admitted only the six rows
}

sim::Tile run_gemm_on_gpu(const sim::spec::Instruction& instr, const sim::GemmOperands& operands) {
  const int m = operands.a.rows, k = operands.b.rows, n = operands.b.cols;
  check_gemm_shape(instr, m, n, k);
  const int a_cols = instr.is_sparse() ? k / 2 : k;
  if (operands.a.cols != a_cols || operands.c.rows != m || operands.c.cols != n)
    throw std::invalid_argument("GPU GEMM operands: A is " + std::to_string(operands.a.rows) + " x " +
                                std::to_string(operands.a.cols) + ", B " + std::to_string(k) + " x " +
                                std::to_string(n) + ", C " + std::to_string(operands.c.rows) + " x " +
                                std::to_string(operands.c.cols) + "; " + std::string(instr.name) + " needs A M x " +
                                (instr.is_sparse() ? "K/2" : "K") + " and C M x N");
  std::vector<std::uint32_t> meta;
  if (instr.is_sparse()) {
    if (operands.metadata.size() != static_cast<std::size_t>(m) * static_cast<std::size_t>(k / 4))
      throw std::invalid_argument("GPU GEMM operands: metadata has " + std::to_string(operands.metadata.size()) +
                                  " nibbles, M x K/4 = " + std::to_string(static_cast<std::size_t>(m) * (k / 4)));
    check_metadata(instr, m, k, operands.metadata);
    meta = reorder_metadata_for_gpu(m, k, operands.metadata);
  }

  const DeviceInfo device = query_devices();
  if (device.count == 0) throw std::runtime_error("no GPU: " + device.reason);
  if (device.compute_capability < 80)
    throw std::runtime_error("the GPU (" + device.name + ") is sm_" + std::to_string(device.compute_capability) +
                             "; the GEMM kernels need sm_80 or newer");

  const std::vector<std::uint16_t> a = low_halves(operands.a), b = low_halves(operands.b);
  const std::size_t d_elems = static_cast<std::size_t>(m) * static_cast<std::size_t>(n);
  const DeviceBuffer da(a.size() * 2), db(b.size() * 2), dc(d_elems * 4), dd(d_elems * 4), dm(meta.size() * 4);
  upload(da, a);
  upload(db, b);
  upload(dc, operands.c.bits);  // fp32 bit patterns, copied as they are
  if (!meta.empty()) upload(dm, meta);

  GemmDeviceOperands ops;
  ops.m = m;
  ops.n = n;
  ops.k = k;
  ops.a = da.ptr;
  ops.metadata = instr.is_sparse() ? dm.as<const std::uint32_t>() : nullptr;
  ops.b = db.ptr;
  ops.c = dc.as<const float>();
  ops.d = dd.as<float>();
  launch_gemm(instr, ops);
  check(cudaDeviceSynchronize(), "GEMM kernel execution");

  sim::Tile d(m, n);
  check(cudaMemcpy(d.bits.data(), dd.ptr, d_elems * 4, cudaMemcpyDeviceToHost), "copy from GPU");
  return d;
}

}  // namespace twofour::cuda
