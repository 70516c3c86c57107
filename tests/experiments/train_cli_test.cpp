// `twofour train`: usage errors (exit 2, one line), missing data (exit 1, names the package), and
// a quick ASP run on a few hundred Fashion-MNIST images writing results.json and resuming.
#include "support/run_tool.hpp"
#include "support/seed.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <unistd.h>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;

bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

TEST(TrainCli, BadArgumentsAreUsageErrors) {
  for (const char* args : {"train --model resnet", "train --workflow magic", "train --epochs 0",
                           "train --optimizer adam", "train --schedule linear", "train --batch-size 1",
                           "train --workflow asp --criterion l3norm", "train --workflow dense --criterion wanda"}) {
    const auto r = run_tool(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << ": " << r.err;
  }
}

TEST(TrainCli, MissingDataNamesThePackage) {
  const auto r = run_tool("train --data /nonexistent/fashion");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("dataset-fashion-mnist"), std::string::npos) << r.err;
}

TEST(TrainCli, QuickAspRunWritesResultsAndResumes) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto out = std::filesystem::temp_directory_path() / ("twofour-train-cli-" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  const std::string args = "train --model mlp --workflow asp --epochs 1 --limit 300 --test-limit 300 --threads 1 --seed 5 --out '" +
                           out.string() + "'";
  const auto r = run_tool(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("epoch 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("2:4 one-shot test accuracy"), std::string::npos) << r.out;
  const auto results = nlohmann::json::parse(twofour::testing::slurp((out / "results.json").string()));
  EXPECT_EQ(results["workflow"], "asp");
  EXPECT_EQ(results["seed"], 5);
  EXPECT_EQ(results["history"].size(), 2u);
  EXPECT_GT(results["final_accuracy"].get<double>(), 0.3);
  EXPECT_EQ(results["pruned_layers"], (nlohmann::json{"fc1.weight", "fc2.weight"}));
  for (const auto& l : results["layers"]) {
    if (l["pruned"].get<bool>()) {
      EXPECT_TRUE(l["is_2_4"].get<bool>()) << l.dump();
    }
  }
  EXPECT_TRUE(std::filesystem::exists(out / "checkpoint.safetensors"));
  // Running it again finds the finished checkpoint and reproduces the numbers without training.
  const auto again = run_tool(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming"), std::string::npos) << again.err;
  const auto results2 = nlohmann::json::parse(twofour::testing::slurp((out / "results.json").string()));
  EXPECT_EQ(results2["final_accuracy"], results["final_accuracy"]);
  EXPECT_EQ(results2["resumed_from_epoch"], 2);
  // Another seed in the same folder is refused (exit 1), not silently mixed.
  const auto other = run_tool("train --model mlp --workflow asp --epochs 1 --limit 300 --test-limit 300 --threads 1 --seed 6 --out '" +
                              out.string() + "'");
  EXPECT_EQ(other.exit_code, 1) << other.err;
  std::filesystem::remove_all(out);
}

// A data-aware criterion through the CLI: the retrained layers are still exactly 2:4, and the
// checkpoint records the criterion (a magnitude run's checkpoint is not reused for it).
TEST(TrainCli, AspWithWandaCriterionKeepsExact24) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto out = std::filesystem::temp_directory_path() / ("twofour-train-criterion-" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  const auto r = run_tool("train --model mlp --workflow asp --criterion wanda --epochs 1 --limit 300 --test-limit 200 "
                          "--threads 1 --out '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("wanda"), std::string::npos) << r.err;
  const auto results = nlohmann::json::parse(twofour::testing::slurp((out / "results.json").string()));
  EXPECT_EQ(results["config"]["mask"], "wanda");
  for (const auto& l : results["layers"])
    if (l["pruned"].get<bool>()) {
      EXPECT_TRUE(l["is_2_4"].get<bool>()) << l.dump();
    }
  std::filesystem::remove_all(out);
}

}  // namespace
