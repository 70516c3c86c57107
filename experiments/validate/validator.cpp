#include "validate/validator.hpp"

#include "twofour/io/atomic_file.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/validation_cases.hpp"
#include "validate/compare.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <sstream>
#include <ostream>
#include <random>
#include <stdexcept>

namespace twofour::validate {
namespace {

namespace spec = sim::spec;
using sim::GeneratedCase;
using sim::generate_case;
using sim::case_class_name;

// Prints failing cases within the limits and counts them.
class Reporter {
 public:
  Reporter(const ReportLimits& limits, std::ostream& log) : limits_(limits), log_(log) {}

  void record(const std::string& where, const std::string& cls, const spec::Instruction& instr, int selector,
              const sim::WarpRegisters& regs, const CaseComparison& c, const std::string& observed_name, Tally& tally) {
    if (c.unconfirmed) ++tally.unconfirmed;
    if (c.passed()) {
      ++tally.passed;
      return;
    }
    ++tally.failed;
    ++tally.failed_by_class[cls];
    tally.mismatching_elements += c.mismatches.size();
    if (!c.error.empty()) {
      line(where + ": " + c.error);
      return;
    }
    if (full_ < limits_.full) {
      log_ << where << ": " << c.mismatches.size() << " D element(s) differ\n";
      for (const ElementMismatch& m : c.mismatches) {
        if (full_ >= limits_.full) break;
        log_ << describe_mismatch(instr, selector, regs, m, observed_name);
        ++full_;
      }
      return;
    }
    const ElementMismatch& m = c.mismatches.front();
    line(where + ": " + std::to_string(c.mismatches.size()) + " D element(s) differ, first lane " +
         std::to_string(m.lane) + " register " + std::to_string(m.reg) + " (row " + std::to_string(m.row) + ", col " +
         std::to_string(m.col) + "): " + observed_name + " " + sim::describe_bits(*instr.d, m.observed) + " vs sim " +
         sim::describe_bits(*instr.d, m.simulated));
  }

