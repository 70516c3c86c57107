#include "cli/prune_criteria.hpp"

#include "twofour/io/npy.hpp"
#include "twofour/prune/metrics.hpp"
#include "twofour/prune/wanda.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace twofour::cli {
namespace {

std::vector<float> load(const std::string& path, const std::string& flag, std::vector<std::size_t>& shape,
                        const std::optional<io::Array>& preloaded = std::nullopt) {
  try {
    io::Array a = preloaded ? *preloaded : io::read_npy(path);
    if (!io::is_floating(a.dtype)) throw CommandFailed(flag + " " + path + ": expected floating-point data, got " +
                                                       std::string(io::dtype_name(a.dtype)));
    shape = a.shape;
    return io::to_float32(a);
  } catch (const io::FormatError& e) {
    throw CommandFailed(flag + ": " + e.what());
  }
}

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

void add_criteria_options(CLI::App& sub, CriteriaOptions& o) {
  sub.add_option("--calib", o.calib, "calibration activations .npy, (samples, in): wanda, sparsegpt, --report");
  sub.add_option("--grad", o.grad, "accumulated gradient .npy, the weight's shape: taylor");
  sub.add_option("--seed", o.seed, "seed of the random criterion and of the permutation search");
  sub.add_option("--block-size", o.block_size, "sparsegpt column block (default 128, a multiple of M)");
  sub.add_option("--damping", o.damping, "sparsegpt Hessian damping, share of mean(diag H) (default 0.01)");
  // Calibration uses every --calib sample unless a held-out error is asked for.
  sub.add_option("--holdout", o.holdout,
                 "with --report: share of --calib samples held out of calibration to measure the error on "
                 "(default 0: all samples calibrate, the error is in-sample)")
      ->needs(sub.get_option("--report"));
  sub.add_flag("--permute", o.permute, "first permute input channels to raise the kept magnitude (Pool & Yu 2021)");
  sub.add_option("--permutation", o.permutation_out, "where --permute writes the int64 permutation (default OUTPUT.perm.npy)");
  sub.add_option("--permute-seconds", o.permute_seconds, "time bound of the permutation search (default 10)");
  sub.add_option("--escapes", o.escapes, "bounded regressions of the permutation search (default 100)");
  sub.add_option("--permute-method", o.permute_method,
                 "permutation search: auto (default; stripe-groups for narrow layers, channel-swaps for wide ones), "
                 "stripe-groups or channel-swaps");
}

CriteriaRun run_criteria(std::span<const float> weights_in, std::span<const std::size_t> shape_in,
                         const prune::PruneSpec& spec, const CriteriaOptions& o, const std::string& what) {
  const std::vector<std::size_t> shape(shape_in.begin(), shape_in.end());
  const prune::Criterion* criterion = prune::find_criterion(spec.criterion);
  if (criterion == nullptr) throw UsageError("unknown --criterion '" + spec.criterion + "'");
  const bool have_calib = o.calib_data.has_value() || !o.calib.empty();
  const bool have_grad = o.grad_data.has_value() || !o.grad.empty();
  if (criterion->needs.calibration && !have_calib)
    throw UsageError("--criterion " + spec.criterion + " needs --calib X.npy (activations, (samples, in))");
  if (criterion->needs.gradients && !have_grad)
    throw UsageError("--criterion " + spec.criterion + " needs --grad G.npy");
  if (criterion->prune && spec.transposable)
    throw UsageError("--criterion " + spec.criterion + " makes N:M masks, not --transposable ones");
  if (!(o.holdout >= 0.0 && o.holdout < 1.0)) throw UsageError("--holdout must be in [0, 1)");
  if (!(o.permute_seconds >= 0.0)) throw UsageError("--permute-seconds must be >= 0");
  prune::PermutationMethod permute_method{};
  try {
    permute_method = prune::parse_permutation_method(o.permute_method);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--permute-method: ") + e.what());
  }

  CriteriaRun run;
  try {
    const sparse::GroupedShape grouped(shape);
    if (weights_in.size() != grouped.numel()) throw std::invalid_argument("weights do not match shape");
    std::vector<float> w(weights_in.begin(), weights_in.end());

    // Data, loaded and checked against the weight before anything is searched.
    std::vector<std::size_t> xshape, gshape;
    std::vector<float> x, g;
    const std::string calib_name = o.calib_data ? o.data_name : o.calib;
    const std::string grad_name = o.grad_data ? o.data_name : o.grad;
    if (have_calib) {
      x = load(calib_name, "--calib", xshape, o.calib_data);
      if (xshape.size() != 2) throw CommandFailed("--calib " + calib_name + ": expected (samples, in), got shape " +
                                                  sparse::shape_string(xshape));
      prune::validate_activations({x, xshape[0], xshape[1]}, grouped.in(), "--calib " + calib_name);
    }
    if (have_grad) {
      g = load(grad_name, "--grad", gshape, o.grad_data);
      if (gshape != shape) throw CommandFailed("--grad " + grad_name + " has shape " + sparse::shape_string(gshape) +
                                               ", the weight " + sparse::shape_string(shape));
    }

    if (o.permute) {
      prune::PermutationOptions po;
      po.pattern = spec.pattern;
      po.seed = o.seed;
      po.time_limit_seconds = o.permute_seconds;
      po.escape_attempts = o.escapes;
      po.method = permute_method;
      run.search = prune::search_permutation(w, grouped, po);
      run.permutation = run.search->permutation;
      w = prune::permute_input_channels(w, shape, run.permutation);
      if (!g.empty()) g = prune::permute_input_channels(g, shape, run.permutation);
      if (!x.empty()) {  // activations are (samples, in): their columns move with the weight's
        const std::vector<std::size_t> xs = {xshape[0], xshape[1]};
        std::vector<float> xt(x.size());
        for (std::size_t s = 0; s < xs[0]; ++s)
          for (std::size_t j = 0; j < xs[1]; ++j) xt[s * xs[1] + j] = x[s * xs[1] + static_cast<std::size_t>(run.permutation[j])];
        x = std::move(xt);
      }
      run.weights_changed = true;
    }

    // Calibration / held-out split: with --holdout the last share of the samples is never calibrated on.
    prune::Activations all{x, x.empty() ? 0 : xshape[0], x.empty() ? 0 : xshape[1]};
    prune::Activations calib = all, held = all;
    if (!x.empty()) {
      const auto n_held = static_cast<std::size_t>(std::floor(o.holdout * static_cast<double>(all.samples)));
      if (n_held > 0 && n_held < all.samples) {
        calib = prune::sample_range(all, 0, all.samples - n_held);
        held = prune::sample_range(all, all.samples - n_held, n_held);
        run.heldout_samples = n_held;
      } else {
        run.in_sample = true;
      }
      run.calibration_samples = calib.samples;
    }

    prune::CriterionInputs in;
    in.seed = o.seed;
    in.gradients = g;
    in.block_size = o.block_size;
    in.damping = o.damping;
    in.time_limit_seconds = o.permute_seconds;
    std::vector<float> norms;
    if (!x.empty()) {
      norms = prune::activation_norms(calib);
      in.input_norms = norms;
      in.calibration = calib;
    }
    run.result = prune::prune_nm(w, shape, spec, in);
    run.weights_changed = run.weights_changed || criterion->updates_weights;
    if (!x.empty() && shape.size() == 2)
      run.reconstruction_error = prune::reconstruction_error(w, run.result.pruned, shape, held);
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(what + ": " + e.what());
  }
  return run;
}

std::string criteria_report(const CriteriaRun& run) {
  std::string s;
  if (run.calibration_samples > 0)
    s += "calibration: " + std::to_string(run.calibration_samples) + " samples used by the criterion, " +
         std::to_string(run.heldout_samples) + " held out for the error\n";
  if (run.reconstruction_error >= 0)
    s += "reconstruction error ||WX - W'X|| / ||WX||" + std::string(run.in_sample ? " (in-sample)" : " (held-out)") +
         ": " + fixed(run.reconstruction_error, 6) + "\n";
  else
    s += "reconstruction error: not measured (needs --calib and a Linear (out, in) weight)\n";
  if (run.search) {
    const auto& p = *run.search;
    s += "permutation: kept L1 " + fixed(100 * p.kept_default / p.total_l1, 2) + "% -> " +
         fixed(100 * p.kept_permuted / p.total_l1, 2) + "% (per-row bound " + fixed(100 * p.kept_bound / p.total_l1, 2) +
         "%), efficacy " + fixed(100 * p.efficacy, 1) + "%, " + fixed(p.seconds, 3) + " s" +
         (p.timed_out ? " (time bound reached)" : "") + "\n";
    s += "permutation search: " + std::string(prune::permutation_method_name(p.method)) +
         (p.refined_by_stripe_groups ? " then stripe-groups" : "") + ", " + std::to_string(p.improvements) +
         (p.method == prune::PermutationMethod::channel_swaps ? " swaps" : " re-partitions") +
         (p.refined_by_stripe_groups ? " and re-partitions" : "") + "; " + prune::progress_summary(p) + "\n";
  }
  return s;
}

std::string permutation_path(const CriteriaOptions& o, const std::string& output) {
  if (!o.permute) return "";
  std::string path = o.permutation_out;
  if (path.empty()) {
    path = output;
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) path.resize(path.size() - 4);
    path += ".perm.npy";
  }
  return path;
}

void write_permutation(const CriteriaRun& run, const CriteriaOptions& o, const std::string& output, io::OutputSet& outputs) {
  if (run.permutation.empty()) return;
  std::vector<std::byte> bytes(run.permutation.size() * sizeof(std::int64_t));
  std::memcpy(bytes.data(), run.permutation.data(), bytes.size());
  outputs.write(permutation_path(o, output), io::serialize_npy(io::make_array(io::DType::i64, {run.permutation.size()}, bytes)));
}

}  // namespace twofour::cli
