// `twofour reproduce`: usage errors, missing data, and an end-to-end run on a small slice of
// Fashion-MNIST (both models, one seed, one epoch per phase) checking that every output exists and
// is well-formed, that pruned layers ran on mma.sp, and that a re-run reuses the cached runs.
#include "common/plot.hpp"
#include "support/run_tool.hpp"
#include "support/seed.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <unistd.h>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;
using twofour::testing::slurp;

bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

TEST(ReproduceCli, BadArgumentsAreUsageErrors) {
  for (const char* args : {"reproduce --quick --full", "reproduce --models resnet", "reproduce --seeds -1",
                           "reproduce --epochs 0 --seeds 101", "reproduce --studies --no-studies", "reproduce --limit 1", "reproduce --first-seed -2"}) {
    const auto r = run_tool(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << ": " << r.err;
  }
}

TEST(ReproduceCli, MissingDataNamesThePackage) {
  const auto r = run_tool("reproduce --data /nonexistent/fashion --out /tmp/twofour-never-written");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("dataset-fashion-mnist"), std::string::npos) << r.err;
}

TEST(ReproduceCli, SmallRunWritesEveryOutputAndReusesIt) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto out = std::filesystem::temp_directory_path() / ("twofour-reproduce-cli-" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  const bool plots = twofour::experiments::plotting_available();
  // Under ASan+UBSan everything runs ~10x slower: a smaller slice covers the same code.
  const bool small = twofour::testing::sanitizer_build();
  const int eval_images = small ? 16 : 48;
  const std::string args = "reproduce --seeds 1 --epochs 1 --limit " + std::string(small ? "200" : "400") +
                           " --eval-limit " + std::to_string(eval_images) + " --threads 1 " +
                           std::string(plots ? "" : "--no-plots ") + "--out '" + out.string() + "'";
  const auto r = run_tool(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("[reproduce]"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("retrained"), std::string::npos) << r.out;

  const auto results = nlohmann::json::parse(slurp((out / "results.json").string()));
  EXPECT_EQ(results["meta"]["mode"], "quick");
  ASSERT_EQ(results["rows"].size(), 2u * 3u * 4u);  // models x networks x arithmetics
  std::set<std::string> arithmetics, variants;
  for (const auto& row : results["rows"]) {
    arithmetics.insert(row["arithmetic"].get<std::string>());
    variants.insert(row["variant"].get<std::string>());
    const double acc = row["accuracy"].get<double>();
    EXPECT_GE(acc, 0.0);
    EXPECT_LE(acc, 1.0);
    EXPECT_EQ(row["eval_images"], eval_images);
    if (row["arithmetic"] == "fp16-sm90") {
      EXPECT_TRUE(row.contains("logits_differ_sm80_sm90")) << row.dump();
    }
  }
  EXPECT_EQ(arithmetics, (std::set<std::string>{"fp32", "fp16-sm80", "fp16-sm90", "int8"}));
  EXPECT_EQ(variants, (std::set<std::string>{"dense", "oneshot", "retrained"}));
  ASSERT_EQ(results["meta"]["histories"].size(), 2u);
  EXPECT_EQ(results["meta"]["histories"][0]["history"].size(), 2u);  // dense epoch + retrain epoch

  const std::string csv = slurp((out / "results.csv").string());
  const std::string header = csv.substr(0, csv.find('\n'));
  for (const char* column : {"model", "seed", "variant", "arithmetic", "accuracy", "logits_differ_sm80_sm90"})
    EXPECT_NE(header.find(column), std::string::npos) << column << " not in " << header;
  EXPECT_EQ(count_lines(csv), 1 + 24);

  const std::string report = slurp((out / "REPORT.md").string());
  for (const char* heading : {"## Claim", "## Setup", "## Results", "## Plots", "## Performance", "## Verdict"})
    EXPECT_NE(report.find(heading), std::string::npos) << heading;
  EXPECT_NE(report.find("SM80_SP_16x8x32_F32F16F16F32_TN"), std::string::npos);  // pruned layers on mma.sp
  EXPECT_NE(report.find("SM80_SP_16x8x64_S32S8S8S32_TN"), std::string::npos);
  // Table 1 (A100 fp16: 312 dense, 624 sparse) and the roofline model's records.
  EXPECT_NE(report.find("| A100 SXM4 80GB | fp16 | 312 | 624 | TFLOPS |"), std::string::npos) << report;
  EXPECT_NE(report.find("| resnext101 | A100 |"), std::string::npos) << report;
  EXPECT_TRUE(std::filesystem::exists(out / "perfmodel.json"));
  if (plots) {
    for (const char* png : {"curves_mlp.png", "curves_cnn.png", "accuracy.png", "perfmodel.png"})
      EXPECT_GT(std::filesystem::file_size(out / png), 1000u) << png;
  }

  // The cached runs: a re-run reuses both and rewrites identical tables.
  const auto again = run_tool(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("reused"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("epoch 1 done"), std::string::npos) << again.err;
  EXPECT_EQ(slurp((out / "results.csv").string()), csv);
  const auto plan = run_tool(args + " --dry-run");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(count_lines(plan.out), 2) << plan.out;
  EXPECT_NE(plan.out.find("cached"), std::string::npos) << plan.out;
  // Other seeds (e.g. run on another machine into the same folder) are new runs.
  const auto later = run_tool(args + " --first-seed 3 --dry-run");
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_NE(later.out.find("mlp seed 3"), std::string::npos) << later.out;
  EXPECT_NE(later.out.find("to run"), std::string::npos) << later.out;
  EXPECT_EQ(later.out.find("cached"), std::string::npos) << later.out;
  std::filesystem::remove_all(out);
}

}  // namespace
