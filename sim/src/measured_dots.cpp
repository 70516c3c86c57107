// Reader of the GPU-measured dot products; the layout is described in measured_dots.hpp.
#include "twofour/sim/measured_dots.hpp"

#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/find_instruction.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <bit>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

namespace twofour::sim {
namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return r;
}
std::string upper(std::string_view s) {
  std::string r(s);
  for (char& ch : r) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return r;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw MeasuredDotsError(path.string() + ": cannot open (missing file?)");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().find_first_not_of(" \t") == std::string::npos) lines.pop_back();
  if (lines.empty()) throw MeasuredDotsError(path.string() + ": empty file");
  return lines;
}

std::string where(const std::filesystem::path& path, std::size_t line) {
  return path.string() + ":" + std::to_string(line + 1) + ": ";
}

std::uint32_t parse_word(const std::string& token, int base, const std::filesystem::path& path, std::size_t line) {
  const std::size_t digits = base == 16 ? 8 : 32;
  bool ok = token.size() == digits;
  std::uint32_t v = 0;
  for (char ch : token) {
    int d = -1;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
    if (d < 0 || d >= base) ok = false;
    else v = v * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(d);
  }
  if (!ok) {
    throw MeasuredDotsError(where(path, line) + "'" + token + "' is not a " + std::to_string(digits) +
                            (base == 16 ? "-digit hex" : "-digit binary") + " float32 word");
  }
  return v;
}

std::vector<std::uint32_t> parse_line(const std::string& text, int base, const std::filesystem::path& path,
                                      std::size_t line) {
  std::istringstream in(text);
  std::vector<std::uint32_t> words;
  std::string token;
  while (in >> token) words.push_back(parse_word(token, base, path, line));
  return words;
}

// float32 bits of an exact value -> pattern of `f`; throws when not exactly representable.
std::uint32_t to_format(const spec::FormatSpec& f, std::uint32_t fp32_word, const std::filesystem::path& path,
                        std::size_t line) {
  if (f == spec::fp32) return fp32_word;
  const std::uint32_t bits = spec::convert_from_fp32(f, fp32_word);
  const double back = spec::decode_to_double(f, bits);
  const double want = static_cast<double>(spec::bits_float(fp32_word));
  const bool same = std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(want) ||
                    (std::isnan(back) && std::isnan(want));
  if (!same) {
    std::ostringstream msg;
    msg << where(path, line) << "0x" << std::hex << fp32_word << " is not exactly a " << f.name << " value";
    throw MeasuredDotsError(msg.str());
  }
  return bits;
}

}  // namespace

const GpuInfo* find_gpu(std::string_view name) {
  for (const GpuInfo& g : known_gpus)
    if (upper(g.name) == upper(name)) return &g;
  return nullptr;
}

std::string known_gpu_names() {
  std::string names;
  for (const GpuInfo& g : known_gpus) names += (names.empty() ? "" : ", ") + std::string(g.name);
  return names;
}

std::optional<spec::Arch> gpu_arch(std::string_view gpu) {
  const GpuInfo* g = find_gpu(gpu);
  return g == nullptr ? std::nullopt : std::optional<spec::Arch>(g->arch);
}

