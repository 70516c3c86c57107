// `twofour validate`: the GPU-versus-simulator validator. Generated cases run on the GPU
// and in the simulator, every mismatch is printed decoded, and the last line is
// "N passed, M failed". --vectors replays a test-vector file's recorded outputs against the
// simulator without a GPU; --gemm checks the GPU GEMM kernel against sim's GEMM level; --probe
// runs the probes of docs/isa-findings.md §GPU probes. Exit: 0 all pass, 1 mismatches or bad input file, 2 usage,
// 77 no GPU (one line). The logic lives in experiments/validate/.
#include "cli/command.hpp"
#include "twofour/io/input_file.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "validate/gpu.hpp"
#include "validate/probes.hpp"
#include "validate/validator.hpp"

#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace twofour::cli {
namespace {

namespace spec = sim::spec;

struct Options {
  std::string instr = "all";
  std::uint64_t cases = 1000;
  std::uint64_t seed = 1;
  std::string vectors;
  std::string out;
  std::string gemm;
  std::string probe;
  std::string grouping = "stored";
  std::size_t max_report = 20;
};

sim::ExecutionOptions execution(const Options& o) {
  sim::ExecutionOptions e;
  if (o.grouping == "logical") e.grouping = sim::SparseGrouping::logical_k;
  else if (o.grouping != "stored") throw UsageError("--grouping must be stored or logical");
  return e;
}

std::vector<const spec::Instruction*> rows_for(const Options& o, spec::Arch arch) {
  try {
    return validate::select_rows(o.instr, arch);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

int exit_code(const validate::Tally& t) { return t.failed == 0 && t.passed > 0 ? 0 : 1; }

int replay(const Options& o, const sim::ExecutionOptions& exec, const validate::ReportLimits& limits) {
  sim::VectorFile file;
  try {
    std::istringstream text(io::read_text_file(o.vectors));
    file = sim::read_vectors(text, o.vectors);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  if (file.cases.empty()) throw CommandFailed(o.vectors + ": the file holds a header but no test vectors");
  if (o.instr != "all") {
    const auto rows = rows_for(o, file.header.arch);
    std::erase_if(file.cases, [&rows](const sim::VectorCase& c) {
      return std::find(rows.begin(), rows.end(), c.instr) == rows.end();
    });
  }
  if (file.cases.empty()) throw CommandFailed(o.vectors + ": no test vector of the rows selected by --instr " + o.instr);
  const validate::Tally t = validate::replay_vectors(file, o.vectors, exec, limits, std::cout);
  std::cout << validate::summary_line(t) << "\n";
  return exit_code(t);
}

int run(const Options& o) {
  const sim::ExecutionOptions exec = execution(o);
  validate::ReportLimits limits;
  limits.full = o.max_report;
  if (o.cases == 0) throw UsageError("--cases must be at least 1");
  if (!o.vectors.empty()) {
    if (!o.out.empty() || !o.gemm.empty() || !o.probe.empty())
      throw UsageError("--vectors replays a file; it cannot be combined with --out, --gemm or --probe");
    return replay(o, exec, limits);
  }
  // Usage errors first, so that they are reported the same with or without a GPU.
  (void)rows_for(o, spec::Arch::sm90);
  std::optional<validate::GemmShape> shape;
  if (!o.gemm.empty()) {
    try {
      shape = validate::parse_gemm_shape(o.gemm);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (!o.probe.empty() && o.probe != "all") {
    try {
      (void)validate::make_probe(o.probe, spec::Arch::sm90);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }

  if (!o.out.empty()) io::OutputSet check({}, {o.out});  // a bad --out fails before any GPU work

  std::string why_not;
  const std::unique_ptr<validate::Gpu> gpu = validate::open_cuda_gpu(why_not);
  if (!gpu) {
    std::cout << "twofour validate: " << why_not << " (use --vectors FILE to check recorded outputs without one)\n";
    return 77;
  }
  std::cout << "GPU: " << gpu->name() << ", simulated as " << spec::arch_name(gpu->arch()) << "\n";
  if (!o.probe.empty()) {
    validate::run_probes(*gpu, o.probe, std::cout);
    return 0;
  }
  if (shape) {
    const validate::Tally t =
        validate::validate_gemm_on_gpu(*gpu, rows_for(o, gpu->arch()), *shape, o.seed, exec, limits, std::cout);
    std::cout << validate::summary_line(t) << "\n";
    return exit_code(t);
  }
  validate::ValidateOptions v;
  v.rows = rows_for(o, gpu->arch());
  v.cases_per_row = o.cases;
  v.seed = o.seed;
  v.execution = exec;
  v.limits = limits;
  if (!o.out.empty()) {
    // The file holds every case (~4 KB each); keep it committable and in memory.
    if (o.cases * v.rows.size() > 100000) throw UsageError("--out writes every case: use at most 100000 cases in all");
    v.out = o.out;
  }
  const validate::Tally t = validate::validate_on_gpu(*gpu, v, std::cout);
  std::cout << validate::summary_line(t) << "\n";
  return exit_code(t);
}

RegisterCommand reg{{"validate", "Check the GPU's mma / mma.sp (and GEMM) bit for bit against the simulator",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("--instr", o->instr, "Rows: all, a name, or a comma-separated list of names and patterns (*F16*)");
    sub.add_option("--cases", o->cases, "Generated cases per row (default 1000)");
    sub.add_option("--seed", o->seed, "Seed of the case generator (default 1)");
    sub.add_option("--vectors", o->vectors, "Replay a test-vector file's recorded D against the simulator (no GPU needed)");
    sub.add_option("--out", o->out, "Write the GPU's outputs as a test-vector file");
    sub.add_option("--gemm", o->gemm, "Validate the GPU GEMM kernel against sim's GEMM level, shape MxNxK");
    sub.add_option("--probe", o->probe, "Run a probe of docs/isa-findings.md on the GPU: grouping, descending, nan, negzero, overflow, fp8, all");
    sub.add_option("--grouping", o->grouping, "Simulator's sparse grouping: stored (default) or logical");
    sub.add_option("--max-report", o->max_report, "Mismatching elements described in full (default 20)");
    return [o]() { return run(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
