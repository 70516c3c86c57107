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

// The simulator architecture whose datapath the present GPU has (the newest one not above it).
inline twofour::sim::spec::Arch device_arch() {
  const int cc = twofour::cuda::query_devices().compute_capability;
  twofour::sim::spec::Arch best = twofour::sim::spec::Arch::sm80;
  for (const twofour::sim::spec::Arch arch : twofour::sim::spec::all_archs)
    if (static_cast<int>(arch) <= cc) best = arch;
  return best;
}

}  // namespace cuda_test
