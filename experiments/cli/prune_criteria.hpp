#pragma once
// Data-aware criteria and channel permutations for `twofour prune`: the options
// (--calib, --grad, --seed, --permute...), loading the criterion's .npy data, the permutation
// search, SparseGPT's weight update and the two report metrics. prune_command.cpp calls
// add_criteria_options() when it builds its options and run_criteria() instead of prune_nm().
#include "cli/command.hpp"
#include "twofour/io/array.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/permutation.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace twofour::cli {

struct CriteriaOptions {
  std::string calib;            // (samples, in) activations .npy (wanda, sparsegpt, --report)
  std::string grad;             // accumulated gradient .npy, the weight's shape (taylor)
  std::uint64_t seed = 0;       // random criterion; permutation escapes
  std::size_t block_size = 128; // sparsegpt column block
  double damping = 0.01;        // sparsegpt: fraction of mean(diag H)
  double holdout = 0;           // share of --calib samples kept out of calibration for --report (needs --report)
  bool permute = false;         // search an input-channel permutation first (magnitude, Pool & Yu)
  std::string permutation_out;  // int64 .npy; default: OUTPUT with .perm.npy
  double permute_seconds = 10;  // time bound of the search
  std::size_t escapes = 100;    // bounded regressions
  std::string permute_method = "auto";  // prune::parse_permutation_method
  // Data already read (a checkpoint's --calib/--grad file keyed by tensor name): used instead of
  // the .npy paths above when set. `data_name` names their source in messages.
  std::optional<io::Array> calib_data, grad_data;
  std::string data_name;
};

void add_criteria_options(CLI::App& sub, CriteriaOptions& o);

struct CriteriaRun {
  prune::PruneResult result;     // mask and pruned float weights, in the (permuted) channel order
  bool weights_changed = false;  // permuted or updated (sparsegpt): write `pruned` from floats
  std::vector<std::int64_t> permutation;  // empty without --permute
  std::optional<prune::PermutationResult> search;
  double reconstruction_error = -1;  // < 0: not measured (no --calib, or not a Linear weight)
  bool in_sample = false;            // the error was measured on the calibration samples themselves
  std::size_t calibration_samples = 0;  // --calib samples the criterion used
  std::size_t heldout_samples = 0;      // --calib samples kept for the error only
};

// Runs spec.criterion on `weights` (float32, C order) with the data named in `o`.
// Throws UsageError (missing --calib/--grad, bad option values) or CommandFailed (unreadable or
// mismatching data, NaN...) naming `what`.
CriteriaRun run_criteria(std::span<const float> weights, std::span<const std::size_t> shape,
                         const prune::PruneSpec& spec, const CriteriaOptions& o, const std::string& what);

// The lines --report adds after the command's own "kept L1" line: how many --calib samples the
// criterion used and how many were held out, the reconstruction error ||WX - W'X|| / ||WX|| (on
// the held-out samples with --holdout, else in-sample), and the permutation's efficacy and time.
std::string criteria_report(const CriteriaRun& run);

// Where --permute writes the permutation: --permutation-out, or OUTPUT with .perm.npy ("" without --permute).
std::string permutation_path(const CriteriaOptions& o, const std::string& output);
// Writes run.permutation (int64 .npy) into `outputs` at permutation_path() when --permute was given.
void write_permutation(const CriteriaRun& run, const CriteriaOptions& o, const std::string& output, io::OutputSet& outputs);

}  // namespace twofour::cli
