// The teaching pictures and the performance model as a user runs them: `twofour show-24 --png`,
// `twofour explain NAME --png`, `twofour perfmodel` and `twofour formats --table`.
// Oracles: every fragment panel is a bijection onto its matrix (checked for every instruction row,
// without drawing); Figure 1's indices are re-derived from the mask; the PNG signature and size;
// Table 1 and the records against the published-figures file read independently.
#include "common/paths.hpp"
#include "common/picture.hpp"
#include "common/picture_data.hpp"
#include "common/plot.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/sim/spec/registry.hpp"

#include "support/run_tool.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <unistd.h>

namespace {

using json = nlohmann::json;
using twofour::testing::count_lines;
using twofour::testing::run_tool;
using twofour::testing::slurp;
namespace ex = twofour::experiments;

class Pictures : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("twofour-pictures-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  std::filesystem::path file(const std::string& name) const { return dir_ / name; }
  // A PNG of plausible size: the signature, an IHDR of at least min_w x min_h, and enough bytes
  // for a picture with text in it (an empty canvas compresses to a few kB).
  void expect_png(const std::filesystem::path& p, int min_w, int min_h) {
    const std::string bytes = slurp(p.string());
    int w = 0, h = 0;
    ASSERT_TRUE(ex::looks_like_png(bytes, &w, &h)) << p;
    EXPECT_GE(w, min_w);
    EXPECT_GE(h, min_h);
    EXPECT_GT(bytes.size(), 20000u) << p;
  }
  std::filesystem::path dir_;
};

#define NEED_MATPLOTLIB()                                                                                    \
  if (!ex::plotting_available()) GTEST_SKIP() << "python3 with numpy and matplotlib is not installed "      \
                                                 "(./scripts/install-deps installs them); nothing to draw with"

TEST(FragmentPanels, EveryRowPlacesEveryElementOnceInEveryPanel) {
  for (const auto& in : twofour::sim::spec::instruction_table) {
    if (in.threads != 32) {  // warpgroup rows: the text form only
      EXPECT_THROW(ex::fragment_panels(in), std::invalid_argument) << in.name;
      continue;
    }
    const json doc = ex::fragment_panels(in);
    ASSERT_EQ(doc["panels"].size(), in.is_sparse() ? 4u : 3u) << in.name;
    for (const auto& p : doc["panels"]) {
      const int rows = p["rows"], cols = p["cols"];
      std::set<std::pair<int, int>> seen;
      for (const auto& c : p["cells"]) {
        const int r = c[0], col = c[1], lane = c[2];
        EXPECT_TRUE(r >= 0 && r < rows && col >= 0 && col < cols) << in.name << " " << p["title"];
        EXPECT_TRUE(lane >= 0 && lane < 32);
        EXPECT_TRUE(seen.insert({r, col}).second) << in.name << " " << p["title"] << " cell " << r << "," << col << " twice";
      }
      EXPECT_EQ(seen.size(), static_cast<std::size_t>(rows * cols)) << in.name << " " << p["title"];
    }
  }
}

TEST(Figure1Data, IndicesAndValuesAreTheMasksKeptPositions) {
  std::mt19937 rng(7);
  std::normal_distribution<float> d;
  const std::size_t rows = 5, cols = 12;
  std::vector<float> w(rows * cols);
  for (auto& x : w) x = d(rng);
  const json f = ex::figure1_data(w, rows, cols);
  EXPECT_FALSE(f["already_24"].get<bool>());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < cols / 4; ++g) {
      std::vector<int> kept;
      for (int i = 0; i < 4; ++i)
        if (f["mask"][r][4 * g + static_cast<std::size_t>(i)].get<int>() == 1) kept.push_back(i);
      ASSERT_EQ(kept.size(), 2u);
      // The two largest magnitudes of the group, independently.
      std::vector<int> order = {0, 1, 2, 3};
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return std::abs(w[r * cols + 4 * g + static_cast<std::size_t>(a)]) > std::abs(w[r * cols + 4 * g + static_cast<std::size_t>(b)]);
      });
      EXPECT_EQ(std::set<int>(kept.begin(), kept.end()), std::set<int>({order[0], order[1]}));
      for (std::size_t j = 0; j < 2; ++j) {
        EXPECT_EQ(f["indices"][r][2 * g + j].get<int>(), kept[j]);
        EXPECT_EQ(f["values"][r][2 * g + j].get<float>(), w[r * cols + 4 * g + static_cast<std::size_t>(kept[j])]);
      }
    }
  EXPECT_THROW(ex::figure1_data(w, rows * 2, cols / 2), std::invalid_argument);  // 6 columns: not groups of 4
}

