#include "twofour/cuda/device.hpp"

#include <cuda_runtime.h>

namespace twofour::cuda {

DeviceInfo query_devices() {
  DeviceInfo info;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    info.reason = cudaGetErrorString(status);
    return info;
  }
  info.count = count;
  if (count == 0) {
    info.reason = "the CUDA runtime reports no device";
    return info;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    info.name = prop.name;
    info.compute_capability = prop.major * 10 + prop.minor;
  }
  return info;
}

}  // namespace twofour::cuda
