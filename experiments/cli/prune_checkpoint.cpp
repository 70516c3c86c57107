#include "cli/prune_checkpoint.hpp"

#include "cli/checkpoint_support.hpp"
#include "twofour/io/compressed_tensors.hpp"
#include "twofour/io/mask_files.hpp"
#include "twofour/prune/targets.hpp"
#include "twofour/sparse/magnitude_bits.hpp"
#include "twofour/sparse/nm_scan.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

namespace twofour::cli {
namespace {

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * x);
  return buf;
}

// The smallest magnitude bit pattern that is infinite or NaN (exponent all ones; E4M3 has no
// infinity and only 0x7f is NaN): IEEE 754 binary16/32/64, bfloat16, OCP FP8 E4M3 / E5M2.
std::uint64_t non_finite_bits(io::DType t) {
  switch (t) {
    case io::DType::bf16: return 0x7f80;
    case io::DType::f16: return 0x7c00;
    case io::DType::f32: return 0x7f800000;
    case io::DType::f64: return 0x7ff0000000000000;
    case io::DType::f8e4m3: return 0x7f;
    case io::DType::f8e5m2: return 0x7c;
    default: return ~std::uint64_t{0};
  }
}

// Calibration or gradient arrays keyed by tensor name ("P.weight", or "P").
class KeyedArrays {
 public:
  KeyedArrays() = default;
  explicit KeyedArrays(const std::string& path) : path_(path) {
    try {
      if (std::filesystem::path(path).extension() == ".npz") {
        npz_ = io::read_npz(path);
      } else if (std::filesystem::path(path).extension() == ".safetensors") {
        st_ = io::Checkpoint::open(path);
      } else {
        throw UsageError("--calib/--grad of a checkpoint is an .npz or .safetensors keyed by tensor name, not " + path);
      }
    } catch (const io::FormatError& e) {
      throw CommandFailed(e.what());
    }
  }
  bool empty() const { return path_.empty(); }
  std::optional<io::Array> find(const std::string& tensor) const {
    for (const std::string& key : {tensor, io::bitmask24_prefix(tensor)}) {
      if (st_) {
        if (const auto* t = st_->find(key)) return st_->read(*t);
      } else {
        for (const auto& [name, a] : npz_)
          if (name == key) return a;
      }
    }
    return std::nullopt;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  io::NamedArrays npz_;
  std::optional<io::Checkpoint> st_;
};

std::vector<std::byte> zero_pruned(std::span<const std::byte> bytes, const sparse::Mask& mask, std::size_t es) {
  std::vector<std::byte> out(bytes.begin(), bytes.end());
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (!mask[i]) std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(i * es), es, std::byte{0});
  return out;
}

struct Pruner {
  const CheckpointPruneOptions& o;
  const io::Checkpoint& in;
  std::optional<io::MaskFile>& masks;
  const KeyedArrays& calib;
  const KeyedArrays& grad;

  // Magnitude N:M needs nothing beyond each group, so it runs a block of rows at a time on the
  // stored bits and streams: memory stays near one block plus the mapped tensor.
  void magnitude_streamed(const io::CheckpointTensor& t, const io::ByteSink& sink) const {
    const std::size_t rows = t.shape[0], cols = t.shape[1], es = io::dtype_size(t.dtype);
    const std::size_t block = std::max<std::size_t>(1, (std::size_t{4} << 20) / (cols * es));
    const auto bytes = in.bytes(t);
    double kept = 0, total = 0;
    for (std::size_t r0 = 0; r0 < rows; r0 += block) {
      const std::size_t n = std::min(block, rows - r0);
      const auto part = bytes.subspan(r0 * cols * es, n * cols * es);
      const auto r = sparse::nm_magnitude_mask_bits(part, n, cols, es, io::sign_bit(t.dtype), non_finite_bits(t.dtype), o.spec.pattern);
      if (r.first_non_finite) {
        const std::size_t i = r0 * cols + *r.first_non_finite;
        throw CommandFailed("tensor '" + t.name + "': weight (" + std::to_string(i / cols) + ", " + std::to_string(i % cols) +
                            ") is NaN or infinite; prune rejects non-finite weights; nothing was written");
      }
      if (o.report) {
        const auto values = io::to_float32(io::make_array(t.dtype, {n, cols}, part));
        for (std::size_t i = 0; i < values.size(); ++i) {
          total += std::fabs(static_cast<double>(values[i]));
          kept += r.mask[i] ? std::fabs(static_cast<double>(values[i])) : 0.0;
        }
      }
      sink(zero_pruned(part, r.mask, es));
    }
    in.release(t);
    if (o.report) std::cout << "  " << t.name << ": kept L1 " << percent(total > 0 ? kept / total : 1.0) << "\n";
  }