TEST_F(Pictures, Show24DrawsFigure1FromAnNpy) {
  NEED_MATPLOTLIB();
  std::vector<float> w(8 * 16);
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  for (auto& x : w) x = d(rng);
  twofour::io::write_npy(file("w.npy"), twofour::io::from_float32(w, {8, 16}, twofour::io::DType::f32));
  const auto r = run_tool("show-24 " + path("w.npy") + " --png " + path("fig1.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_png(file("fig1.png"), 1000, 300);
  // Nothing but the picture is left beside it (the drawing's temporaries are gone).
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 2u);
}

TEST_F(Pictures, Show24RejectsWhatFigure1CannotShowWithOneLine) {
  std::vector<float> w(2 * 3 * 4, 1.0f);
  twofour::io::write_npy(file("w3.npy"), twofour::io::from_float32(w, {2, 3, 4}, twofour::io::DType::f32));
  auto r = run_tool("show-24 " + path("w3.npy") + " --png " + path("x.png"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  twofour::io::write_npy(file("w6.npy"), twofour::io::from_float32(std::vector<float>(12, 1.0f), {2, 6}, twofour::io::DType::f32));
  r = run_tool("show-24 " + path("w6.npy") + " --png " + path("x.png"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("multiple of 4"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(file("x.png")));
}

// A sample of rows (every row's layout is checked above without drawing): dense, sparse 16-bit,
// and sparse 8-bit with the widest A.
TEST_F(Pictures, ExplainDrawsFragmentsForASampleOfRows) {
  NEED_MATPLOTLIB();
  for (const char* name : {"SM80_16x8x16_F32F16F16F32_TN", "SM80_SP_16x8x32_F32F16F16F32_TN",
                           "SM80_SP_16x8x64_S32S8S8S32_TN"}) {
    const auto r = run_tool(std::string("explain ") + name + " --png " + path(std::string(name) + ".png"));
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    expect_png(file(std::string(name) + ".png"), 600, 400);
  }
}

TEST_F(Pictures, PerfmodelWritesRecordsCsvAndPlot) {
  NEED_MATPLOTLIB();
  const auto r = run_tool("perfmodel --gpu A100,H100 --model mlp --batch 1,32,512 --json " + path("p.json") + " --csv " +
                          path("p.csv") + " --png " + path("p.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("A100 SXM4 80GB"), std::string::npos) << r.out;
  const json doc = json::parse(slurp(file("p.json").string()));
  // 2 GPUs x 3 batches x (3 GEMMs + the total).
  ASSERT_EQ(doc["records"].size(), 2u * 3u * 4u);
  for (const auto& rec : doc["records"]) {
    for (const char* key : {"batch", "dense_s", "sparse_s", "speedup", "gemm", "gpu"}) EXPECT_TRUE(rec.contains(key)) << key;
    EXPECT_NEAR(rec["speedup"].get<double>(), rec["dense_s"].get<double>() / rec["sparse_s"].get<double>(), 1e-12);
  }
  EXPECT_FALSE(doc["assumptions"].empty());
  const std::string csv = slurp(file("p.csv").string());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 24);
  expect_png(file("p.png"), 600, 400);
}

TEST(PerfmodelCli, BadValuesAreUsageErrors) {
  for (const char* args : {"perfmodel --gpu V100", "perfmodel --batch 0", "perfmodel --dtype fp8 --gpu A100",
                           "perfmodel --model nosuch"}) {
    const auto r = run_tool(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1) << args << ": " << r.err;
  }
}

// Table 1 against the data file, read here with a JSON parser of its own.
TEST(FormatsTable, PrintsEveryPublishedPeakOfTheDataFile) {
  const auto r = run_tool("formats --table");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json data = json::parse(slurp((ex::source_dir() / "data" / "perf" / "gpus.json").string()));
  for (const auto& gpu : data["gpus"]) {
    const std::string variant = gpu["variant"];
    const auto at = r.out.find(variant);
    ASSERT_NE(at, std::string::npos) << variant;
    const auto end = r.out.find("DRAM", at);
    const std::string block = r.out.substr(at, end - at);
    for (const auto& [dtype, p] : gpu["peaks"].items()) {
      char dense[32], sparse[32];
      std::snprintf(dense, sizeof dense, "%g", p["dense"].get<double>() / 1e12);
      std::snprintf(sparse, sizeof sparse, "%g", p["sparse"].get<double>() / 1e12);
      const auto line_at = block.find("  " + dtype + " ");
      ASSERT_NE(line_at, std::string::npos) << variant << " " << dtype;
      const std::string line = block.substr(line_at, block.find('\n', line_at) - line_at);
      EXPECT_NE(line.find(dense), std::string::npos) << line;
      EXPECT_NE(line.find(sparse), std::string::npos) << line;
      EXPECT_NE(line.find(p["source"].get<std::string>()), std::string::npos) << line;
    }
  }
}

}  // namespace
