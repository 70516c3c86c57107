// GCC 12 reports std::function inside std::regex as maybe-uninitialized when built with ASan
// (a known false positive of its flow analysis); the regexes below only rewrite command templates.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Property test over the whole tool: EVERY subcommand runs over a table of ordinary and hostile
// inputs and outputs, and each run must keep the tool's promises:
//   - the exit code is 0, 1, 2 or 77;
//   - a failure (1 or 2) prints exactly one line on stderr, "twofour: error: ...";
//   - every input file is byte-identical afterwards and still the same kind of file (a link
//     stays a link, a FIFO a FIFO, /dev/null a character device);
//   - no temporary file is left anywhere;
//   - on failure, no output is created or changed.
// The hostile inputs are the fuzz seeds' shapes and dtypes (fuzz/make_seeds.cpp), truncated,
// garbage and empty files, NaN weights, a folder, a FIFO, /dev/null, a missing path and links;
// the hostile outputs are an input itself, two outputs on one path, a missing folder, a
// folder, a symlink and /dev/null.
//
// ADDING A SUBCOMMAND: add one entry to kTable below (its name and one or more argument
// templates). The test fails for any subcommand listed by `twofour --help` that has no entry.
// Template tokens:
//   {npy} {safetensors} {lanes} {vectors} {data} {baddata} {dots}   the input slot that varies over the
//        corpus of that kind (at most one per template; see make_corpus); the other runs of the
//        template put the kind's ordinary input there
//   @NAME       a fixed ordinary input in the scratch input folder (see make_inputs)
//   {OUT} {OUT2} {OUT3}   output files (.npy; {OUT.safetensors} or {OUT.txt} for another kind);
//        {OUT} also varies over the hostile outputs
//   {OUTDIR}    an output folder (fresh, an existing file, or inside a missing folder)
#include "support/run_tool.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/io/npz.hpp"
#include "twofour/io/safetensors.hpp"
#include "twofour/nn/data.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace twofour;
namespace tt = twofour::testing;
using tt::count_lines;
using tt::ToolResult;

struct Entry {
  std::string command;
  std::vector<std::string> templates;
};

const std::vector<Entry> kTable = {
    {"check", {"check {safetensors}", "check --json {OUT.txt} {safetensors}", "check --pattern 5:4 {safetensors}",
               "check {npy}"}},
    {"convert", {"convert --to sparse-24-bitmask --tensor '*' --any-shape {safetensors} {OUT.safetensors}",
                 "convert --to dense {safetensors} {OUT}", "convert --to nope {safetensors} {OUT.safetensors}"}},
    {"compress", {"compress --layout rowmajor --prune {npy} {OUT} {OUT2}", "compress --layout cutlass {npy} {OUT} {OUT2}"}},
    {"decompress", {"decompress --layout rowmajor @v.npy @e.npy {OUT}", "decompress --layout rowmajor {npy} @e.npy {OUT}",
                    "decompress --layout rowmajor @v.npy {npy} {OUT}"}},
    {"demo", {"demo", "demo --rows 0", "demo --cols 5 --seed 3"}},
    {"devices", {"devices"}},
    {"export", {"export --onnx {OUT.onnx} {npy}"}},
    {"explain", {"explain SM80_SP_16x8x32_F32F16F16F32_TN", "explain NO_SUCH_ROW"}},
    {"formats", {"formats --format fp16 --value 0.1 --mode rz", "formats --format nope --value 1", "formats --format e4m3 --bits zz"}},
    {"gemm", {"gemm --instr SM80_SP_16x8x32_F32F16F16F32_TN --a {npy} --b @x.npy --out {OUT}",
              "gemm --instr SM80_SP_16x8x32_F32F16F16F32_TN --a @w.npy --b @x.npy --check {npy}",
              "gemm --instr NO_SUCH_ROW --a @w.npy --b @x.npy"}},
    {"mma", {"mma --instr SM80_SP_16x8x32_F32F16F16F32_TN --a {lanes} --b @b.txt --e @e.txt --out {OUT.txt}",
             "mma --instr SM80_SP_16x8x32_F32F16F16F32_TN --a @a.txt --b @b.txt --e @e.txt --out {OUT}"}},
    {"perfmodel", {"perfmodel --gpu A100 --model resnext101 --batch 1,8 --json {OUT.json} --csv {OUT2.csv}",
                   "perfmodel --gpu Z80 --model mlp"}},
    {"prune", {"prune {npy} {OUT}", "prune --criterion random --pattern 1:4 {npy} {OUT} --pruned {OUT2}",
               "prune --permute --permute-seconds 0.05 {npy} {OUT} --pruned {OUT2} --permutation {OUT3}",
               "prune --criterion wanda --calib {npy} @w.npy {OUT}", "prune --tensor '*' {safetensors} {OUT.safetensors}",
               "prune --transposable --criterion nope @w.npy {OUT}",
               "prune --format sparse-24-bitmask --tensor '*' --any-shape {safetensors} {OUT.safetensors}",
               "prune --format dense --any-shape {safetensors} {OUT}"}},
    {"reproduce", {"reproduce --dry-run --quick --data {data} --out {OUTDIR}"}},
    {"show-24", {"show-24 {npy}"}},
    {"study", {"study mask-quality --quick --no-plots --limit 64 --test-limit 64 --data {baddata} --out {OUTDIR}",
               "study nonsense --out {OUTDIR}"}},
    {"train", {"train --epochs 1 --limit 64 --test-limit 64 --threads 1 --data {data} --out {OUTDIR}"}},
    {"validate", {"validate --vectors {vectors}", "validate --cases 1 --out {OUT.txt}", "validate --vectors @vectors.txt --out {OUT}"}},
    {"verify-dots", {"verify-dots --gpu A100 --format fp16 --out fp32 {dots}"}},
};