  // Any criterion (or a mask file): the whole tensor at once; the pruned bytes in its dtype.
  std::vector<std::byte> pruned_bytes(const io::CheckpointTensor& t) const {
    const auto bytes = in.bytes(t);
    const std::size_t es = io::dtype_size(t.dtype);
    std::vector<std::byte> out;
    if (masks) {
      auto m = masks->mask_for(t.name, t.shape);
      const sparse::GroupedShape g(t.shape);
      const auto check = sparse::check_nm(*m, g, o.spec.pattern);
      if (!check.ok)
        throw CommandFailed(masks->path().string() + ": the mask of '" + t.name + "' is not " + o.pattern_text + ": " + check.message);
      out = zero_pruned(bytes, *m, es);
    } else {
      CriteriaOptions data = o.data;
      data.calib.clear();
      data.grad.clear();
      if (!calib.empty()) {
        data.calib_data = calib.find(t.name);
        data.data_name = calib.path() + " ['" + t.name + "']";
        if (!data.calib_data) throw CommandFailed(calib.path() + " has no calibration data for '" + t.name + "' (keys tried: '" + t.name + "', '" + io::bitmask24_prefix(t.name) + "')");
      }
      if (!grad.empty()) {
        data.grad_data = grad.find(t.name);
        data.data_name = grad.path() + " ['" + t.name + "']";
        if (!data.grad_data) throw CommandFailed(grad.path() + " has no gradient for '" + t.name + "'");
      }
      const auto values = io::to_float32(io::make_array(t.dtype, t.shape, bytes));
      const auto run = run_criteria(values, t.shape, o.spec, data, "tensor '" + t.name + "'");
      out = run.weights_changed ? io::from_float32(run.result.pruned, t.shape, t.dtype).data : zero_pruned(bytes, run.result.mask, es);
      if (o.report) std::cout << "  " << t.name << ": kept L1 " << percent(run.result.kept_l1) << "\n" << criteria_report(run);
    }
    in.release(t);
    return out;
  }
};

}  // namespace

