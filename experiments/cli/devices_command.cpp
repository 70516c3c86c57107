// `twofour devices`: whether the CUDA backend was built and which GPU the runtime sees.
#include "cli/command.hpp"
#include "twofour/build_info.hpp"

#ifdef TWOFOUR_HAVE_CUDA
#include "twofour/cuda/device.hpp"
#endif

#include <iostream>

namespace twofour::cli {
namespace {

RegisterCommand reg{{"devices", "Report the CUDA backend and the GPUs it can use (exit 77 when none)",
  [](CLI::App&) -> std::function<int()> {
    return []() {
#ifdef TWOFOUR_HAVE_CUDA
      const auto info = cuda::query_devices();
      if (info.count == 0) {
        std::cout << "CUDA backend built (sm_80, sm_90); no GPU available: " << info.reason << "\n";
        return 77;
      }
      std::cout << info.count << " GPU(s); device 0: " << info.name << ", sm_" << info.compute_capability << "\n";
      return 0;
#else
      std::cout << "CUDA backend not built: nvcc was not found when twofour was configured\n";
      return 77;
#endif
    };
  }}};

}  // namespace
}  // namespace twofour::cli
