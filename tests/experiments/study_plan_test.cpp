// Scale-out of `twofour study` (docs/scale-out.md): a plan run by three concurrent local workers
// (`xargs -P 3`) and merged gives byte-identical results.json and results.csv to the same study run
// in one process (the oracle); an index whose dependency has not finished is refused; a merge
// before the runs lists them as missing; a claim left by a dead process is taken over.
#include "support/run_tool.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using twofour::testing::run_tool;
using twofour::testing::slurp;
using twofour::testing::tool_path;

bool have_fashion_mnist() { return fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"); }

// The recipe study: its runs are deterministic given the seed and one thread (the criteria and
// mask-quality studies include a time-limited permutation search and timings, which are not).
const std::string kTiny = "--limit 300 --test-limit 200 --threads 1 --models mlp --no-plots";

fs::path scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("twofour-plan-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

TEST(StudyPlan, ConcurrentWorkersMergeToTheSingleProcessResults) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto planned = scratch("workers"), single = scratch("single");
  auto r = run_tool("study recipe --plan " + kTiny + " --out '" + planned.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto plan = nlohmann::json::parse(slurp((planned / "plan.json").string()));
  ASSERT_EQ(plan["runs"][0]["kind"], "dense");
  for (std::size_t i = 1; i < plan["runs"].size(); ++i)
    EXPECT_EQ(plan["runs"][i]["depends_on"], nlohmann::json::array({plan["runs"][0]["id"]}));

  r = run_tool("study recipe --merge --out '" + planned.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(plan["runs"].size() - 1) + " run(s) missing"), std::string::npos) << r.out;
  r = run_tool("study --run-plan '" + planned.string() + "' --index 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not finished"), std::string::npos) << r.err;

  const std::string workers = "seq 3 | xargs -P 3 -I{} sh -c \"'" + tool_path() + "' study --run-plan '" +
                              planned.string() + "' --worker > '" + planned.string() + "/worker{}.log' 2>&1\"";
  ASSERT_EQ(std::system(workers.c_str()), 0) << slurp((planned / "worker1.log").string());
  r = run_tool("study recipe --merge --out '" + planned.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("missing"), std::string::npos) << r.out;

  r = run_tool("study recipe " + kTiny + " --out '" + single.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp((planned / "recipe/results.json").string()), slurp((single / "recipe/results.json").string()));
  EXPECT_EQ(slurp((planned / "recipe/results.csv").string()), slurp((single / "recipe/results.csv").string()));
  fs::remove_all(planned);
  fs::remove_all(single);
}

TEST(StudyPlan, AWorkerTakesOverTheClaimOfADeadProcess) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
  const auto dir = scratch("stale");
  auto r = run_tool("study mask-quality --plan --limit 200 --test-limit 100 --threads 1 --models mlp --no-plots --out '" +
                    dir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto plan = nlohmann::json::parse(slurp((dir / "plan.json").string()));
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  fs::create_directories(dir / "plan-claims");
  // A pid beyond the kernel's maximum (4194304) belongs to no process.
  for (const auto& entry : plan["runs"])
    std::ofstream(dir / "plan-claims" / entry["id"].get<std::string>()) << host << " 99999999\n";
  r = run_tool("study --run-plan '" + dir.string() + "' --worker");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stale claim"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find(std::to_string(plan["runs"].size()) + " run(s) here"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(StudyPlan, BadUsage) {
  EXPECT_EQ(run_tool("study --run-plan /tmp/x").exit_code, 2);
  EXPECT_EQ(run_tool("study --run-plan /tmp/x --index 0 --worker").exit_code, 2);
  EXPECT_EQ(run_tool("study recipe --index 0 --out /tmp/x").exit_code, 2);
  EXPECT_EQ(run_tool("study recipe --plan --merge --out /tmp/x").exit_code, 2);
  const auto r = run_tool("study --run-plan /nonexistent/plan --index 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no plan"), std::string::npos) << r.err;
}

}  // namespace
