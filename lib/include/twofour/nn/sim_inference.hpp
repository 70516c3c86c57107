#pragma once
// Inference under exact tensor-core arithmetic. The model's 2:4 target layers
// (Model::pruned_parameters: the MLP's fc1, fc2; the CNN's conv2, conv3, fc1) run through the
// simulator's GEMM level (sim/gemm.hpp) the way a CUDA kernel would execute them:
//   - the weight is A (out x in; a convolution's weight reordered to (out, R*S*C) so that its 2:4
//     groups along input channels are 4 consecutive K, as in NHWC kernels), the layer input is B
//     (in x examples; im2col with the same (r, s, c) order for convolutions), C = 0;
//   - a weight whose quantised form is 2:4 runs on `mma.sp` (compressed by sim::compress_a), any
//     other on the dense twin; K, M and N are zero-padded to the instruction's tile;
//   - fp16: weights and inputs rounded to fp16 (RN, as cvt.rn.f16.f32), fp32 accumulate, on the
//     sm_80 or sm_90 datapath; int8: symmetric per-output-channel weight scales, a static
//     per-tensor activation scale from calibration data, s32 accumulate (exact, so sm_80 and sm_90
//     agree), dequantised in fp32;
//   - the bias is added in fp32 after the GEMM (a kernel's epilogue); every other layer (the dense
//     first convolution and classifier, BatchNorm, ReLU, pooling) runs in fp32 as in training.
#include "twofour/nn/data.hpp"
#include "twofour/nn/models.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace twofour::nn {

enum class Arithmetic { fp32, fp16_sm80, fp16_sm90, int8 };
std::string to_string(Arithmetic a);             // "fp32", "fp16-sm80", "fp16-sm90", "int8"
Arithmetic parse_arithmetic(const std::string&); // throws std::invalid_argument

// Static activation scales for int8: for each target layer (keyed by its weight's name),
// max |input| over the calibration examples / 127.
struct Int8Calibration {
  std::map<std::string, float> activation_scale;
};
Int8Calibration calibrate_int8(Model& model, const Dataset& data, std::size_t examples = 1000);

struct SimulatedLayer {
  std::string name;         // the weight's name ("fc1.weight")
  std::string instruction;  // the sim/spec row that ran it, "" for fp32
  bool sparse = false;      // ran on mma.sp
};

struct SimulatedEvaluation {
  double accuracy = 0;
  std::size_t classes = 0;
  std::vector<float> logits;  // examples x classes, row-major
  std::vector<SimulatedLayer> layers;
  std::uint64_t generic_fallbacks = 0;  // (element, k-step) pairs the fast GEMM path ran generically
};

// Throws std::invalid_argument for int8 without a calibration that covers every target layer.
SimulatedEvaluation evaluate_simulated(Model& model, const Dataset& data, Arithmetic arithmetic,
                                       const Int8Calibration* calibration = nullptr, std::size_t batch_size = 250);

// One Linear or Conv2d layer through the simulator (what evaluate_simulated does for each target
// layer); `activation_scale` is the int8 input scale (ignored for fp16). Adds the GEMM's generic
// fallbacks to `fallbacks`. Throws std::invalid_argument for fp32, another layer kind or bad input.
Tensor simulated_layer_forward(const Layer& layer, const Tensor& x, Arithmetic arithmetic, float activation_scale,
                               SimulatedLayer& info, std::uint64_t& fallbacks);

// Fraction of positions whose float32 bit patterns differ (the spans must have equal sizes).
double fraction_bits_differ(std::span<const float> a, std::span<const float> b);

}  // namespace twofour::nn