MeasuredDots read_measured_dots(const std::filesystem::path& dir, std::string_view gpu, std::string_view format,
                                std::string_view out) {
  MeasuredDots dots;
  const GpuInfo* info = find_gpu(gpu);
  if (info == nullptr) throw std::invalid_argument("unknown GPU '" + std::string(gpu) + "' (" + known_gpu_names() + ")");
  dots.gpu = std::string(info->name);
  dots.arch = info->arch;
  const std::string fmt = lower(format);
  dots.in_format = spec::find_format(fmt);
  if (dots.in_format == nullptr || !(fmt == "fp16" || fmt == "bf16" || fmt == "tf32" || fmt == "e4m3" || fmt == "e5m2"))
    throw std::invalid_argument("unknown input format '" + std::string(format) + "' (fp16 bf16 tf32 e4m3 e5m2)");
  const std::string o = lower(out);
  if (o != "fp32" && o != "fp16") throw std::invalid_argument("unknown output format '" + std::string(out) + "' (fp32 fp16)");
  dots.out_format = o == "fp32" ? &spec::fp32 : &spec::fp16;
  const bool fp8 = fmt == "e4m3" || fmt == "e5m2";
  // Only the H100 fp8 -> fp32 cases ran wgmma, with C = 0 (every case replays with C = 0). Every
  // other fp8 set comes from the mma.sync drivers (MATLAB-tensor-core model_validation/CUDA/
  // mma_fp8_output_fp{32,16}.cu): m16n8k32 with C from the c file, native on sm_89 and lowered by
  // ptxas on sm_90 and sm_100 (docs/datapath.md).
  dots.c_forced_zero = fp8 && o == "fp32" && dots.arch == spec::Arch::sm90;
  if (fp8 && !dots.c_forced_zero) {
    const std::string d_type = o == "fp32" ? "f32" : "f16";
    const std::string ptx = "mma.sync.aligned.m16n8k32.row.col." + d_type + "." + fmt + "." + fmt + "." + d_type;
    dots.instruction = &find_instruction_or_throw<std::logic_error>(ptx);
  }

  // The data names fp8 folders and files in upper case; accept either spelling.
  const std::string file_fmt = fp8 ? upper(fmt) : fmt;
  std::filesystem::path folder = dir / dots.gpu / file_fmt;
  if (!std::filesystem::is_directory(folder) && std::filesystem::is_directory(dir / dots.gpu / fmt)) folder = dir / dots.gpu / fmt;
  if (!std::filesystem::is_directory(folder)) throw MeasuredDotsError(folder.string() + ": no such folder");
  dots.folder = folder;
  const std::string stem = "_" + dots.gpu + "_";
  auto file = [&](const std::string& name) {
    std::filesystem::path p = folder / name;
    if (!std::filesystem::exists(p) && fp8) {  // lower-case fp8 file names
      std::string alt = name;
      const auto pos = alt.find(file_fmt);
      if (pos != std::string::npos) alt.replace(pos, file_fmt.size(), fmt);
      if (std::filesystem::exists(folder / alt)) p = folder / alt;
    }
    return p;
  };
  const auto a_path = file("a" + stem + file_fmt + ".txt");
  const auto b_path = file("b" + stem + file_fmt + ".txt");
  const auto c_path = file("c" + stem + "fp32.txt");
  const auto d_path = file("d" + stem + o + ".txt");
  const auto a_lines = read_lines(a_path);
  const auto b_lines = read_lines(b_path);
  const auto c_lines = read_lines(c_path);
  const auto d_lines = read_lines(d_path);
  const std::size_t n = a_lines.size();
  for (const auto* other : {&b_lines, &c_lines, &d_lines}) {
    if (other->size() != n) {
      const auto& p = other == &b_lines ? b_path : (other == &c_lines ? c_path : d_path);
      throw MeasuredDotsError(p.string() + ": " + std::to_string(other->size()) + " lines, but " + a_path.string() +
                              " has " + std::to_string(n));
    }
  }
  dots.cases.resize(n);
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    MeasuredCase& mc = dots.cases[i];
    const auto a_words = parse_line(a_lines[i], 16, a_path, i);
    const auto b_words = parse_line(b_lines[i], 16, b_path, i);
    if (i == 0) k = a_words.size();
    if (a_words.empty() || a_words.size() != k)
      throw MeasuredDotsError(where(a_path, i) + std::to_string(a_words.size()) + " words, expected " + std::to_string(k));
    if (b_words.size() != k)
      throw MeasuredDotsError(where(b_path, i) + std::to_string(b_words.size()) + " words, expected " + std::to_string(k));
    const auto c_words = parse_line(c_lines[i], 2, c_path, i);
    const auto d_words = parse_line(d_lines[i], 2, d_path, i);
    if (c_words.size() != 1) throw MeasuredDotsError(where(c_path, i) + "expected one 32-digit binary word");
    if (d_words.size() != 1) throw MeasuredDotsError(where(d_path, i) + "expected one 32-digit binary word");
    mc.a.resize(k);
    mc.b.resize(k);
    for (std::size_t j = 0; j < k; ++j) {
      mc.a[j] = to_format(*dots.in_format, a_words[j], a_path, i);
      mc.b[j] = to_format(*dots.in_format, b_words[j], b_path, i);
    }
    mc.c_file_fp32 = c_words[0];
    if (dots.c_forced_zero) {
      mc.c = 0;
    } else if (dots.out_format == &spec::fp16) {
      mc.c = spec::convert_from_fp32(spec::fp16, c_words[0], spec::RoundingMode::nearest_even);
    } else {
      mc.c = c_words[0];
    }
    mc.d = to_format(*dots.out_format, d_words[0], d_path, i);
  }
  return dots;
}

std::uint32_t simulate_case(const MeasuredDots& dots, const MeasuredCase& mc) {
  if (dots.instruction != nullptr) return InstructionDatapath(*dots.instruction, dots.arch).dot(mc.a, mc.b, mc.c);
  const auto row = spec::find_datapath(dots.arch, *dots.in_format, *dots.in_format, *dots.out_format);
  if (!row) throw std::invalid_argument("no datapath row for " + dots.gpu + " " + std::string(dots.in_format->name) + " -> " +
                                        std::string(dots.out_format->name));
  return dot(*row, mc.a, mc.b, mc.c);
}

}  // namespace twofour::sim
