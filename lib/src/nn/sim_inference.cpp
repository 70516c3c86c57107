#include "twofour/nn/sim_inference.hpp"

#include "twofour/nn/conv_gemm.hpp"
#include "twofour/sim/compress.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/find_instruction.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace twofour::nn {
namespace {

namespace spec = sim::spec;

std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }

// The instruction rows a precision uses: sparse row, its dense twin, and the architecture.
struct Rows {
  const spec::Instruction* sparse;
  const spec::Instruction* dense;
  spec::Arch arch;
};

Rows rows_for(Arithmetic a) {
  const auto row = [](const char* name) { return &sim::find_instruction_or_throw<std::logic_error>(name); };
  switch (a) {
    case Arithmetic::fp16_sm80:
      return {row("SM80_SP_16x8x32_F32F16F16F32_TN"), row("SM80_16x8x16_F32F16F16F32_TN"), spec::Arch::sm80};
    case Arithmetic::fp16_sm90:
      return {row("SM80_SP_16x8x32_F32F16F16F32_TN"), row("SM80_16x8x16_F32F16F16F32_TN"), spec::Arch::sm90};
    case Arithmetic::int8:
      // Integer sums are exact on every architecture; sm_80 stands for all.
      return {row("SM80_SP_16x8x64_S32S8S8S32_TN"), row("SM80_16x8x32_S32S8S8S32_TN"), spec::Arch::sm80};
    case Arithmetic::fp32: break;
  }
  throw std::logic_error("no instruction rows for fp32");
}

// A GEMM-shaped view of one target layer: the weight as M x K (row-major floats, K in the order
// the layer's input columns are laid out by `columns`), and the per-row dequantisation.
struct LayerMatrix {
  std::size_t m = 0, k = 0;
  std::vector<float> w;  // m x k
};

// Conv weight (K, C, R, S) -> (K, R*S*C): 2:4 groups along C become 4 consecutive columns.
LayerMatrix conv_matrix(const Conv2d& conv) {
  return {conv.out_c, conv.k * conv.k * conv.in_c, to_krsc(conv.weight.value.data, conv.weight.value.shape)};
}

LayerMatrix linear_matrix(const Linear& lin) {
  return {lin.weight.value.dim(0), lin.weight.value.dim(1), lin.weight.value.data};
}

// Linear input (N, in) -> columns in x N.
std::vector<float> linear_columns(const Tensor& x) {
  const std::size_t n = x.dim(0), in = x.dim(1);
  std::vector<float> out(in * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < in; ++j) out[j * n + i] = x.data[i * in + j];
  return out;
}

std::uint32_t to_s8_bits(float v, float scale) {
  const float q = std::clamp(std::nearbyint(v / scale), -127.0f, 127.0f);
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(static_cast<std::int8_t>(q)));
}