 private:
  void line(const std::string& text) {
    if (lines_ < limits_.one_line) log_ << text << "\n";
    else if (lines_ == limits_.one_line) log_ << "(further failing cases not listed)\n";
    ++lines_;
  }
  ReportLimits limits_;
  std::ostream& log_;
  std::size_t full_ = 0, lines_ = 0;
};

std::string row_summary(const spec::Instruction& instr, const Tally& t) {
  std::string s = std::string(instr.name) + ": " + summary_line(t);
  if (t.unconfirmed != 0) s += " (" + std::to_string(t.unconfirmed) + " with unconfirmed descending metadata)";
  if (!t.failed_by_class.empty()) {
    s += "; failing classes:";
    for (const auto& [cls, n] : t.failed_by_class) s += " " + cls + "=" + std::to_string(n);
  }
  return s;
}

}  // namespace

void Tally::add(const Tally& o) {
  passed += o.passed;
  failed += o.failed;
  mismatching_elements += o.mismatching_elements;
  unconfirmed += o.unconfirmed;
  for (const auto& [cls, n] : o.failed_by_class) failed_by_class[cls] += n;
}

std::string summary_line(const Tally& t) {
  return std::to_string(t.passed) + " passed, " + std::to_string(t.failed) + " failed";
}

std::vector<const spec::Instruction*> select_rows(std::string_view selection, spec::Arch arch) {
  std::vector<const spec::Instruction*> rows;
  const auto add = [&rows](const spec::Instruction* in) {
    if (std::find(rows.begin(), rows.end(), in) == rows.end()) rows.push_back(in);
  };
  std::size_t start = 0;
  while (start <= selection.size()) {
    const std::size_t comma = std::min(selection.find(',', start), selection.size());
    const std::string item(selection.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) throw std::invalid_argument("empty instruction name in '" + std::string(selection) + "'");
    const bool pattern = item == "all" || item.find_first_of("*?[") != std::string::npos;
    bool matched = false;
    for (const spec::Instruction& in : spec::instruction_table) {
      const std::string name(in.name);
      const bool hit = item == "all" || (pattern ? fnmatch(item.c_str(), name.c_str(), 0) == 0 : item == name);
      if (!hit) continue;
      matched = true;
      if (sim::instruction_supported(in, arch)) {
        add(&in);
      } else if (!pattern) {
        throw std::invalid_argument(name + " does not run on " + std::string(spec::arch_name(arch)));
      }
    }
    if (!matched)
      throw std::invalid_argument("no instruction row matches '" + item + "' (see `twofour explain --list`)");
  }
  if (rows.empty()) throw std::invalid_argument("'" + std::string(selection) + "' selects no row that runs on " +
                                                std::string(spec::arch_name(arch)));
  return rows;
}

Tally validate_on_gpu(Gpu& gpu, const ValidateOptions& options, std::ostream& log) {
  Tally total;
  Reporter reporter(options.limits, log);
  const spec::Arch arch = gpu.arch();
  sim::VectorFile out;
  out.header.generator = "twofour-validate";
  out.header.seed = options.seed;
  out.header.arch = arch;
  out.header.source = "GPU " + gpu.name();
  for (const spec::Instruction* instr : options.rows) {
    Tally row;
    for (std::uint64_t first = 0; first < options.cases_per_row; first += options.batch) {
      const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(options.batch, options.cases_per_row - first));
      std::vector<GeneratedCase> cases(count);
#pragma omp parallel for schedule(dynamic, 64)
      for (std::size_t i = 0; i < count; ++i) cases[i] = generate_case(*instr, options.seed, first + i);

      // The runner takes one selector per launch.
      std::vector<sim::WarpOutput> gpu_d(count);
      const int selectors = instr->is_sparse() ? instr->selector_count() : 1;
      for (int sel = 0; sel < selectors; ++sel) {
        std::vector<std::size_t> members;
        for (std::size_t i = 0; i < count; ++i)
          if (cases[i].selector == sel) members.push_back(i);
        if (members.empty()) continue;
        std::vector<sim::LaneRegisters> lanes;
        lanes.reserve(members.size() * 32);
        for (std::size_t i : members) lanes.insert(lanes.end(), cases[i].regs.begin(), cases[i].regs.end());
        std::vector<std::array<std::uint32_t, 4>> d(lanes.size());
        gpu.run(*instr, sel, lanes, d);
        for (std::size_t q = 0; q < members.size(); ++q)
          for (std::size_t lane = 0; lane < 32; ++lane) gpu_d[members[q]][lane] = d[q * 32 + lane];
      }

      std::vector<CaseComparison> results(count);
#pragma omp parallel for schedule(dynamic, 16)
      for (std::size_t i = 0; i < count; ++i)
        results[i] = compare_case(*instr, arch, cases[i].selector, cases[i].regs, gpu_d[i], options.execution);

      for (std::size_t i = 0; i < count; ++i) {
        const std::string cls(case_class_name(cases[i].cls));
        const std::string where = std::string(instr->name) + " case " + std::to_string(first + i) + " (" + cls +
                                  ", selector " + std::to_string(cases[i].selector) + ", seed " +
                                  std::to_string(options.seed) + ")";
        reporter.record(where, cls, *instr, cases[i].selector, cases[i].regs, results[i], "GPU", row);
        if (options.out) out.cases.push_back({instr, cases[i].selector, cases[i].regs, gpu_d[i], 0});
      }
    }
    log << row_summary(*instr, row) << "\n";
    total.add(row);
  }
  if (options.out) {
    std::ostringstream text;
    sim::write_vectors(text, out);
    io::write_file_atomically(*options.out, text.str());
  }
  return total;
}