// Subcommands as `twofour --help` lists them (the lines under "Subcommands:").
std::vector<std::string> listed_subcommands() {
  const ToolResult help = tt::run_tool("--help");
  std::vector<std::string> names;
  std::istringstream lines(help.out);
  std::string line;
  bool in_list = false;
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
    } else if (in_list && line.size() > 2 && line[0] == ' ' && line[2] != ' ') {
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (in_list && line.empty()) {
      break;
    }
  }
  return names;
}

void put(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
void put(const fs::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
std::string half(const fs::path& p) {
  const std::string s = tt::slurp(p.string());
  return s.substr(0, s.size() / 2);
}

std::string lane_words(int registers, const char* word) {
  std::string s;
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < registers; ++r) s += std::string(r ? " " : "") + word;
    s += "\n";
  }
  return s;
}

// The fixed ordinary inputs (@NAME) and the ordinary input of each slot kind.
void make_inputs(const fs::path& in) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> w(16 * 32);
  for (auto& x : w) x = normal(rng);
  io::write_npy(in / "w.npy", io::from_float32(w, {16, 32}, io::DType::f32));
  std::vector<float> x(64 * 32);
  for (auto& v : x) v = normal(rng);
  io::write_npy(in / "x.npy", io::from_float32(x, {64, 32}, io::DType::f32));
  // values/metadata of a 2:4 matrix, from the tool itself would be circular: build them by hand
  // (rowmajor layout: kept elements 0 and 1 of every group, nibble 0b0100).
  io::write_npy(in / "v.npy", io::from_float32(std::vector<float>(32 * 16, 1.0f), {32, 16}, io::DType::f32));
  io::write_npy(in / "e.npy", io::from_float32(std::vector<float>(32 * 2, 17476.0f), {32, 2}, io::DType::i16));  // 0x4444
  io::SafetensorsFile st;
  st.tensors = {{"layer.weight", io::from_float32(w, {16, 32}, io::DType::f32)}};
  io::write_safetensors(in / "ok.safetensors", st);
  const auto& row = *sim::spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  put(in / "a.txt", lane_words(row.a_registers(), "3c003c00"));
  put(in / "b.txt", lane_words(row.b_registers(), "3c00bc00"));
  put(in / "e.txt", lane_words(1, "44444444"));
  std::ifstream vectors(tt::test_data_dir() + "/sim-vectors/regression_sm90.txt");
  std::string text, line;
  for (int i = 0; i < 4 && std::getline(vectors, line); ++i) text += line + "\n";
  put(in / "vectors.txt", text);
  fs::create_directory(in / "empty-folder");
  // Fashion-MNIST's file names holding the IDX fuzz seed (a 2 x 3 u8 matrix: not images), a
  // truncated header and a directory.
  fs::create_directory(in / "bad-idx");
  const unsigned char idx[] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
  put(in / "bad-idx" / "train-images-idx3-ubyte", std::string(reinterpret_cast<const char*>(idx), sizeof idx));
  put(in / "bad-idx" / "train-labels-idx1-ubyte", std::string(reinterpret_cast<const char*>(idx), 7));
  fs::create_directory(in / "bad-idx" / "t10k-images-idx3-ubyte");
  put(in / "bad-idx" / "t10k-labels-idx1-ubyte.gz", std::string("\x1f\x8b\x08\x00garbage", 11));
}

