#include "experiments/validate_support.hpp"

#include <stdexcept>

namespace twofour::testing {

void SimulatorGpu::run(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
                       std::span<std::vector<std::uint32_t>> d) {
  const auto threads = static_cast<std::size_t>(instr.threads);
  if (lanes.size() % threads != 0 || d.size() != lanes.size()) throw std::invalid_argument("SimulatorGpu: bad buffers");
  for (std::size_t first = 0; first < lanes.size(); first += threads) {
    const sim::WarpRegisters regs(lanes.begin() + static_cast<std::ptrdiff_t>(first),
                                  lanes.begin() + static_cast<std::ptrdiff_t>(first + threads));
    const sim::WarpResult r = sim::run_warp(instr, arch_, regs, selector);
    for (std::size_t lane = 0; lane < threads; ++lane) d[first + lane] = r.d[lane];
  }
  if (corruption_ && corruption_->call == calls_)
    d[corruption_->lane][static_cast<std::size_t>(corruption_->reg)] ^= corruption_->mask;
  ++calls_;
}

void SimulatorGpu::run_warpgroup(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
                                 std::span<const sim::SharedOperands> shared, std::span<std::vector<std::uint32_t>> d) {
  const auto threads = static_cast<std::size_t>(instr.threads);
  if (lanes.size() != shared.size() * threads || d.size() != lanes.size())
    throw std::invalid_argument("SimulatorGpu: bad warpgroup buffers");
  for (std::size_t c = 0; c < shared.size(); ++c) {
    const sim::WarpRegisters regs(lanes.begin() + static_cast<std::ptrdiff_t>(c * threads),
                                  lanes.begin() + static_cast<std::ptrdiff_t>((c + 1) * threads));
    const sim::WarpResult r = sim::run_warp(instr, arch_, regs, selector, {}, &shared[c]);
    for (std::size_t t = 0; t < threads; ++t) d[c * threads + t] = r.d[t];
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