Tally replay_vectors(const sim::VectorFile& file, const std::string& source_name, const sim::ExecutionOptions& execution,
                     const ReportLimits& limits, std::ostream& log) {
  Tally total;
  Reporter reporter(limits, log);
  std::vector<CaseComparison> results(file.cases.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (std::size_t i = 0; i < file.cases.size(); ++i) {
    const sim::VectorCase& c = file.cases[i];
    results[i] = compare_case(*c.instr, file.header.arch, c.selector, c.in, c.d, execution);
  }
  for (std::size_t i = 0; i < file.cases.size(); ++i) {
    const sim::VectorCase& c = file.cases[i];
    const std::string where = source_name + ":" + std::to_string(c.line) + " " + std::string(c.instr->name) +
                              " selector " + std::to_string(c.selector);
    reporter.record(where, std::string(c.instr->name), *c.instr, c.selector, c.in, results[i],
                    "recorded (" + file.header.source + ")", total);
  }
  return total;
}

GemmShape parse_gemm_shape(std::string_view text) {
  GemmShape s;
  int* dims[] = {&s.m, &s.n, &s.k};
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t end = i < 2 ? text.find('x', pos) : text.size();
    if (end == std::string_view::npos) break;
    const std::string_view part = text.substr(pos, end - pos);
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), *dims[i]);
    if (ec != std::errc() || ptr != part.data() + part.size() || *dims[i] <= 0)
      throw std::invalid_argument("--gemm wants MxNxK with positive integers, got '" + std::string(text) + "'");
    pos = end + 1;
  }
  if (s.k == 0) throw std::invalid_argument("--gemm wants MxNxK with positive integers, got '" + std::string(text) + "'");
  return s;
}

Tally validate_gemm_on_gpu(Gpu& gpu, const std::vector<const spec::Instruction*>& rows, GemmShape shape,
                           std::uint64_t seed, const sim::ExecutionOptions& execution, const ReportLimits& limits,
                           std::ostream& log) {
  Tally total;
  for (const spec::Instruction* instr : rows) {
    std::mt19937_64 rng(seed);
    if (shape.m % instr->m != 0 || shape.n % instr->n != 0 || shape.k % instr->k != 0) {
      log << instr->name << ": GEMM " << shape.m << "x" << shape.n << "x" << shape.k << " skipped (not a multiple of "
          << instr->m << "x" << instr->n << "x" << instr->k << ")\n";
      continue;
    }
    sim::GemmOperands g;
    const int steps = shape.k / instr->k;
    g.a = sim::Tile(shape.m, instr->is_sparse() ? steps * instr->stored_k() : shape.k);
    g.b = sim::Tile(shape.k, shape.n);
    g.c = sim::Tile(shape.m, shape.n);
    for (auto& v : g.a.bits) v = sim::random_element(*instr->a, rng);
    for (auto& v : g.b.bits) v = sim::random_element(*instr->b, rng);
    for (auto& v : g.c.bits) v = sim::random_element(*instr->c, rng);
    if (instr->is_sparse()) {
      g.metadata.resize(static_cast<std::size_t>(shape.m) * static_cast<std::size_t>(steps * instr->chunks_per_row()));
      for (auto& v : g.metadata) v = sim::random_nibble(*instr, rng);
    }
    const std::optional<sim::Tile> got = gpu.run_gemm(*instr, g);
    if (!got) {
      log << instr->name << ": no GPU GEMM kernel for this row, skipped\n";
      continue;
    }
    sim::GemmOptions options;
    options.execution = execution;
    const sim::Tile want = sim::run_gemm(*instr, gpu.arch(), g, options).d;
    Tally row;
    std::size_t shown = 0;
    for (int i = 0; i < shape.m; ++i) {
      for (int j = 0; j < shape.n; ++j) {
        if (got->at(i, j) == want.at(i, j)) {
          ++row.passed;
          continue;
        }
        ++row.failed;
        ++row.mismatching_elements;
        if (shown++ < limits.full)
          log << "  " << instr->name << " GEMM D(" << i << ", " << j << "): GPU " << sim::describe_bits(*instr->d, got->at(i, j))
              << " vs sim " << sim::describe_bits(*instr->d, want.at(i, j)) << "\n";
      }
    }
    log << instr->name << " GEMM " << shape.m << "x" << shape.n << "x" << shape.k << " (elements): " << summary_line(row)
        << "\n";
    total.add(row);
  }
  return total;
}

}  // namespace twofour::validate