struct Corpus {
  std::string ordinary;                // the kind's ordinary input
  std::vector<std::string> variants;   // everything the slot is tried with (ordinary first)
};

// Hostile variants of one kind of input, created in `in`; `ext` names them.
std::vector<std::string> hostile_files(const fs::path& in, const std::string& ext, const std::string& ordinary) {
  static const char kGarbage[] = "\x93NUMPY\x01\x00\xff\xff{'descr': '<f4', 'shape': (";
  put(in / ("garbage." + ext), std::string(kGarbage, sizeof kGarbage - 1));  // embedded NUL: no strlen
  put(in / ("empty." + ext), std::string());
  put(in / ("truncated." + ext), half(ordinary));
  fs::create_directory(in / ("folder." + ext));
  ::mkfifo((in / ("fifo." + ext)).c_str(), 0600);
  fs::create_symlink(fs::path(ordinary).filename(), in / ("link." + ext));
  fs::create_symlink("nowhere", in / ("dangling." + ext));
  std::vector<std::string> v;
  for (const char* name : {"garbage.", "empty.", "truncated.", "folder.", "fifo.", "link.", "dangling.", "missing."})
    v.push_back((in / (name + ext)).string());
  v.push_back("/dev/null");
  return v;
}

std::map<std::string, Corpus> make_corpus(const fs::path& in) {
  std::map<std::string, Corpus> c;
  // .npy: the fuzz seeds' dtypes and shapes, NaN weights, a huge claimed shape, an .npz.
  const float seed[6] = {1.5f, -2.0f, 0.0f, 3.25f, 0.0f, -0.5f};
  auto& npy = c["npy"];
  npy.ordinary = (in / "w.npy").string();
  npy.variants = {npy.ordinary};
  int n = 0;
  for (const auto& a : {io::from_float32(seed, {2, 3}, io::DType::f32), io::from_float32(seed, {3, 2}, io::DType::f16),
                        io::from_float32(seed, {6}, io::DType::bf16), io::from_float32(seed, {1, 2, 3}, io::DType::i8),
                        io::from_float32(seed, {2, 1, 3}, io::DType::f64),
                        io::from_float32(std::span<const float>(seed, 1), {}, io::DType::i64)}) {
    const fs::path p = in / ("seed" + std::to_string(n++) + ".npy");
    io::write_npy(p, a);
    npy.variants.push_back(p.string());
  }
  std::vector<float> nan(16 * 32, 1.0f);
  nan[40] = std::nanf("");
  io::write_npy(in / "nan.npy", io::from_float32(nan, {16, 32}, io::DType::f32));
  put(in / "huge.npy", std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }" +
                           std::string(118 - 77, ' ') + "\n");
  put(in / "archive.npy", io::serialize_npz({{"w", io::from_float32(seed, {2, 3}, io::DType::f32)}}, true));
  for (const char* name : {"nan.npy", "huge.npy", "archive.npy"}) npy.variants.push_back((in / name).string());
  for (auto& h : hostile_files(in, "npy", npy.ordinary)) npy.variants.push_back(h);

  auto& st = c["safetensors"];
  st.ordinary = (in / "ok.safetensors").string();
  st.variants = {st.ordinary};
  io::SafetensorsFile other;
  other.tensors = {{"emb", io::from_float32(seed, {3, 2}, io::DType::f16)}, {"b", io::from_float32(seed, {6}, io::DType::bf16)}};
  other.metadata = {{"format", "pt"}};
  io::write_safetensors(in / "seed.safetensors", other);
  st.variants.push_back((in / "seed.safetensors").string());
  for (auto& h : hostile_files(in, "safetensors", st.ordinary)) st.variants.push_back(h);

  auto& lanes = c["lanes"];
  lanes.ordinary = (in / "a.txt").string();
  lanes.variants = {lanes.ordinary};
  put(in / "short.lanes", lane_words(1, "3c00"));
  put(in / "nothex.lanes", lane_words(4, "zz"));
  for (const char* name : {"short.lanes", "nothex.lanes"}) lanes.variants.push_back((in / name).string());
  for (auto& h : hostile_files(in, "lanes", lanes.ordinary)) lanes.variants.push_back(h);

  auto& vec = c["vectors"];
  vec.ordinary = (in / "vectors.txt").string();
  vec.variants = {vec.ordinary};
  const std::string text = tt::slurp(vec.ordinary);
  put(in / "header-only.vec", text.substr(0, text.find('\n') + 1));
  vec.variants.push_back((in / "header-only.vec").string());
  for (auto& h : hostile_files(in, "vec", vec.ordinary)) vec.variants.push_back(h);

  // Folders: the real data when this machine has it, else only the hostile ones.
  const std::vector<std::string> bad_folders = {(in / "empty-folder").string(), (in / "bad-idx").string(), (in / "w.npy").string(),
                                                (in / "missing-folder").string(), (in / "fifo.npy").string()};
  auto& data = c["data"];
  data.ordinary = fs::exists(fs::path(nn::kFashionMnistDir) / "train-images-idx3-ubyte.gz") ? nn::kFashionMnistDir
                                                                                           : (in / "empty-folder").string();
  data.variants = {data.ordinary};
  data.variants.insert(data.variants.end(), bad_folders.begin(), bad_folders.end());
  auto& baddata = c["baddata"];  // a study on real data takes 15 s: only its failures are tried
  baddata.ordinary = bad_folders.front();
  baddata.variants = bad_folders;
  auto& dots = c["dots"];
  dots.ordinary = tt::test_data_dir() + "/tensor-core-hw";
  dots.variants = {dots.ordinary};
  dots.variants.insert(dots.variants.end(), bad_folders.begin(), bad_folders.end());
  return c;
}

