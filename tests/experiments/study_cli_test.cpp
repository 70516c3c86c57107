// `twofour study`: usage errors, missing data, and every study on a small Fashion-MNIST slice
// (CI): results.json / results.csv / REPORT.md exist and are well-formed, a re-run reuses the
// finished runs. Numbers are not asserted: a few hundred images say nothing about the literature.
#include "support/run_tool.hpp"
#include "support/seed.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using twofour::testing::count_lines;
using twofour::testing::run_tool;
using twofour::testing::slurp;

bool have_fashion_mnist() {
  return fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

TEST(StudyCli, BadArgumentsAreUsageErrors) {
  for (const char* args : {"study nonsense --out /tmp/x", "study criteria", "study sparsity --quick --full --out /tmp/x",
                           "study recipe --models resnet --out /tmp/x", "study recipe --seeds -1 --out /tmp/x",
                           "study recipe --first-seed -1 --out /tmp/x",
                           "study recipe --limit 1 --out /tmp/x"}) {
    const auto r = run_tool(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << ": " << r.err;
  }
}

TEST(StudyCli, MissingDataNamesThePackage) {
  const auto out = fs::temp_directory_path() / ("twofour-study-nodata-" + std::to_string(::getpid()));
  const auto r = run_tool("study mask-quality --data /nonexistent/fashion --out '" + out.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("dataset-fashion-mnist"), std::string::npos) << r.err;
  fs::remove_all(out);
}

TEST(StudyCli, AllStudiesOnASliceWriteWellFormedOutputsAndResume) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto out = fs::temp_directory_path() / ("twofour-study-cli-" + std::to_string(::getpid()));
  fs::remove_all(out);
  // Under ASan+UBSan (~10x slower) the MLP alone covers the same study code in CI time.
  const std::string models = twofour::testing::sanitizer_build() ? " --models mlp" : "";
  const std::string args = "study all --limit 300 --test-limit 200 --threads 1" + models + " --out '" + out.string() + "'";
  const auto r = run_tool(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos);
  const std::string report = slurp((out / "REPORT.md").string());
  for (const char* name : {"mask-quality", "criteria", "sparsity", "recipe"}) {
    const auto dir = out / name;
    const auto doc = nlohmann::json::parse(slurp((dir / "results.json").string()));
    EXPECT_EQ(doc["meta"]["study"], name);
    EXPECT_FALSE(doc["meta"]["git_revision"].get<std::string>().empty());
    ASSERT_GT(doc["rows"].size(), 0u) << name;
    for (const auto& row : doc["rows"]) {
      EXPECT_TRUE(row.contains("seed")) << name;
      EXPECT_TRUE(row.contains("git_revision")) << name;
      EXPECT_TRUE(row.contains("model")) << name;
    }
    // CSV: a header and one line per row (no field here holds a line break), equal column counts
    // outside quotes.
    const std::string csv = slurp((dir / "results.csv").string());
    EXPECT_EQ(count_lines(csv), static_cast<int>(doc["rows"].size()) + 1) << name;
    EXPECT_NE(csv.find("seed"), std::string::npos);
  }
  for (const char* title : {"Study 1", "Study 2", "Study 3", "Study 4"}) EXPECT_NE(report.find(title), std::string::npos) << title;
  EXPECT_NE(report.find("Expected"), std::string::npos);
  EXPECT_NE(report.find("Measured"), std::string::npos);
  // The models were trained once and shared.
  EXPECT_TRUE(fs::exists(out / "dense"));
  // Again: everything is reused, nothing retrained.
  const auto again = run_tool(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("(reused)"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("retrain epoch"), std::string::npos) << again.err;
  fs::remove_all(out);
}

// Seeds split across processes (--first-seed) land in one folder; a run over all seeds reuses
// both halves, trains nothing, and its tables hold every seed.
TEST(StudyCli, FirstSeedSplitsRunsThatALaterRunMerges) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto out = fs::temp_directory_path() / ("twofour-study-seeds-" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string common = "study mask-quality --limit 200 --test-limit 100 --threads 1 --models mlp --no-plots --out '" +
                             out.string() + "'";
  const auto second = run_tool(common + " --seeds 1 --first-seed 1");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto only = nlohmann::json::parse(slurp((out / "mask-quality" / "results.json").string()));
  ASSERT_GT(only["rows"].size(), 0u);
  for (const auto& row : only["rows"])
    if (row["model"] == "mlp") {
      EXPECT_EQ(row["seed"], 1) << row.dump();
    }
  EXPECT_EQ(only["meta"]["seed_list"], nlohmann::json::array({1}));
  const auto first = run_tool(common + " --seeds 1");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto merged = run_tool(common + " --seeds 2");
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(merged.err.find("dense epoch"), std::string::npos) << merged.err;
  const auto doc = nlohmann::json::parse(slurp((out / "mask-quality" / "results.json").string()));
  std::size_t seed0 = 0, seed1 = 0;
  for (const auto& row : doc["rows"])
    if (row["model"] == "mlp") (row["seed"] == 0 ? seed0 : seed1) += 1;
  EXPECT_GT(seed0, 0u);
  EXPECT_EQ(seed0, seed1);
  EXPECT_EQ(doc["meta"]["seed_list"], nlohmann::json::array({0, 1}));
  fs::remove_all(out);
}

}  // namespace
