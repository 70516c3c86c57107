// The `twofour` tool's contract: --help lists the subcommands, --version prints one line, and any
// bad option or argument gives exactly one error line on stderr and exit code 2.
#include "support/run_tool.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;

TEST(Cli, HelpListsSubcommands) {
  const auto r = run_tool("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("demo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("formats"), std::string::npos) << r.out;
}

TEST(Cli, NoArgumentsIsAUsageError) {
  const auto r = run_tool("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

TEST(Cli, VersionIsOneLine) {
  const auto r = run_tool("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_EQ(r.out.rfind("twofour ", 0), 0u) << r.out;
}

// Results and checkpoints carry this revision, so it must be the commit the binary was built from,
// read at build time (a configure-time string went stale after the next commit). Oracle: git.
TEST(Cli, VersionNamesTheCommitOfTheBuild) {
  std::string head;
#ifdef TWOFOUR_SOURCE_DIR
  if (FILE* git = ::popen("git -C '" TWOFOUR_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, git) != nullptr) head = buf;
    if (::pclose(git) != 0) head.clear();
  }
#endif
  while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.pop_back();
  if (head.size() != 12) GTEST_SKIP() << "the source folder is not a git checkout (or git is missing); nothing to compare";
  const auto r = run_tool("--version");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("(git " + head), std::string::npos)
      << r.out << "does not name HEAD " << head << " (rebuild after committing)";
}

TEST(Cli, UnknownOptionIsOneLineAndExit2) {
  const auto r = run_tool("--no-such-option");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("twofour: error:"), std::string::npos) << r.err;
}

TEST(Cli, UnknownSubcommandIsOneLineAndExit2) {
  const auto r = run_tool("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

TEST(Cli, BadArgumentValueIsOneLineAndExit2) {
  const auto r = run_tool("formats --format nosuchformat");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("nosuchformat"), std::string::npos) << r.err;
}

TEST(Cli, FormatsConvertsWithEachRoundingMode) {
  const auto r = run_tool("formats --format fp16 --value 1.00048828125 --mode rna");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0x3c01"), std::string::npos) << r.out;
  const auto rn = run_tool("formats --format fp16 --value 1.00048828125 --mode rn");
  EXPECT_NE(rn.out.find("0x3c00"), std::string::npos) << rn.out;
  const auto bits = run_tool("formats --format e4m3 --bits 0x7e");
  EXPECT_NE(bits.out.find("448"), std::string::npos) << bits.out;
}

}  // namespace