// What a scratch tree holds: per path, its kind and content (bytes, or a link's target).
using Snapshot = std::map<std::string, std::string>;

Snapshot snapshot(const fs::path& root) {
  Snapshot s;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    const std::string rel = fs::relative(it->path(), root).string();
    if (S_ISLNK(st.st_mode)) {
      s[rel] = "link -> " + fs::read_symlink(it->path()).string();
    } else if (S_ISREG(st.st_mode)) {
      s[rel] = "file " + std::to_string(st.st_mode & 07777) + " " + tt::slurp(it->path().string());
    } else if (S_ISDIR(st.st_mode)) {
      s[rel] = "folder";
    } else if (S_ISFIFO(st.st_mode)) {
      s[rel] = "fifo";
    } else {
      s[rel] = "other";
    }
  }
  return s;
}

std::string describe_difference(const Snapshot& before, const Snapshot& after) {
  std::string d;
  for (const auto& [path, what] : before) {
    const auto it = after.find(path);
    if (it == after.end()) d += " removed " + path + ";";
    else if (it->second != what) d += " changed " + path + " (" + what.substr(0, 40) + " -> " + it->second.substr(0, 40) + ");";
  }
  for (const auto& [path, what] : after)
    if (!before.count(path)) d += " created " + path + ";";
  return d;
}

