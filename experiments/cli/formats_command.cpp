// `twofour formats`: the number-format table, and single conversions/decodings with any PTX
// rounding modifier — a quick way to see what `cvt` produces for a value.
#include "cli/command.hpp"
#include "common/perf_report.hpp"
#include "twofour/io/array.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

namespace twofour::cli {
namespace {

using sim::spec::FormatSpec;
using sim::spec::RoundingMode;

const std::map<std::string, RoundingMode> kModes = {
    {"rn", RoundingMode::nearest_even},      {"rz", RoundingMode::toward_zero},
    {"rm", RoundingMode::toward_negative},   {"rp", RoundingMode::toward_positive},
    {"rna", RoundingMode::nearest_ties_away}};

const FormatSpec& format_named(const std::string& name) {
  const FormatSpec* f = sim::spec::find_format(name);
  if (f == nullptr) throw UsageError("unknown format '" + name + "' (fp32 fp16 bf16 tf32 e4m3 e5m2 s8 u8 s4 u4 s32)");
  return *f;
}

void print_table() {
  std::printf("%-5s %4s %4s %4s %5s  %-14s %-14s %s\n", "name", "bits", "exp", "man", "bias", "max finite",
              "min subnormal", "specials");
  for (const FormatSpec* f : sim::spec::all_formats) {
    if (f->is_integer) {
      std::printf("%-5s %4d %4s %4s %5s  %-14s %-14s %s\n", std::string(f->name).c_str(), f->bits, "-", "-", "-", "-",
                  "-", f->is_signed ? "two's complement" : "unsigned");
      continue;
    }
    const double max = sim::spec::decode_to_double(*f, sim::spec::max_finite_bits(*f, false));
    const double min_sub = sim::spec::decode_to_double(*f, 1u << f->ignored_low_bits);
    const char* specials = f->nan == sim::spec::NanEncoding::mantissa_all_ones ? "NaN=S.1111.111, no Inf" : "IEEE Inf/NaN";
    std::printf("%-5s %4d %4d %4d %5d  %-14.8g %-14.8g %s\n", std::string(f->name).c_str(), f->bits, f->exponent_bits,
                f->mantissa_bits, f->bias, max, min_sub, specials);
  }
}

RegisterCommand reg{{"formats", "Show the number formats, convert a value (like PTX cvt) or decode a bit pattern",
  [](CLI::App& sub) -> std::function<int()> {
    struct Options {
      std::string format, value, bits, mode = "rn";
      bool satfinite = false, table = false;
    };
    auto o = std::make_shared<Options>();
    sub.add_option("--format", o->format, "fp32, fp16, bf16, tf32, e4m3, e5m2, s8, u8, s4, u4");
    sub.add_option("--value", o->value, "a decimal value to convert to --format");
    sub.add_option("--bits", o->bits, "a bit pattern (hex) of --format to decode");
    sub.add_option("--mode", o->mode, "rounding: rn (nearest even), rz, rm, rp, rna (ties away)");
    sub.add_flag("--satfinite", o->satfinite, "clamp overflow to the largest finite value");
    sub.add_flag("--table", o->table,
                 "Table 1: each GPU's published dense and 2:4 sparse tensor-core peak per data type (data/perf/gpus.json)");
    return [o]() {
      if (o->table) {
        if (!o->format.empty() || !o->value.empty() || !o->bits.empty()) throw UsageError("--table takes no other option");
        try {
          std::cout << experiments::table1_text(perf::load_gpu_table(experiments::perf_data_dir() / "gpus.json"));
        } catch (const io::FormatError& e) {
          throw CommandFailed(e.what());
        }
        return 0;
      }
      if (o->format.empty()) {
        if (!o->value.empty() || !o->bits.empty()) throw UsageError("--value and --bits need --format");
        print_table();
        return 0;
      }
      const FormatSpec& f = format_named(o->format);
      const auto mode = kModes.find(o->mode);
      if (mode == kModes.end()) throw UsageError("unknown rounding mode '" + o->mode + "' (rn rz rm rp rna)");
      if (!o->value.empty()) {
        std::size_t used = 0;
        double x = 0;
        try {
          x = std::stod(o->value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != o->value.size()) throw UsageError("--value '" + o->value + "' is not a number");
        const std::uint32_t bits = sim::spec::encode(f, x, mode->second, o->satfinite);
        std::cout << o->value << " -> " << f.name << " (" << o->mode << (o->satfinite ? ", satfinite" : "")
                  << "): " << sim::describe_bits(f, bits) << "\n";
      }
      if (!o->bits.empty()) {
        std::size_t used = 0;
        unsigned long bits = 0;
        try {
          bits = std::stoul(o->bits, &used, 16);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != o->bits.size() || bits > f.container_mask())
          throw UsageError("--bits '" + o->bits + "' is not a " + std::string(f.name) + " bit pattern in hex");
        std::cout << f.name << " " << sim::describe_bits(f, static_cast<std::uint32_t>(bits)) << "\n";
      }
      if (o->value.empty() && o->bits.empty()) throw UsageError("give --value or --bits with --format");
      return 0;
    };
  }}};

}  // namespace
}  // namespace twofour::cli
