// Nothing the user owns is destroyed: one regression test per way the tool used to lose or
// misreport data (an output equal to an input, two outputs on one path, a link/device/FIFO
// output replaced by a file, a partial multi-file output, a folder as input, a bad values file
// blamed on the metadata, an empty vector file reported silently) and the NaN weight policy.
// Oracle: the bytes and file kind of every input before and after, and the tool contract (exit 1
// and one stderr line naming the path on failure).
#include "twofour/io/npy.hpp"
#include "twofour/io/safetensors.hpp"

#include "support/run_tool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace twofour::io;
using twofour::testing::count_lines;
using twofour::testing::run_tool;
using twofour::testing::slurp;
using twofour::testing::ToolResult;

class OutputSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("twofour-safety-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::vector<float> w(8 * 16);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 37) % 23) - 11.0f;
    write_npy(file("w.npy"), from_float32(w, {8, 16}, DType::f32));
    SafetensorsFile st;
    st.tensors = {{"layer.weight", from_float32(w, {8, 16}, DType::f32)}};
    write_safetensors(file("g.safetensors"), st);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string p(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  fs::path file(const std::string& name) const { return dir_ / name; }
  // Runs the tool and checks the failure contract: exit 1, one stderr line containing `words`.
  void expect_refused(const std::string& args, const std::string& words) const {
    const ToolResult r = run_tool(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << args << "\n" << r.err;
  }
  fs::path dir_;
};

TEST_F(OutputSafety, Case1OutputEqualToInputIsRefusedAndTheInputKept) {
  const std::string w = slurp(file("w.npy").string()), g = slurp(file("g.safetensors").string());
  expect_refused("prune " + p("w.npy") + " " + p("w.npy"), "is the input");
  expect_refused("prune " + p("w.npy") + " " + p("./w.npy"), "is the input");
  ASSERT_EQ(::link(file("w.npy").c_str(), file("hard.npy").c_str()), 0);
  expect_refused("prune " + p("w.npy") + " " + p("hard.npy"), "is the input");
  ASSERT_EQ(run_tool("compress --layout rowmajor --prune " + p("w.npy") + " " + p("v.npy") + " " + p("e.npy")).exit_code, 0);
  const std::string v = slurp(file("v.npy").string());
  expect_refused("decompress --layout rowmajor " + p("v.npy") + " " + p("e.npy") + " " + p("v.npy"), "is the input");
  expect_refused("prune --tensor '*' " + p("g.safetensors") + " " + p("g.safetensors"), "is the input");
  EXPECT_EQ(slurp(file("w.npy").string()), w);
  EXPECT_EQ(slurp(file("v.npy").string()), v);
  EXPECT_EQ(slurp(file("g.safetensors").string()), g);
}

TEST_F(OutputSafety, Case2TwoOutputsOnOnePathAreRefused) {
  expect_refused("compress --layout rowmajor --prune " + p("w.npy") + " " + p("x.npy") + " " + p("x.npy"), "are the same file");
  expect_refused("prune " + p("w.npy") + " " + p("m.npy") + " --pruned " + p("m.npy"), "are the same file");
  expect_refused("prune --permute " + p("w.npy") + " " + p("m.npy") + " --permutation " + p("m.npy"), "are the same file");
  EXPECT_FALSE(fs::exists(file("x.npy")));
  EXPECT_FALSE(fs::exists(file("m.npy")));
}

TEST_F(OutputSafety, Case3LinksDevicesAndFifosKeepWhatTheyAre) {
  struct stat st {};
  if (const std::string device = twofour::testing::null_device_for_tests(dir_.string()); !device.empty()) {
    const ToolResult null = run_tool("prune " + p("w.npy") + " '" + device + "'");
    EXPECT_EQ(null.exit_code, 0) << null.err;
    ASSERT_EQ(::lstat(device.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << device << " was replaced";
  }

  fs::create_symlink("target.npy", file("link.npy"));
  ASSERT_EQ(run_tool("prune " + p("w.npy") + " " + p("link.npy")).exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(file("link.npy")));
  EXPECT_EQ(read_npy(file("target.npy")).dtype, DType::i8);  // the mask went through the link

  ASSERT_EQ(::mkfifo(file("pipe").c_str(), 0600), 0);
  const pid_t reader = ::fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) {
    ::execl("/bin/sh", "sh", "-c", ("cat " + p("pipe") + " > " + p("from-pipe.npy")).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const ToolResult fifo = run_tool("prune " + p("w.npy") + " " + p("pipe"));
  // Should the tool not have written, release the reader (it waits for a writer) so the test ends.
  if (const int fd = ::open(file("pipe").c_str(), O_WRONLY | O_NONBLOCK); fd >= 0) ::close(fd);
  int status = 0;
  ::waitpid(reader, &status, 0);
  EXPECT_EQ(fifo.exit_code, 0) << fifo.err;
  ASSERT_EQ(::lstat(file("pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
  EXPECT_EQ(slurp(file("from-pipe.npy").string()), slurp(file("target.npy").string()));
}

TEST_F(OutputSafety, Case4AFailedOutputLeavesNoOtherBehind) {
  expect_refused("compress --layout rowmajor --prune " + p("w.npy") + " " + p("v.npy") + " " + p("nodir/e.npy"), "nodir");
  expect_refused("prune " + p("w.npy") + " " + p("m.npy") + " --pruned " + p("nodir/p.npy"), "nodir");
  expect_refused("prune --permute " + p("w.npy") + " " + p("m.npy") + " --permutation " + p("nodir/p.npy"), "nodir");
  EXPECT_FALSE(fs::exists(file("v.npy")));
  EXPECT_FALSE(fs::exists(file("m.npy")));
  // A second output that cannot be written (a folder) is refused before the first is touched.
  std::ofstream(file("old-v.npy")) << "previous values";
  fs::create_directory(file("e-folder.npy"));
  expect_refused("compress --layout rowmajor --prune " + p("w.npy") + " " + p("old-v.npy") + " " + p("e-folder.npy"), "is a folder");
  EXPECT_EQ(slurp(file("old-v.npy").string()), "previous values");
  // A write failing at the very end (a /dev/full device: "No space left on device") leaves the other
  // output as it was, and no temporary.
  if (const std::string full = twofour::testing::full_device_for_tests(dir_.string()); !full.empty() && fs::exists(full)) {
    expect_refused("compress --layout rowmajor --prune " + p("w.npy") + " " + p("old-v.npy") + " '" + full + "'", "No space left");
    EXPECT_EQ(slurp(file("old-v.npy").string()), "previous values");
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  for (const auto& n : names) EXPECT_EQ(n.find("tmp"), std::string::npos) << "temporary left: " << n;
}

TEST_F(OutputSafety, Case5AFolderAsInputNamesTheFolder) {
  fs::create_directory(file("d.npy"));
  fs::create_directory(file("d.safetensors"));
  expect_refused("prune " + p("d.npy") + " " + p("m.npy"), "d.npy: it is a folder");
  expect_refused("compress --layout rowmajor " + p("d.npy") + " " + p("v.npy") + " " + p("e.npy"), "d.npy: it is a folder");
  expect_refused("decompress --layout rowmajor " + p("d.npy") + " " + p("d.npy") + " " + p("o.npy"), "d.npy: it is a folder");
  expect_refused("prune --tensor '*' " + p("d.safetensors") + " " + p("o.safetensors"), "d.safetensors: it is a folder");
  expect_refused("prune " + p("w.npy") + " " + p("m.npy") + " --criterion wanda --calib " + p("d.npy"), "d.npy: it is a folder");
}

TEST_F(OutputSafety, Case6ABadValuesFileIsBlamedOnTheValues) {
  write_npy(file("v_32x31.npy"), from_float32(std::vector<float>(32 * 31, 0.0f), {32, 31}, DType::f32));
  write_npy(file("e.npy"), from_float32(std::vector<float>(32 * 4, 0.0f), {32, 4}, DType::i16));
  const ToolResult r = run_tool("decompress --layout rowmajor " + p("v_32x31.npy") + " " + p("e.npy") + " " + p("o.npy"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("v_32x31.npy: values of shape (32, 31)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("e.npy"), std::string::npos) << r.err;
}

TEST_F(OutputSafety, Case7AVectorFileWithoutVectorsSaysSo) {
  const std::string header = slurp(twofour::testing::test_data_dir() + "/sim-vectors/regression_sm90.txt");
  std::ofstream(file("header-only.txt")) << header.substr(0, header.find('\n') + 1);
  expect_refused("validate --vectors " + p("header-only.txt"), "header-only.txt: the file holds a header but no test vectors");
}

TEST_F(OutputSafety, NaNAndInfiniteWeightsAreRejectedWithTheirIndexByEveryCriterion) {
  std::vector<float> w(8 * 16, 1.0f);
  w[1 * 16 + 3] = std::numeric_limits<float>::quiet_NaN();
  w[5 * 16 + 0] = std::numeric_limits<float>::infinity();
  write_npy(file("nan.npy"), from_float32(w, {8, 16}, DType::f32));
  write_npy(file("x.npy"), from_float32(std::vector<float>(32 * 16, 0.5f), {32, 16}, DType::f32));
  write_npy(file("g.npy"), from_float32(std::vector<float>(8 * 16, 0.5f), {8, 16}, DType::f32));
  for (const std::string& criterion : std::vector<std::string>{"magnitude --transposable", "random", "wanda --calib " + p("x.npy"),
                                       "taylor --grad " + p("g.npy"), "sparsegpt --calib " + p("x.npy"), "magnitude --permute"})
    expect_refused("prune --criterion " + criterion + " " + p("nan.npy") + " " + p("m.npy"),
                   "weight (1, 3) is NaN (1 NaN and 1 infinite of 128 weights)");
  EXPECT_FALSE(fs::exists(file("m.npy")));
  const ToolResult help = run_tool("prune --help");
  EXPECT_NE(help.out.find("NaN and infinite weights are rejected by every criterion"), std::string::npos) << help.out;
}

}  // namespace