class CliProperty : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "twofour-property-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    in_ = root_ / "in";
    out_ = root_ / "out";
    fs::create_directories(in_);
    make_inputs(in_);
    corpus_ = make_corpus(in_);
    inputs_before_ = snapshot(in_);
    device_ = tt::null_device_for_tests(root_.string());
  }
  void TearDown() override { fs::remove_all(root_); }

  // The fixed hostile outputs live in out/, rebuilt before every run.
  void reset_outputs() {
    fs::remove_all(out_);
    fs::create_directories(out_ / "existing-folder.npy");
    put(out_ / "existing-file", std::string("not a folder"));
    put(out_ / "target.npy", std::string("old target"));
    fs::create_symlink("target.npy", out_ / "link.npy");
  }

  // One run of `args`, checked against every property; `what` names the run in failures.
  void check_run(const std::string& args, const std::string& what) {
    reset_outputs();
    const Snapshot outputs_before = snapshot(out_);
    const auto start = std::chrono::steady_clock::now();
    // `timeout` turns a hang (a FIFO opened for reading, say) into exit 124: a failure here.
    const ToolResult r = tt::run_tool("-k 5 120 '" + tt::tool_path() + "' " + args, "timeout");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++runs_;
    ++exits_[r.exit_code];
    if (r.exit_code == 0) succeeded_.insert(args.substr(0, args.find(' ')));
    const std::string context = what + "\n  twofour " + args + "\n  exit " + std::to_string(r.exit_code) + ", stderr: " + r.err;
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2 || r.exit_code == 77) << context;
    if (r.exit_code == 1 || r.exit_code == 2) {
      EXPECT_EQ(count_lines(r.err), 1) << context;
      EXPECT_EQ(r.err.rfind("twofour: error: ", 0), 0u) << context;
    }
    if (r.exit_code == 77) {
      EXPECT_LE(count_lines(r.err), 1) << context;
    }
    const Snapshot inputs_after = snapshot(in_);
    EXPECT_EQ(inputs_after, inputs_before_) << context << "\n  inputs:" << describe_difference(inputs_before_, inputs_after);
    const Snapshot outputs_after = snapshot(out_);
    if (r.exit_code != 0) {
      EXPECT_EQ(outputs_after, outputs_before) << context << "\n  outputs on failure:" << describe_difference(outputs_before, outputs_after);
    }
    EXPECT_TRUE(fs::is_symlink(out_ / "link.npy")) << context;
    struct stat st {};
    if (!device_.empty()) {
      EXPECT_TRUE(::lstat(device_.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) << context << "\n  device replaced";
    }
    for (const auto& [path, kind] : outputs_after) EXPECT_EQ(path.find("tmp"), std::string::npos) << context << "\n  temporary left: " << path;
    for (const auto& [path, kind] : inputs_after) EXPECT_EQ(path.find("tmp"), std::string::npos) << context << "\n  temporary left: " << path;
    if (seconds > 5) std::cout << "slow run (" << seconds << " s): twofour " << args << "\n";
    if (r.exit_code != 0 && r.exit_code != 77 && inputs_after != inputs_before_) restore_inputs();
  }

  void restore_inputs() {
    fs::remove_all(in_);
    fs::create_directories(in_);
    make_inputs(in_);
    corpus_ = make_corpus(in_);
    inputs_before_ = snapshot(in_);
  }

  // Every run of one template: the varying input slot over its corpus with ordinary outputs,
  // then the ordinary input with each hostile output.
  void run_template(const std::string& tmpl) {
    static const std::regex slot(R"(\{(npy|safetensors|lanes|vectors|data|baddata|dots)\})");
    std::smatch m;
    std::string kind;
    if (std::regex_search(tmpl, m, slot)) kind = m[1];
    auto fill = [&](std::string input, const std::string& out1, const std::string& out_dir) {
      std::string s = tmpl;
      if (!kind.empty()) s = std::regex_replace(s, slot, "'" + input + "'", std::regex_constants::format_first_only);
      s = std::regex_replace(s, std::regex(R"(@([A-Za-z0-9_.-]+))"), "'" + in_.string() + "/$1'");
      s = std::regex_replace(s, std::regex(R"(\{OUT(\.[a-z]+)?\})"), "'" + out1 + "$1'");
      s = std::regex_replace(s, std::regex(R"(\{OUT([23])(\.[a-z]+)?\})"), "'" + out_.string() + "/o$1$2'");
      s = std::regex_replace(s, std::regex(R"(\{OUTDIR\})"), "'" + out_dir + "'");
      return s;
    };
    const std::string o1 = (out_ / "o1").string(), dir = (out_ / "run").string();
    const std::string ordinary = kind.empty() ? "" : corpus_.at(kind).ordinary;
    if (!kind.empty())
      for (const auto& input : corpus_.at(kind).variants) check_run(fill(input, o1, dir), "input " + input);
    else
      check_run(fill("", o1, dir), "as written");
    const bool has_out = tmpl.find("{OUT") != std::string::npos && tmpl.find("{OUTDIR}") == std::string::npos;
    if (has_out) {
      // Hostile outputs; a ".npy" here is replaced by the template's own extension below.
      std::vector<std::pair<std::string, std::string>> outs = {
          {(out_ / "nodir" / "o1").string(), "output in a missing folder"},
          {(out_ / "existing-folder.npy").string(), "output is a folder"},
          {(out_ / "link").string(), "output is a symlink"},
          {(out_ / "o2").string(), "two outputs on one path"},
      };
      for (const auto& [path, why] : outs) check_run(fill(ordinary, path, dir), why);
      if (!device_.empty()) {
        std::string device = fill(ordinary, device_, dir);
        device = std::regex_replace(device, std::regex(device_ + "\\.[a-z]+"), device_);
        check_run(device, "output is a character device");
      }
      if (!kind.empty()) {
        std::string as_input = fill(ordinary, "@@", dir);
        as_input = std::regex_replace(as_input, std::regex(R"('@@(\.[a-z]+)?')"), "'" + ordinary + "'");
        check_run(as_input, "output is the input");
      }
    }
    if (tmpl.find("{OUTDIR}") != std::string::npos) {
      check_run(fill(ordinary, o1, (out_ / "existing-file").string()), "output folder is a file");
      check_run(fill(ordinary, o1, (out_ / "nodir" / "run").string()), "output folder in a missing folder");
    }
  }

  fs::path root_, in_, out_;
  std::map<std::string, Corpus> corpus_;
  Snapshot inputs_before_;
  std::string device_;  // a null character device, see null_device_for_tests
  int runs_ = 0;
  std::map<int, int> exits_;          // exit code -> runs
  std::set<std::string> succeeded_;   // commands with at least one successful run
};

