#pragma once
// The GEMMs of one of twofour's own trained models (nn/models.hpp), read off the model itself:
// each Linear is one GEMM (n = batch), each Conv2d one implicit GEMM (n = batch x output
// positions); a layer is sparse when its weight is one of the model's 2:4 targets.
#include "twofour/nn/models.hpp"
#include "twofour/perf/roofline.hpp"

namespace twofour::perf {

NetworkShape network_of(nn::Model& model);

}  // namespace twofour::perf