int prune_checkpoint(const CheckpointPruneOptions& o) {
  const bool compressed_out = o.format == io::kBitmask24Format;
  if (o.format != "dense" && !compressed_out) throw UsageError("--format must be dense or sparse-24-bitmask, not '" + o.format + "'");
  if (compressed_out && o.spec.pattern != sparse::NMPattern{2, 4}) throw UsageError("--format sparse-24-bitmask needs --pattern 2:4");
  if (o.data.permute) throw UsageError("--permute reorders one layer's inputs, which a checkpoint's previous layer would have to follow; use it on one .npy weight");
  const io::Checkpoint in = open_checkpoint(o.input);
  try {
    if (!io::find_compressed_weights(in).empty())
      throw CommandFailed(o.input + " holds sparse-24-bitmask weights; run `twofour convert --to dense` first");
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  std::optional<io::MaskFile> masks;
  if (!o.mask.empty()) {
    try {
      masks = io::MaskFile::open(o.mask);
    } catch (const io::FormatError& e) {
      throw CommandFailed(e.what());
    }
  }
  const KeyedArrays calib = o.data.calib.empty() ? KeyedArrays() : KeyedArrays(o.data.calib);
  const KeyedArrays grad = o.data.grad.empty() ? KeyedArrays() : KeyedArrays(o.data.grad);
  const Pruner pruner{o, in, masks, calib, grad};

  prune::TargetRule rule;
  rule.globs = o.tensors;
  rule.pattern = o.spec.pattern;
  rule.kernel_shapes = !o.any_shape;
  const std::string what = masks ? "prune --mask " + std::filesystem::path(o.mask).filename().string() + " --pattern " + o.pattern_text
                                 : "prune --criterion " + o.spec.criterion + " --pattern " + o.pattern_text +
                                       (o.spec.transposable ? " --transposable" : "") + " --format " + o.format;
  std::vector<std::string> targets;
  ZeroCount count;
  std::vector<io::OutputShard> shards;
  for (const auto& s : in.shards()) {
    io::OutputShard out;
    out.file = s.file;
    out.metadata = with_provenance(s.metadata, what);
    for (const std::size_t i : s.tensors) {
      const auto& t = in.tensors()[i];
      auto d = prune::decide_target(t.name, t.dtype, t.shape, rule);
      if (masks) {  // the mask file names the tensors; the rule only explains the others
        std::optional<sparse::Mask> m;
        try {
          m = masks->mask_for(t.name, t.shape);
        } catch (const io::FormatError& e) {
          throw CommandFailed(e.what());
        }
        if (m && (t.shape.size() != 2 || !io::is_floating(t.dtype)))
          throw CommandFailed(o.mask + " has a mask for '" + t.name + "', which is not a 2-D floating weight (" + d.reason + ")");
        d = m ? prune::TargetDecision{true, ""} : prune::TargetDecision{false, "no mask in " + o.mask};
      }
      if (!d.target) {
        std::cout << "skipped " << t.name << ": " << d.reason << "\n";
        out.tensors.push_back(io::copy_tensor(in, t));
        continue;
      }
      std::cout << "pruning " << t.name << " (" << io::dtype_name(t.dtype) << " " << sparse::shape_string(t.shape) << ")\n";
      targets.push_back(io::bitmask24_prefix(t.name));
      const bool stream = !masks && !compressed_out && o.spec.criterion == "magnitude" && !o.spec.transposable;
      if (compressed_out) {
        for (auto& p : io::compressed_outputs(t.name, t.dtype, t.shape[0], t.shape[1], [&pruner, &t] { return pruner.pruned_bytes(t); }))
          out.tensors.push_back(std::move(p));
      } else if (stream) {
        out.tensors.push_back({t.name, t.dtype, t.shape, [&pruner, &t](const io::ByteSink& sink) { pruner.magnitude_streamed(t, sink); }});
      } else {
        out.tensors.push_back({t.name, t.dtype, t.shape, [&pruner, &t](const io::ByteSink& sink) { sink(pruner.pruned_bytes(t)); }});
      }
    }
    if (compressed_out && read_config(in)) count_all(out.tensors, count);  // global_sparsity goes into config.json
    shards.push_back(std::move(out));
  }
  if (targets.empty())
    throw CommandFailed("no tensor of " + o.input + " is a target (each is listed above with its rule); nothing written");
  if (masks) {
    const auto unused = masks->unused_keys();
    if (!unused.empty())
      throw CommandFailed(o.mask + ": " + std::to_string(unused.size()) + " masks match no tensor of " + o.input + " (first: '" +
                          unused.front() + "'); nothing written");
  }
  const auto config = read_config(in);
  write_output(in, o.output, shards, [&]() -> std::map<std::string, std::string> {
    if (!config || !compressed_out) return {};
    io::SparsityConfig s;
    s.format = io::kBitmask24Format;
    s.sparsity_structure = "2:4";
    s.targets = targets;
    s.global_sparsity = count.share();
    try {
      return {{"config.json", io::write_sparsity_config(*config, s)}};
    } catch (const io::FormatError& e) {
      throw CommandFailed((in.path() / "config.json").string() + ": " + e.what());
    }
  });
  std::cout << "pruned " << targets.size() << " tensors (" << o.pattern_text << ": " << o.spec.pattern.n << " kept of every "
            << o.spec.pattern.m << "); wrote " << o.output << "\n";
  return 0;
}

}  // namespace twofour::cli