TEST_F(CliProperty, EverySubcommandIsInTheTable) {
  const auto listed = listed_subcommands();
  ASSERT_GE(listed.size(), 10u) << "could not read the subcommands from `twofour --help`";
  std::set<std::string> known;
  for (const auto& e : kTable) known.insert(e.command);
  for (const auto& name : listed)
    EXPECT_TRUE(known.count(name)) << "subcommand '" << name
                                   << "' has no entry in kTable (tests/experiments/cli_property_test.cpp): add one";
  for (const auto& e : kTable)
    EXPECT_NE(std::find(listed.begin(), listed.end(), e.command), listed.end()) << "kTable lists unknown '" << e.command << "'";
}

TEST_F(CliProperty, EverySubcommandKeepsItsPromisesOnOrdinaryAndHostileCases) {
  for (const auto& entry : kTable)
    for (const auto& tmpl : entry.templates) {
      SCOPED_TRACE(tmpl);
      run_template(tmpl);
    }
  std::cout << runs_ << " runs; exit codes:";
  for (const auto& [code, count] : exits_) std::cout << " " << code << " x" << count;
  std::cout << "\n";
  // The table must exercise real work too, not only refusals: these commands succeed on their
  // ordinary inputs on any machine (devices, validate without --vectors and study need a GPU or
  // the training data).
  for (const char* command : {"check", "compress", "convert", "decompress", "demo", "explain", "formats", "mma", "prune", "validate",
                              "verify-dots"})
    EXPECT_TRUE(succeeded_.count(command)) << command << " never succeeded: its ordinary case is broken";
}

}  // namespace
