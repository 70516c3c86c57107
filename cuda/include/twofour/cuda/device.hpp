#pragma once
// GPU discovery for the host side. Every GPU-dependent command and test asks here first and
// reports "no GPU" in one line instead of failing inside the CUDA runtime.
#include <string>

namespace twofour::cuda {

struct DeviceInfo {
  int count = 0;             // usable CUDA devices (0 without a driver or a GPU)
  std::string reason;        // why count is 0, from the CUDA runtime
  std::string name;          // device 0
  int compute_capability = 0;  // device 0, e.g. 80, 90
};

DeviceInfo query_devices();

}  // namespace twofour::cuda
