#pragma once
// Plain-text test vectors shared by the simulator and the CUDA runner: one warp-level instruction
// per line, inputs and D as the exact per-lane register words.
//
//   twofour-vectors v1 generator=<name> seed=<n> arch=<sm80|sm89|sm90> source=<sim | GPU name ...>
//   # comments and blank lines are ignored
//   <row name> <selector> A=<w>,<w>,... B=... C=... E=... D=...
//
// Each operand lists threads x (its register count) words, thread-major (thread 0 reg 0, thread 0
// reg 1, ..., last thread), every word as 8 hex digits, where threads is the row's thread count
// (32 for mma); E lists every thread's metadata word (E=- for dense rows). `source` is the rest of
// the header line, so GPU names may contain spaces.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/tile.hpp"
#include "twofour/sim/warp.hpp"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::sim {

// A malformed vector file; the message starts with "<name>:<line>: ".
struct VectorFormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct VectorHeader {
  std::string generator = "twofour";
  std::uint64_t seed = 0;
  spec::Arch arch = spec::Arch::sm80;
  std::string source = "sim";
};

struct VectorCase {
  const spec::Instruction* instr = nullptr;
  int selector = 0;
  WarpRegisters in{};
  WarpOutput d{};
  int line = 0;  // set by the reader
};

struct VectorFile {
  VectorHeader header;
  std::vector<VectorCase> cases;
};

void write_vectors(std::ostream& out, const VectorFile& file);
void write_vectors_file(const std::filesystem::path& path, const VectorFile& file);
// `name` is used in error messages ("<name>:<line>: ...").
VectorFile read_vectors(std::istream& in, const std::string& name = "<vectors>");
VectorFile read_vectors_file(const std::filesystem::path& path);

// Random inputs for tests and generators: finite values of moderate range with some zeros and
// subnormals (floats), any value (integers); tf32 words keep their ignored low bits zero.
std::uint32_t random_element(const spec::FormatSpec& f, std::mt19937_64& rng);
// Random defined metadata nibble for a sparse row: ascending index pairs (tf32: 0100 or 1110).
std::uint8_t random_nibble(const spec::Instruction& instr, std::mt19937_64& rng);
TileOperands random_tile_operands(const spec::Instruction& instr, std::mt19937_64& rng);
// A case with random operands and D simulated on `arch`.
VectorCase make_random_case(const spec::Instruction& instr, spec::Arch arch, int selector, std::mt19937_64& rng,
                            const ExecutionOptions& options = {});

struct CheckReport {
  std::size_t cases = 0;
  std::size_t failing_cases = 0;   // cases with a mismatch or an error
  std::size_t mismatches = 0;      // D elements that differ
  std::vector<std::string> lines;  // one per mismatching element or erroring case, decoded
  bool ok() const { return failing_cases == 0; }
};

// Runs every case on the simulator (header.arch) and compares D element by element: every
// mismatch is reported with line, row name, lane, register, element, (row, col) and both values
// decoded by describe_bits (file value first, then the simulator's).
CheckReport check_vectors(const VectorFile& file, const ExecutionOptions& options = {});

}  // namespace twofour::sim
