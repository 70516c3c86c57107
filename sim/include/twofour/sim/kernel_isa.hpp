#pragma once
// Which instruction set runs the GEMM level's fast kernels (gemm.hpp, GemmPath::fast): portable
// scalar code, AVX2 (+FMA, F16C) or AVX-512 (F, BW, DQ, VL). Every kernel gives the same bits as
// the reference datapath (blockfma.hpp); they differ only in speed (docs/simulator.md §Fast path).
// The default is the best the CPU supports; GemmOptions::isa or the environment variable
// TWOFOUR_SIM_ISA (scalar|avx2|avx512) forces one. Forcing one the CPU lacks throws
// std::runtime_error.
#include <cstdint>
#include <string_view>
#include <vector>

namespace twofour::sim {

enum class KernelIsa : std::uint8_t { automatic, scalar, avx2, avx512 };

std::string_view kernel_isa_name(KernelIsa isa);
// "scalar", "avx2", "avx512" or "auto"; throws std::invalid_argument otherwise.
KernelIsa parse_kernel_isa(std::string_view name);
bool kernel_isa_supported(KernelIsa isa);
// Whether the CPU converts fp16 <-> fp32 in vector registers (F16C), which both the simulator's and
// lib's AVX2/AVX-512 kernels use. Read from CPUID, since not every compiler's
// __builtin_cpu_supports knows "f16c" (clang 14 rejects it).
bool cpu_has_f16c();
// The instruction sets this CPU runs, scalar first.
std::vector<KernelIsa> supported_kernel_isas();
// What KernelIsa::automatic means here: TWOFOUR_SIM_ISA when set, else the best supported.
KernelIsa default_kernel_isa();

}  // namespace twofour::sim
