#pragma once
// A stand-in GPU for the validator's host tests: the simulator itself, optionally with one bit
// of one case's D flipped, so that the comparison and reporting can be checked against a known
// mismatch.
#include "validate/gpu.hpp"

#include <cstdint>
#include <optional>

namespace twofour::testing {

struct Corruption {
  std::size_t call = 0;  // which run() call (0-based)
  std::size_t lane = 0;  // index into that call's lanes: threads * case + thread
  int reg = 0;
  std::uint32_t mask = 1;
};

class SimulatorGpu final : public validate::Gpu {
 public:
  explicit SimulatorGpu(sim::spec::Arch arch, std::optional<Corruption> corruption = std::nullopt)
      : arch_(arch), corruption_(corruption) {}
  std::string name() const override { return "simulator stand-in"; }
  sim::spec::Arch arch() const override { return arch_; }
  void run(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
           std::span<std::vector<std::uint32_t>> d) override;
  bool has_warpgroup_row(const sim::spec::Instruction&) const override { return true; }
  void run_warpgroup(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
                     std::span<const sim::SharedOperands> shared, std::span<std::vector<std::uint32_t>> d) override;
  std::optional<sim::Tile> run_gemm(const sim::spec::Instruction& instr, const sim::GemmOperands& operands) override;
  std::size_t calls() const { return calls_; }

 private:
  sim::spec::Arch arch_;
  std::optional<Corruption> corruption_;
  std::size_t calls_ = 0;
};

}  // namespace twofour::testing