float max_abs(std::span<const float> v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

bool fp16_holds_24(const sim::Tile& a) {
  for (int r = 0; r < a.rows; ++r)
    for (int c = 0; c < a.cols; c += 4) {
      int nz = 0;
      for (int i = 0; i < 4; ++i) nz += (a.at(r, c + i) & 0x7fffu) != 0;  // -0 counts as zero
      if (nz > 2) return false;
    }
  return true;
}

// D = W * columns through the simulator; returns out (M x cols) as floats, dequantised, and the row
// that ran. `columns` is K x cols row-major.
std::vector<float> simulated_product(const LayerMatrix& w, const std::vector<float>& columns, std::size_t cols,
                                     Arithmetic arithmetic, float activation_scale, SimulatedLayer& info,
                                     std::uint64_t& fallbacks) {
  const Rows rows = rows_for(arithmetic);
  const bool integer = arithmetic == Arithmetic::int8;
  const std::size_t mp = round_up(w.m, 16), kp = round_up(w.k, static_cast<std::size_t>(rows.sparse->k)),
                    np = round_up(cols, 8);
  std::vector<float> weight_scale(w.m, 1.0f);
  sim::Tile a(static_cast<int>(mp), static_cast<int>(kp));
  for (std::size_t r = 0; r < w.m; ++r) {
    if (integer) {
      const float mx = max_abs(std::span<const float>(w.w.data() + r * w.k, w.k));
      weight_scale[r] = mx > 0.0f ? mx / 127.0f : 1.0f;
    }
    for (std::size_t c = 0; c < w.k; ++c) {
      const float v = w.w[r * w.k + c];
      a.at(static_cast<int>(r), static_cast<int>(c)) =
          integer ? to_s8_bits(v, weight_scale[r]) : spec::encode(spec::fp16, static_cast<double>(v));
    }
  }
  sim::Tile b(static_cast<int>(kp), static_cast<int>(np));
  for (std::size_t kk = 0; kk < w.k; ++kk)
    for (std::size_t j = 0; j < cols; ++j) {
      const float v = columns[kk * cols + j];
      b.at(static_cast<int>(kk), static_cast<int>(j)) =
          integer ? to_s8_bits(v, activation_scale) : spec::encode(spec::fp16, static_cast<double>(v));
    }

  bool sparse = true;
  if (integer) {
    for (int r = 0; r < a.rows && sparse; ++r)
      for (int c = 0; c < a.cols && sparse; c += 4)
        sparse = (a.at(r, c) != 0) + (a.at(r, c + 1) != 0) + (a.at(r, c + 2) != 0) + (a.at(r, c + 3) != 0) <= 2;
  } else {
    sparse = fp16_holds_24(a);
  }
  const spec::Instruction& instr = sparse ? *rows.sparse : *rows.dense;
  sim::GemmOperands ops;
  if (sparse) {
    sim::CompressedA c = sim::compress_a(instr, a);
    ops.a = std::move(c.values);
    ops.metadata = std::move(c.metadata);
  } else {
    ops.a = std::move(a);
  }
  ops.b = std::move(b);
  ops.c = sim::Tile(static_cast<int>(mp), static_cast<int>(np));  // C = 0 (+0 in fp32 and s32)
  const sim::GemmResult res = sim::run_gemm(instr, rows.arch, ops);
  fallbacks += res.generic_fallbacks;
  info.instruction = std::string(instr.name);
  info.sparse = sparse;

  std::vector<float> out(w.m * cols);
  for (std::size_t r = 0; r < w.m; ++r)
    for (std::size_t j = 0; j < cols; ++j) {
      const std::uint32_t d = res.d.at(static_cast<int>(r), static_cast<int>(j));
      out[r * cols + j] = integer ? static_cast<float>(std::bit_cast<std::int32_t>(d)) * activation_scale * weight_scale[r]
                                  : spec::bits_float(d);
    }
  return out;
}

bool is_target(const Layer& layer) {
  if (const auto* lin = dynamic_cast<const Linear*>(&layer)) return lin->weight.prunable;
  if (const auto* conv = dynamic_cast<const Conv2d*>(&layer)) return conv->weight.prunable;
  return false;
}

const std::string& weight_name(const Layer& layer) {
  if (const auto* lin = dynamic_cast<const Linear*>(&layer)) return lin->weight.name;
  return dynamic_cast<const Conv2d&>(layer).weight.name;
}

}  // namespace

Tensor simulated_layer_forward(const Layer& layer, const Tensor& x, Arithmetic arithmetic, float activation_scale,
                               SimulatedLayer& info, std::uint64_t& fallbacks) {
  if (arithmetic == Arithmetic::fp32) throw std::invalid_argument("simulated_layer_forward: fp32 needs no simulator");
  if (dynamic_cast<const Linear*>(&layer) == nullptr && dynamic_cast<const Conv2d*>(&layer) == nullptr)
    throw std::invalid_argument(layer.name + " is neither Linear nor Conv2d");
  if (!(activation_scale > 0.0f) || !std::isfinite(activation_scale))
    throw std::invalid_argument("activation scale must be positive and finite");
  info.name = weight_name(layer);
  if (const auto* lin = dynamic_cast<const Linear*>(&layer)) {
    if (x.rank() != 2 || x.dim(1) != lin->weight.value.dim(1))
      throw std::invalid_argument(lin->name + ": input " + x.shape_string() + " has the wrong shape");
    const std::size_t n = x.dim(0), out = lin->weight.value.dim(0);
    const auto d = simulated_product(linear_matrix(*lin), linear_columns(x), n, arithmetic, activation_scale, info, fallbacks);
    Tensor y({n, out});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t o = 0; o < out; ++o)
        y.data[i * out + o] = d[o * n + i] + (lin->has_bias ? lin->bias.value.data[o] : 0.0f);
    return y;
  }
  const auto& conv = dynamic_cast<const Conv2d&>(layer);
  std::size_t oh = 0, ow = 0;
  const auto columns = conv_patches(conv, x, PatchLayout::columns, oh, ow);
  const std::size_t n = x.dim(0), cols = n * oh * ow;
  const auto d = simulated_product(conv_matrix(conv), columns, cols, arithmetic, activation_scale, info, fallbacks);
  Tensor y({n, conv.out_c, oh, ow});
  for (std::size_t img = 0; img < n; ++img)
    for (std::size_t o = 0; o < conv.out_c; ++o)
      for (std::size_t p = 0; p < oh * ow; ++p)
        y.data[(img * conv.out_c + o) * oh * ow + p] =
            d[o * cols + img * oh * ow + p] + (conv.has_bias ? conv.bias.value.data[o] : 0.0f);
  return y;
}

