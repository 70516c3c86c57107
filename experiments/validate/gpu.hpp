#pragma once
// The GPU as the validator sees it: run a batch of warp-level cases of one row and selector, and
// (optionally) one GEMM. An interface, so that the host logic is tested without a GPU by a
// stand-in (tests use the simulator itself, with deliberate corruption).
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/warp.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>

namespace twofour::validate {

class Gpu {
 public:
  virtual ~Gpu() = default;
  virtual std::string name() const = 0;       // e.g. "NVIDIA H200"
  virtual sim::spec::Arch arch() const = 0;   // the simulator architecture to compare with
  // D of every case: lanes holds 32 lanes per case; d the same count of D entries.
  virtual void run(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
                   std::span<std::array<std::uint32_t, 4>> d) = 0;
  // D of a GEMM built on `instr`; nullopt when the backend has no GEMM kernel for that row.
  virtual std::optional<sim::Tile> run_gemm(const sim::spec::Instruction& instr, const sim::GemmOperands& operands) = 0;
};

// The CUDA device 0 when the tool was built with CUDA and a device is usable; otherwise nullptr
// and `why_not` says why in one line.
std::unique_ptr<Gpu> open_cuda_gpu(std::string& why_not);

// The simulator architecture for a compute capability (80 -> sm80, 86..88 -> sm86, 89 -> sm89,
// 90 -> sm90, 100..103 -> sm100); nullopt where none is modelled.
std::optional<sim::spec::Arch> arch_for_compute_capability(int cc);

}  // namespace twofour::validate
