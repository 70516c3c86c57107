#pragma once
// `twofour validate`, the host side: generate cases, run them on a Gpu, simulate, compare,
// report; or replay a test-vector file against the simulator (no GPU). The command-line file
// only parses options and picks the Gpu.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/tile.hpp"
#include "twofour/sim/vectors.hpp"
#include "validate/gpu.hpp"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::validate {

struct Tally {
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;               // cases with a mismatching element or a simulator error
  std::uint64_t mismatching_elements = 0;
  std::uint64_t unconfirmed = 0;          // cases the simulator ran in an unconfirmed form
  std::map<std::string, std::uint64_t> failed_by_class;
  void add(const Tally& other);
};

// "N passed, M failed": the last line of every validate run.
std::string summary_line(const Tally& t);

struct ReportLimits {
  std::size_t full = 20;       // mismatching elements described in full (inputs decoded)
  std::size_t one_line = 200;  // further failing cases listed with one line each
};

struct ValidateOptions {
  std::vector<const sim::spec::Instruction*> rows;
  std::uint64_t cases_per_row = 1000;
  std::uint64_t seed = 1;
  sim::ExecutionOptions execution;
  ReportLimits limits;
  std::optional<std::filesystem::path> out;  // write the GPU's outputs as a test-vector file
  std::size_t batch = 8192;                  // cases per GPU launch and simulation batch
};

// The rows named by `selection` that run on `arch`: "all", a row name, or a comma-separated list
// of names and shell-style patterns ("*F16F16*"). Throws std::invalid_argument naming what matched
// nothing; a named row that does not run on `arch` is an error, a pattern just skips such rows.
std::vector<const sim::spec::Instruction*> select_rows(std::string_view selection, sim::spec::Arch arch);

// Runs options.cases_per_row generated cases of every row on `gpu` and in the simulator
// (gpu.arch()); prints mismatches and one summary line per row to `log`.
Tally validate_on_gpu(Gpu& gpu, const ValidateOptions& options, std::ostream& log);

// Replays a test-vector file: each case's recorded D against the simulator on the file's arch.
Tally replay_vectors(const sim::VectorFile& file, const std::string& source_name, const sim::ExecutionOptions& execution,
                     const ReportLimits& limits, std::ostream& log);

// Parses "MxNxK" (positive integers). Throws std::invalid_argument.
struct GemmShape {
  int m = 0, n = 0, k = 0;
};
GemmShape parse_gemm_shape(std::string_view text);

// One random GEMM per row on the GPU vs sim::run_gemm; rows without a GPU GEMM kernel are skipped
// (said in the log). Counts output elements: passed/failed are elements here.
Tally validate_gemm_on_gpu(Gpu& gpu, const std::vector<const sim::spec::Instruction*>& rows, GemmShape shape,
                           std::uint64_t seed, const sim::ExecutionOptions& execution, const ReportLimits& limits,
                           std::ostream& log);

}  // namespace twofour::validate
