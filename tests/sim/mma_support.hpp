#pragma once
// Helpers shared by the warp, tile, GEMM and vector tests.
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::testing {

// Every row of the table that runs on `arch`.
inline std::vector<const sim::spec::Instruction*> rows_on(sim::spec::Arch arch) {
  std::vector<const sim::spec::Instruction*> rows;
  for (const auto& row : sim::spec::instruction_table)
    if (sim::instruction_supported(row, arch)) rows.push_back(&row);
  return rows;
}

// The dense mma.sync row with the same A/B/C/D formats and .satfinite as a sparse row.
inline const sim::spec::Instruction* dense_twin(const sim::spec::Instruction& sparse) {
  for (const auto& row : sim::spec::instruction_table) {
    if (!row.is_sparse() && row.a == sparse.a && row.b == sparse.b && row.c == sparse.c && row.d == sparse.d &&
        row.satfinite == sparse.satfinite)
      return &row;
  }
  return nullptr;
}

// A row by name; throws when the table lacks it.
inline const sim::spec::Instruction& row_named(const std::string& name) {
  const sim::spec::Instruction* in = sim::spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error("no instruction row " + name);
  return *in;
}

// Every simulated architecture: sm_86 and sm_100 share parameters with sm_80 and sm_90, but not
// which rows they run (no fp8 on sm_86; lowered fp8 on sm_100).
inline constexpr auto& kArchs = sim::spec::all_archs;

}  // namespace twofour::testing
