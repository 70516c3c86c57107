#pragma once
// Looking an instruction row up where an unknown name is an error: the one message for it.
// (spec::find_instruction, constexpr and device-usable, returns nullptr instead.)
#include "twofour/sim/spec/registry.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace twofour::sim {

// The row with this atom name (SM80_SP_16x8x32_F32F16F16F32_TN) or PTX mnemonic. Throws `Error`
// (constructed from the message) naming the unknown row and where the names are listed.
template <class Error = std::invalid_argument>
const spec::Instruction& find_instruction_or_throw(std::string_view name) {
  const spec::Instruction* row = spec::find_instruction(name);
  if (row == nullptr)
    throw Error("unknown instruction '" + std::string(name) + "' (the rows: `twofour explain --list`)");
  return *row;
}

}  // namespace twofour::sim
