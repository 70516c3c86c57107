// experiments/common: result files (JSON + CSV quoting and flattening), the run cache (keys,
// atomic store, corrupt files), progress lines and ETA, report sections, and the plot runner's
// graceful failure.
#include "common/plot.hpp"
#include "common/progress.hpp"
#include "common/report.hpp"
#include "common/results.hpp"
#include "common/run_cache.hpp"
#include "support/run_tool.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace twofour::experiments;
using twofour::testing::slurp;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("twofour-common-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(Results, CsvUnionOfFlattenedKeysInFirstSeenOrder) {
  const std::vector<json> rows = {
      {{"model", "mlp"}, {"acc", 0.5}, {"config", {{"n", 2}, {"m", 4}}}},
      {{"model", "cnn"}, {"extra", "x"}, {"acc", nullptr}},
  };
  // nlohmann's objects sort keys: acc, config.m, config.n, model; then the new key "extra".
  EXPECT_EQ(results_csv(rows), "acc,config.m,config.n,model,extra\n0.5,4,2,mlp,\n,,,cnn,x\n");
}

TEST(Results, CsvQuotesCommasQuotesAndNewlines) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  const std::vector<json> rows = {{{"list", json::array({1, 2})}, {"text", "a,b"}}};
  EXPECT_EQ(results_csv(rows), "list,text\n\"[1,2]\",\"a,b\"\n");
}

TEST(Results, CsvNumbersRoundTrip) {
  const double v = 0.1 + 0.2;
  const std::string csv = results_csv({json{{"v", v}}});
  EXPECT_EQ(std::stod(csv.substr(csv.find('\n') + 1)), v);
}

TEST(Results, WritesBothFiles) {
  TempDir t("results");
  write_results(t.path / "sub", {{"study", "x"}}, {json{{"a", 1}}, json{{"a", 2}}});
  const json doc = json::parse(slurp((t.path / "sub" / "results.json").string()));
  EXPECT_EQ(doc["meta"]["study"], "x");
  ASSERT_EQ(doc["rows"].size(), 2u);
  EXPECT_EQ(doc["rows"][1]["a"], 2);
  EXPECT_EQ(slurp((t.path / "sub" / "results.csv").string()), "a\n1\n2\n");
  // No temporary files are left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(t.path / "sub")) ++files;
  EXPECT_EQ(files, 2u);
}

TEST(Results, UnwritableFolderThrows) {
  TempDir t("unwritable");
  fs::create_directories(t.path);
  std::ofstream(t.path / "file") << "x";
  EXPECT_THROW(write_results(t.path / "file" / "sub", json::object(), {}), std::exception);
}

TEST(RunCache, StoresFindsAndIgnoresCorruptFiles) {
  TempDir t("cache");
  RunCache cache(t.path / "runs");
  EXPECT_FALSE(cache.find("k1").has_value());
  cache.store("k1", {{"acc", 0.9}});
  ASSERT_TRUE(cache.find("k1").has_value());
  EXPECT_EQ((*cache.find("k1"))["acc"], 0.9);
  std::ofstream(t.path / "runs" / "k2.json") << "{ truncated";
  testing::internal::CaptureStderr();
  EXPECT_FALSE(cache.find("k2").has_value());
  EXPECT_NE(testing::internal::GetCapturedStderr().find("warning"), std::string::npos);
  cache.store("k2", {{"acc", 1}});
  EXPECT_EQ((*cache.find("k2"))["acc"], 1);
  EXPECT_EQ(cache.dir_for("k1"), t.path / "runs" / "k1");
  EXPECT_THROW(cache.store("../evil", json::object()), std::invalid_argument);
  EXPECT_THROW((void)cache.find(""), std::invalid_argument);
}

TEST(RunCache, KeysAreReadableStableAndDistinct) {
  const json a = {{"model", "mlp"}, {"pattern", "2:4"}, {"seed", 0}};
  const json b = {{"seed", 0}, {"pattern", "2:4"}, {"model", "mlp"}};  // same config, other order
  const json c = {{"model", "mlp"}, {"pattern", "2:4"}, {"seed", 1}};
  EXPECT_EQ(run_key(a), run_key(b));
  EXPECT_NE(run_key(a), run_key(c));
  EXPECT_EQ(run_key(a).rfind("mlp-2-4-0-", 0), 0u) << run_key(a);
  for (char ch : run_key(a)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.') << run_key(a);
  // The hash is FNV-1a: fixed by definition (the empty string hashes to the offset basis).
  EXPECT_EQ(stable_hash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(stable_hash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(run_key("MLP seed 0, 2:4", a).rfind("mlp-seed-0-2-4-", 0), 0u) << run_key("MLP seed 0, 2:4", a);
  EXPECT_EQ(run_key("x", a).substr(2), run_key(a).substr(run_key(a).size() - 12));
  const json long_config = {{"text", std::string(200, 'x')}};
  EXPECT_LE(run_key(long_config).size(), 60u + 13u);
}

TEST(Progress, LinesCountReusedItemsAndEstimate) {
  std::ostringstream out;
  ProgressReporter p("stage", 3, out);
  p.reuse("first");
  p.start("second");
  p.start("third");
  EXPECT_GE(p.eta_seconds(), 0.0);
  p.finish();
  const std::string text = out.str();
  EXPECT_NE(text.find("[stage] 1/3 first (reused)"), std::string::npos) << text;
  EXPECT_NE(text.find("[stage] 2/3 second (elapsed"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA ?"), std::string::npos) << text;  // nothing timed before item 2
  EXPECT_NE(text.find("[stage] done: 3/3"), std::string::npos) << text;
  EXPECT_EQ(duration_text(59.6), "1m00s");
  EXPECT_EQ(duration_text(3725), "1h02m");
  EXPECT_EQ(duration_text(-1), "?");
}

TEST(Report, TablesAndStatistics) {
  EXPECT_EQ(markdown_table({"a", "b"}, {{"1", "x|y"}, {"2"}}), "| a | b |\n|---|---|\n| 1 | x\\|y |\n| 2 |  |\n");
  const std::vector<json> rows = {{{"name", "m"}, {"r", {{"acc", 0.91234}}}}, {{"name", "n"}}};
  EXPECT_EQ(rows_table(rows, {"name", "r.acc"}, 2), "| name | r.acc |\n|---|---|\n| m | 0.91 |\n| n | – |\n");
  EXPECT_EQ(mean_pm_std({1.0, 3.0}), "2.00 ± 1.41");
  EXPECT_EQ(mean_pm_std({5.0}), "5.00");
  EXPECT_EQ(mean_pm_std({std::nan("")}), "–");
  EXPECT_EQ(fixed(std::nan(""), 2), "–");
}

TEST(Report, MergeReplacesOrAppendsSections) {
  TempDir t("report");
  const auto file = t.path / "REPORT.md";
  merge_report_section(file, "Studies", {"One", "first body"});
  merge_report_section(file, "Studies", {"Two", "second body"});
  merge_report_section(file, "Studies", {"One", "new body"});
  const std::string text = slurp(file.string());
  EXPECT_EQ(text, "# Studies\n\n## One\n\nnew body\n\n## Two\n\nsecond body\n\n") << text;
  write_report(file, "T", "pre", {{"S", "b"}});
  EXPECT_EQ(slurp(file.string()), "# T\n\npre\n\n## S\n\nb\n\n");
}

TEST(Plot, MissingScriptIsAWarningNotAFailure) {
  testing::internal::CaptureStderr();
  EXPECT_FALSE(run_plot("no_such_script.py", {"x"}));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("warning"), std::string::npos) << err;
}

}  // namespace