std::string to_string(Arithmetic a) {
  switch (a) {
    case Arithmetic::fp32: return "fp32";
    case Arithmetic::fp16_sm80: return "fp16-sm80";
    case Arithmetic::fp16_sm90: return "fp16-sm90";
    case Arithmetic::int8: return "int8";
  }
  return "?";
}

Arithmetic parse_arithmetic(const std::string& name) {
  for (Arithmetic a : {Arithmetic::fp32, Arithmetic::fp16_sm80, Arithmetic::fp16_sm90, Arithmetic::int8})
    if (to_string(a) == name) return a;
  throw std::invalid_argument("unknown arithmetic '" + name + "' (fp32, fp16-sm80, fp16-sm90, int8)");
}

Int8Calibration calibrate_int8(Model& model, const Dataset& data, std::size_t examples) {
  const std::size_t count = std::min(examples, data.size());
  if (count == 0) throw std::invalid_argument("int8 calibration needs at least one example");
  Int8Calibration cal;
  std::vector<std::size_t> idx(count);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  Tensor h = make_batch(data, idx, model.image_shape);
  for (auto& layer : model.net.layers) {
    if (is_target(*layer)) {
      const float mx = max_abs(h.data);
      cal.activation_scale[weight_name(*layer)] = mx > 0.0f ? mx / 127.0f : 1.0f;
    }
    h = layer->forward(h, false);
  }
  return cal;
}

SimulatedEvaluation evaluate_simulated(Model& model, const Dataset& data, Arithmetic arithmetic,
                                       const Int8Calibration* calibration, std::size_t batch_size) {
  if (batch_size == 0) throw std::invalid_argument("batch size must be positive");
  SimulatedEvaluation ev;
  if (arithmetic == Arithmetic::int8) {
    if (calibration == nullptr) throw std::invalid_argument("int8 inference needs a calibration (calibrate_int8)");
    for (auto& layer : model.net.layers)
      if (is_target(*layer) && !calibration->activation_scale.contains(weight_name(*layer)))
        throw std::invalid_argument("int8 calibration lacks layer " + weight_name(*layer));
  }
  std::size_t correct = 0;
  std::vector<std::size_t> idx;
  for (std::size_t start = 0; start < data.size(); start += batch_size) {
    const std::size_t n = std::min(batch_size, data.size() - start);
    idx.resize(n);
    std::iota(idx.begin(), idx.end(), start);
    Tensor h = make_batch(data, idx, model.image_shape);
    const bool first_batch = start == 0;
    for (auto& layer : model.net.layers) {
      if (arithmetic != Arithmetic::fp32 && is_target(*layer)) {
        SimulatedLayer info;
        const float scale = arithmetic == Arithmetic::int8 ? calibration->activation_scale.at(weight_name(*layer)) : 1.0f;
        h = simulated_layer_forward(*layer, h, arithmetic, scale, info, ev.generic_fallbacks);
        if (first_batch) ev.layers.push_back(info);
      } else {
        if (first_batch && is_target(*layer)) ev.layers.push_back({weight_name(*layer), "", false});
        h = layer->forward(h, false);
      }
    }
    if (h.rank() != 2 || h.dim(0) != n) throw std::logic_error("model output is not (examples, classes)");
    ev.classes = h.dim(1);
    ev.logits.insert(ev.logits.end(), h.data.begin(), h.data.end());
    const std::span<const std::uint8_t> labels(data.labels.data() + start, n);
    correct += softmax_cross_entropy(h, labels, nullptr).correct;
  }
  ev.accuracy = data.size() ? static_cast<double>(correct) / static_cast<double>(data.size())
                            : std::numeric_limits<double>::quiet_NaN();
  return ev;
}

double fraction_bits_differ(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) throw std::invalid_argument("fraction_bits_differ: sizes differ");
  if (a.empty()) return 0.0;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differ += std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i]);
  return static_cast<double>(differ) / static_cast<double>(a.size());
}

}  // namespace twofour::nn
