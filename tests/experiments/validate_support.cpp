#include "experiments/validate_support.hpp"

#include <stdexcept>

namespace twofour::testing {

void SimulatorGpu::run(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
                       std::span<std::array<std::uint32_t, 4>> d) {
  if (lanes.size() % 32 != 0 || d.size() != lanes.size()) throw std::invalid_argument("SimulatorGpu: bad buffers");
  for (std::size_t first = 0; first < lanes.size(); first += 32) {
    sim::WarpRegisters regs{};
    for (std::size_t lane = 0; lane < 32; ++lane) regs[lane] = lanes[first + lane];
    const sim::WarpResult r = sim::run_warp(instr, arch_, regs, selector);
    for (std::size_t lane = 0; lane < 32; ++lane) d[first + lane] = r.d[lane];
  }
  if (corruption_ && corruption_->call == calls_)
    d[corruption_->lane][static_cast<std::size_t>(corruption_->reg)] ^= corruption_->mask;
  ++calls_;
}

std::optional<sim::Tile> SimulatorGpu::run_gemm(const sim::spec::Instruction& instr, const sim::GemmOperands& operands) {
  sim::GemmOptions o;
  o.path = sim::GemmPath::generic;  // the definition, against the validator's default (fast) path
  return sim::run_gemm(instr, arch_, operands, o).d;
}

}  // namespace twofour::testing
