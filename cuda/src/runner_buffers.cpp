#include "twofour/cuda/runner_buffers.hpp"

#include "twofour/sim/spec/registry.hpp"

#include <stdexcept>
#include <string>

namespace twofour::cuda {
namespace {

std::size_t at(int i) { return static_cast<std::size_t>(i); }

std::size_t words_per_thread(const sim::spec::Instruction& instr) {
  return at(instr.a_registers() + instr.b_registers() + instr.c_registers() + 1);
}

}  // namespace

std::vector<std::uint32_t> flatten_inputs(const sim::spec::Instruction& instr, std::span<const sim::LaneRegisters> lanes) {
  if (lanes.size() % at(instr.threads) != 0)
    throw std::invalid_argument(std::string(instr.name) + ": " + std::to_string(lanes.size()) +
                                " threads is not a whole number of " + std::to_string(instr.threads) + "-thread cases");
  std::vector<std::uint32_t> words;
  words.reserve(lanes.size() * words_per_thread(instr));
  for (std::size_t t = 0; t < lanes.size(); ++t) {
    const sim::LaneRegisters& l = lanes[t];
    if (l.a.size() < at(instr.a_registers()) || l.b.size() < at(instr.b_registers()) || l.c.size() < at(instr.c_registers()))
      throw std::invalid_argument(std::string(instr.name) + ": thread " + std::to_string(t) + " holds too few registers");
    words.insert(words.end(), l.a.begin(), l.a.begin() + instr.a_registers());
    words.insert(words.end(), l.b.begin(), l.b.begin() + instr.b_registers());
    words.insert(words.end(), l.c.begin(), l.c.begin() + instr.c_registers());
    words.push_back(l.e);
  }
  return words;
}

void unflatten_d(const sim::spec::Instruction& instr, std::span<const std::uint32_t> words,
                 std::span<std::vector<std::uint32_t>> d) {
  const std::size_t per = at(instr.d_registers());
  if (words.size() != d.size() * per)
    throw std::invalid_argument(std::string(instr.name) + ": D buffer holds " + std::to_string(words.size()) +
                                " words, expected " + std::to_string(d.size() * per));
  for (std::size_t t = 0; t < d.size(); ++t) d[t].assign(words.begin() + static_cast<std::ptrdiff_t>(t * per),
                                                         words.begin() + static_cast<std::ptrdiff_t>((t + 1) * per));
}

void emulate_instruction_runner(int row, int selector, sim::spec::Arch arch, std::span<const std::uint32_t> inputs,
                                std::span<std::uint32_t> d) {
  if (row < 0 || at(row) >= sim::spec::instruction_table.size())
    throw std::invalid_argument("instruction row " + std::to_string(row) + " out of range");
  const sim::spec::Instruction& instr = sim::spec::instruction_table[at(row)];
  const std::size_t words = words_per_thread(instr), threads = at(instr.threads);
  if (inputs.size() % (threads * words) != 0 || d.size() != inputs.size() / words * at(instr.d_registers()))
    throw std::invalid_argument("register buffers do not match the row's layout");
  // Per thread, as the kernel reads them: A, B, C, then e.
  const int na = instr.a_registers(), nb = instr.b_registers(), nc = instr.c_registers();
  for (std::size_t first = 0; first < inputs.size() / words; first += threads) {
    sim::WarpRegisters regs = sim::make_registers(instr);
    for (std::size_t t = 0; t < threads; ++t) {
      const std::uint32_t* in = inputs.data() + (first + t) * words;
      for (int i = 0; i < na; ++i) regs[t].a[at(i)] = in[i];
      for (int i = 0; i < nb; ++i) regs[t].b[at(i)] = in[na + i];
      for (int i = 0; i < nc; ++i) regs[t].c[at(i)] = in[na + nb + i];
      regs[t].e = in[na + nb + nc];
    }
    const sim::WarpResult r = sim::run_warp(instr, arch, regs, selector);
    for (std::size_t t = 0; t < threads; ++t)
      for (int i = 0; i < nc; ++i) d[(first + t) * at(nc) + at(i)] = r.d[t][at(i)];
  }
}

std::vector<std::uint32_t> flatten_warpgroup_inputs(const sim::spec::Instruction& instr,
                                                    std::span<const sim::LaneRegisters> lanes) {
  if (instr.threads != 128 || lanes.size() % 128 != 0)
    throw std::invalid_argument(std::string(instr.name) + ": warpgroup buffers take whole 128-thread cases");
  std::vector<std::uint32_t> words;
  for (std::size_t t = 0; t < lanes.size(); ++t) {
    const sim::LaneRegisters& l = lanes[t];
    if (l.a.size() < at(instr.a_registers()) || l.c.size() < at(instr.c_registers()))
      throw std::invalid_argument(std::string(instr.name) + ": thread " + std::to_string(t) + " holds too few registers");
    words.insert(words.end(), l.a.begin(), l.a.begin() + instr.a_registers());
    words.insert(words.end(), l.c.begin(), l.c.begin() + instr.c_registers());
    words.push_back(l.e);
  }
  return words;
}

void emulate_warpgroup_runner(int row, int selector, std::span<const std::uint32_t> inputs,
                              std::span<const std::uint8_t> shared, std::size_t shared_bytes,
                              std::span<const std::uint64_t> descriptors, std::span<std::uint32_t> d) {
  if (row < 0 || at(row) >= sim::spec::instruction_table.size() || sim::spec::instruction_table[at(row)].threads != 128)
    throw std::invalid_argument("instruction row " + std::to_string(row) + " is not a warpgroup row");
  const sim::spec::Instruction& instr = sim::spec::instruction_table[at(row)];
  const int na = instr.a_registers(), nc = instr.c_registers();
  const std::size_t per_thread = at(na + nc + 1), cases = inputs.size() / (128 * per_thread);
  if (inputs.size() != cases * 128 * per_thread || shared.size() != cases * shared_bytes ||
      descriptors.size() != 2 * cases || d.size() != cases * 128 * at(nc))
    throw std::invalid_argument("warpgroup buffers do not match the row's layout");
  for (std::size_t c = 0; c < cases; ++c) {
    sim::WarpRegisters regs = sim::make_registers(instr);
    for (std::size_t t = 0; t < 128; ++t) {
      const std::uint32_t* w = inputs.data() + (c * 128 + t) * per_thread;
      for (int i = 0; i < na; ++i) regs[t].a[at(i)] = w[i];
      for (int i = 0; i < nc; ++i) regs[t].c[at(i)] = w[na + i];
      regs[t].e = w[na + nc];
    }
    sim::SharedOperands image;
    image.bytes.assign(shared.begin() + static_cast<std::ptrdiff_t>(c * shared_bytes),
                       shared.begin() + static_cast<std::ptrdiff_t>((c + 1) * shared_bytes));
    image.a_descriptor = descriptors[2 * c];
    image.b_descriptor = descriptors[2 * c + 1];
    const sim::WarpResult r = sim::run_warp(instr, sim::spec::Arch::sm90, regs, selector, {}, &image);
    for (std::size_t t = 0; t < 128; ++t)
      for (int i = 0; i < nc; ++i) d[(c * 128 + t) * at(nc) + at(i)] = r.d[t][at(i)];
  }
}

}  // namespace twofour::cuda
