// Instruction-set choice for the GEMM fast path (kernel_isa.hpp): CPU feature tests and the table
// of each instruction set's kernels (gemm_fast_kernels.hpp).
#include "twofour/sim/kernel_isa.hpp"

#include "gemm_fast_kernels.hpp"

#include <cstdlib>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdexcept>
#include <string>

namespace twofour::sim {

std::string_view kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::automatic: return "auto";
    case KernelIsa::scalar: return "scalar";
    case KernelIsa::avx2: return "avx2";
    case KernelIsa::avx512: return "avx512";
  }
  return "?";
}

KernelIsa parse_kernel_isa(std::string_view name) {
  if (name == "scalar") return KernelIsa::scalar;
  if (name == "avx2") return KernelIsa::avx2;
  if (name == "avx512") return KernelIsa::avx512;
  if (name == "auto" || name.empty()) return KernelIsa::automatic;
  throw std::invalid_argument("unknown instruction set '" + std::string(name) + "' (scalar, avx2, avx512 or auto)");
}

// F16C is CPUID leaf 1, ECX bit 29 (Intel SDM Vol. 2A, CPUID instruction, feature information).
// Read once: in a virtual machine CPUID traps to the hypervisor (microseconds), and the GEMM
// dispatch asks at every call (uncached, it was 5.5% of a training step of the MLP).
bool cpu_has_f16c() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return ((ecx >> 29) & 1u) != 0;
  }();
  return has;
#else
  return false;
#endif
}

bool kernel_isa_supported(KernelIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
  switch (isa) {
    case KernelIsa::automatic:
    case KernelIsa::scalar: return true;
    case KernelIsa::avx2: return avx2;
    case KernelIsa::avx512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  }
  return false;
#else
  return isa == KernelIsa::scalar || isa == KernelIsa::automatic;
#endif
}

std::vector<KernelIsa> supported_kernel_isas() {
  std::vector<KernelIsa> out;
  for (KernelIsa isa : {KernelIsa::scalar, KernelIsa::avx2, KernelIsa::avx512})
    if (kernel_isa_supported(isa)) out.push_back(isa);
  return out;
}

KernelIsa default_kernel_isa() {
  if (const char* env = std::getenv("TWOFOUR_SIM_ISA"); env != nullptr && *env != '\0') {
    const KernelIsa forced = parse_kernel_isa(env);
    if (forced != KernelIsa::automatic) return forced;
  }
  if (kernel_isa_supported(KernelIsa::avx512)) return KernelIsa::avx512;
  if (kernel_isa_supported(KernelIsa::avx2)) return KernelIsa::avx2;
  return KernelIsa::scalar;
}

namespace gemm_detail {

const KernelTable& resolve_kernels(KernelIsa requested) {
  const KernelIsa isa = requested == KernelIsa::automatic ? default_kernel_isa() : requested;
  if (!kernel_isa_supported(isa))
    throw std::runtime_error("twofour::sim GEMM: instruction set '" + std::string(kernel_isa_name(isa)) +
                             "' was requested but this CPU does not support it");
  switch (isa) {
    case KernelIsa::avx512: return avx512::table();
    case KernelIsa::avx2: return avx2::table();
    default: return scalar::table();
  }
}

}  // namespace gemm_detail
}  // namespace twofour::sim
