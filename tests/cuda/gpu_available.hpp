#pragma once
// GPU tests skip (GTEST_SKIP) with the runtime's reason when no device is present:
//   if (const std::string why = cuda_test::no_gpu_reason(); !why.empty()) GTEST_SKIP() << why;
#include "twofour/cuda/device.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <string>

namespace cuda_test {

// Empty when a GPU is usable, else "no GPU: <reason>".
inline std::string no_gpu_reason() {
  const twofour::cuda::DeviceInfo info = twofour::cuda::query_devices();
  return info.count > 0 ? std::string() : "no GPU: " + info.reason;
}

// The simulator architecture whose datapath the present GPU has (sm_90 for Hopper and newer).
inline twofour::sim::spec::Arch device_arch() {
  const int cc = twofour::cuda::query_devices().compute_capability;
  if (cc >= 90) return twofour::sim::spec::Arch::sm90;
  if (cc == 89) return twofour::sim::spec::Arch::sm89;
  return twofour::sim::spec::Arch::sm80;
}

}  // namespace cuda_test
