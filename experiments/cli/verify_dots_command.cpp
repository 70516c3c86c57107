// `twofour verify-dots`: replays GPU-measured tensor-core dot products (the layout of
// tests/data/tensor-core-hw) through the simulated datapath of that GPU's architecture and reports
// every mismatch with its decoded inputs. Ends with "N passed, M failed"; exit 0 only if M == 0
// and N > 0.
#include "cli/command.hpp"
#include "twofour/io/input_file.hpp"
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/measured_dots.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace twofour::cli {
namespace {

RegisterCommand reg{{"verify-dots", "Replay GPU-measured tensor-core dot products through the simulated datapath",
  [](CLI::App& sub) -> std::function<int()> {
    struct Options {
      std::string gpu, format, out, dir;
    };
    auto o = std::make_shared<Options>();
    sub.add_option("--gpu", o->gpu,
                   "A100 (sm_80), A2 (sm_86), Ada, L40S (sm_89), H100 (sm_90), B200 (sm_100); also RTX3090 (sm_86), "
                   "RTX4090 (sm_89), H200 (sm_90): simulated as their architecture, not measured [I]")
        ->required();
    sub.add_option("--format", o->format, "input format: fp16, bf16, tf32, e4m3, e5m2")->required();
    sub.add_option("--out", o->out, "output format: fp32 or fp16")->required();
    sub.add_option("DIR", o->dir, "folder with GPU/FORMAT/ subfolders (tests/data/tensor-core-hw layout)")->required();
    return [o]() {
      const sim::GpuInfo* gpu = sim::find_gpu(o->gpu);
      if (gpu == nullptr) throw UsageError("unknown --gpu '" + o->gpu + "' (" + sim::known_gpu_names() + ")");
      try {
        io::require_input_folder(o->dir);
      } catch (const io::FormatError& e) {
        throw CommandFailed(e.what());
      }
      if (!gpu->measured) {
        std::cout << "note: " << gpu->name << " is simulated as " << sim::spec::arch_name(gpu->arch) << " [I]: "
                  << gpu->note << "\n";
      }
      sim::MeasuredDots dots;
      try {
        dots = sim::read_measured_dots(o->dir, o->gpu, o->format, o->out);
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      } catch (const sim::MeasuredDotsError& e) {
        throw CommandFailed(e.what());
      }
      const auto spec = sim::spec::find_datapath(dots.arch, *dots.in_format, *dots.in_format, *dots.out_format);
      if (!spec && dots.instruction == nullptr) {
        throw UsageError("no " + std::string(dots.in_format->name) + " -> " + std::string(dots.out_format->name) +
                         " tensor-core datapath on " + dots.gpu);
      }
      if (dots.instruction != nullptr) {
        const bool lowered = sim::lowering_of(*dots.instruction, dots.arch) == sim::Lowering::fp8_via_fp16_sm90;
        std::cout << "replayed through " << dots.instruction->ptx << " on " << sim::spec::arch_name(dots.arch)
                  << (lowered ? std::string(" (ptxas lowering: two fp16 HMMAs, then ") +
                                    (*dots.out_format == sim::spec::fp16 ? "HADD2" : "FADD") + " of C)"
                              : std::string(" (native)"))
                  << "\n";
      }
      const sim::spec::FormatSpec& in = *dots.in_format;
      const sim::spec::FormatSpec& out = *dots.out_format;
      std::size_t passed = 0, failed = 0;
      for (std::size_t i = 0; i < dots.cases.size(); ++i) {
        const sim::MeasuredCase& mc = dots.cases[i];
        const std::uint32_t d = sim::simulate_case(dots, mc);
        if (d == mc.d) {
          ++passed;
          continue;
        }
        ++failed;
        std::cout << "case " << i + 1 << " (line " << i + 1 << "): mismatch\n";
        for (std::size_t k = 0; k < mc.a.size(); ++k) {
          std::cout << "  a[" << k << "] " << sim::describe_bits(in, mc.a[k]) << "   b[" << k << "] "
                    << sim::describe_bits(in, mc.b[k]) << "\n";
        }
        std::cout << "  c " << sim::describe_bits(out, mc.c) << (dots.c_forced_zero ? " (fp8: C = 0, data README)" : "")
                  << "\n";
        std::cout << "  GPU       d " << sim::describe_bits(out, mc.d) << "\n";
        std::cout << "  simulated d " << sim::describe_bits(out, d) << "\n";
      }
      std::cout << passed << " passed, " << failed << " failed" << std::endl;
      return (failed == 0 && passed > 0) ? 0 : 1;
    };
  }}};

}  // namespace
}  // namespace twofour::cli
