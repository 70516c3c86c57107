// OutputSet: outputs checked against inputs and each other before any work, symlinks written
// through, devices and FIFOs written in place, all-or-nothing commits of files and folders, and
// temporaries removed on errors and on SIGTERM. Every test works in its own scratch folder.
#include "twofour/io/input_file.hpp"
#include "twofour/io/output_set.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using twofour::io::OutputError;
using twofour::io::OutputSet;

class OutputSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "twofour-outset-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path file(const std::string& name, const std::string& content) const {
    std::ofstream(dir / name, std::ios::binary) << content;
    return dir / name;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Every name in the scratch folder, to see that no temporary is left.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir;
};

// The error message of `f`, or "" when it did not throw OutputError.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const OutputError& e) {
    return e.what();
  }
  return "";
}

TEST_F(OutputSetTest, OutputEqualToInputIsRefusedWhateverItsSpelling) {
  const auto w = file("w.npy", "weights");
  ASSERT_EQ(::link(w.c_str(), (dir / "hard.npy").c_str()), 0);
  fs::create_symlink("w.npy", dir / "soft.npy");
  const auto cwd = fs::current_path();
  fs::current_path(dir);
  for (const fs::path& out : {fs::path("w.npy"), fs::path("./w.npy"), fs::path("sub/../w.npy"), fs::path("hard.npy"),
                             fs::path("soft.npy"), dir / "w.npy"}) {
    fs::create_directories("sub");
    const std::string message = error_of([&] { OutputSet set({"w.npy"}, {out}); });
    EXPECT_NE(message.find("is the input"), std::string::npos) << out << ": " << message;
    EXPECT_NE(message.find(out.string()), std::string::npos) << message;
  }
  fs::current_path(cwd);
  EXPECT_EQ(read(w), "weights");
}

TEST_F(OutputSetTest, TwoOutputsOnOneFileAreRefused) {
  const std::string message = error_of([&] { OutputSet set({}, {dir / "x.npy", dir / "." / "x.npy"}); });
  EXPECT_NE(message.find("are the same file"), std::string::npos) << message;
  fs::create_directory(dir / "run");
  const std::string in_folder = error_of([&] { OutputSet set({}, {dir / "run" / "a"}, {dir / "run"}); });
  EXPECT_NE(in_folder.find("inside the output folder"), std::string::npos) << in_folder;
  file("data.txt", "keep");
  const std::string holds = error_of([&] { OutputSet set({dir / "data.txt"}, {}, {dir}); });
  EXPECT_NE(holds.find("holds the input"), std::string::npos) << holds;
  EXPECT_TRUE((names() == std::vector<std::string>{"data.txt", "run"}));
  EXPECT_TRUE(fs::is_empty(dir / "run"));
}

TEST_F(OutputSetTest, MissingFolderAndFolderAsFileAreRefusedBeforeAnyWork) {
  EXPECT_NE(error_of([&] { OutputSet set({}, {dir / "nodir" / "e.npy"}); }).find("nodir"), std::string::npos);
  fs::create_directory(dir / "d");
  EXPECT_NE(error_of([&] { OutputSet set({}, {dir / "d"}); }).find("is a folder"), std::string::npos);
  file("f", "x");
  EXPECT_NE(error_of([&] { OutputSet set({}, {}, {dir / "f"}); }).find("not a folder"), std::string::npos);
}

TEST_F(OutputSetTest, NothingIsVisibleBeforeCommitAndNothingIsLeftOnError) {
  const auto old = file("a.npy", "old a");
  {
    OutputSet set({}, {old, dir / "b.npy"});
    set.write(old, std::string_view("new a"));
    EXPECT_EQ(read(old), "old a");
    EXPECT_FALSE(fs::exists(dir / "b.npy"));
    // destroyed without commit: a command that failed after its first output
  }
  EXPECT_EQ(read(old), "old a");
  EXPECT_TRUE(names() == std::vector<std::string>{"a.npy"});
  {
    OutputSet set({}, {old, dir / "b.npy"});
    set.write(old, std::string_view("new a"));
    EXPECT_THROW(set.commit(), std::logic_error);  // b was never written
  }
  EXPECT_EQ(read(old), "old a");
  OutputSet set({}, {old, dir / "b.npy"});
  set.write(old, std::string_view("new a"));
  set.write(dir / "b.npy", std::string_view("b"));
  set.commit();
  EXPECT_EQ(read(old), "new a");
  EXPECT_EQ(read(dir / "b.npy"), "b");
  EXPECT_TRUE((names() == std::vector<std::string>{"a.npy", "b.npy"}));
}

TEST_F(OutputSetTest, ReadOnlyFileIsNotReplaced) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write any file";
  const auto f = file("locked", "keep");
  fs::permissions(f, fs::perms::owner_read);
  EXPECT_NE(error_of([&] { OutputSet set({}, {f}); }).find("Permission denied"), std::string::npos);
  EXPECT_EQ(read(f), "keep");
}

TEST_F(OutputSetTest, ReplacedFileKeepsItsPermissions) {
  const auto f = file("f", "old");
  fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  OutputSet set({}, {f});
  set.write(f, std::string_view("new"));
  set.commit();
  EXPECT_EQ(fs::status(f).permissions(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST_F(OutputSetTest, SymlinkIsWrittenThroughAndStaysALink) {
  const auto target = file("target.npy", "old");
  fs::create_symlink("target.npy", dir / "link.npy");
  fs::create_symlink("missing.npy", dir / "dangling.npy");
  OutputSet set({}, {dir / "link.npy", dir / "dangling.npy"});
  set.write(dir / "link.npy", std::string_view("through"));
  set.write(dir / "dangling.npy", std::string_view("created"));
  set.commit();
  EXPECT_TRUE(fs::is_symlink(dir / "link.npy"));
  EXPECT_EQ(read(target), "through");
  EXPECT_TRUE(fs::is_symlink(dir / "dangling.npy"));
  EXPECT_EQ(read(dir / "missing.npy"), "created");
}

TEST_F(OutputSetTest, DevicesAndFifosAreWrittenInPlace) {
  OutputSet null({}, {"/dev/null"});
  null.write("/dev/null", std::string_view("discarded"));
  null.commit();
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));

  const auto fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const pid_t reader = ::fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) {  // child: copy the FIFO into a file, then exit without running gtest's atexit
    std::ifstream in(fifo, std::ios::binary);
    std::ofstream(dir / "got", std::ios::binary) << in.rdbuf();
    ::_exit(0);
  }
  {
    OutputSet set({}, {fifo});
    set.write(fifo, std::string_view("through the pipe"));
    set.commit();
  }
  int status = 0;
  ::waitpid(reader, &status, 0);
  EXPECT_EQ(read(dir / "got"), "through the pipe");
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(OutputSetTest, FolderAppearsCompleteOrNotAtAll) {
  const auto run = dir / "checkpoint";
  {
    OutputSet set({}, {}, {run});
    const auto staging = set.folder(run);
    std::ofstream(staging / "w1", std::ios::binary) << "one";
    fs::create_directory(staging / "sub");
    std::ofstream(staging / "sub" / "w2", std::ios::binary) << "two";
    EXPECT_FALSE(fs::exists(run));
  }
  EXPECT_TRUE(names().empty());  // abandoned: the staging folder is gone too
  for (const std::string& version : std::vector<std::string>{"first", "second"}) {
    OutputSet set({}, {}, {run});
    const auto staging = set.folder(run);
    std::ofstream(staging / "w", std::ios::binary) << version;
    if (version == "first") std::ofstream(staging / "only-in-first", std::ios::binary) << "x";
    set.commit();
    EXPECT_EQ(read(run / "w"), version);
  }
  EXPECT_FALSE(fs::exists(run / "only-in-first"));  // the old folder was replaced whole
  EXPECT_TRUE(names() == std::vector<std::string>{"checkpoint"});
}

TEST_F(OutputSetTest, SigtermRemovesTemporaries) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    OutputSet set({}, {dir / "out.npy"}, {dir / "ckpt"});
    set.write(dir / "out.npy", std::string_view("partial"));
    std::ofstream(set.folder(dir / "ckpt") / "w", std::ios::binary) << "partial";
    ::raise(SIGTERM);
    ::_exit(3);  // not reached
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_TRUE(names().empty());
}

TEST_F(OutputSetTest, InputsThatAreNotRegularFilesGiveOneNamedError) {
  using twofour::io::FormatError;
  using twofour::io::read_file_bytes;
  const auto expect_error = [](const fs::path& p, const std::string& words) {
    try {
      read_file_bytes(p);
      ADD_FAILURE() << p << " was read";
    } catch (const FormatError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(p.string()), std::string::npos) << m;
      EXPECT_NE(m.find(words), std::string::npos) << m;
    }
  };
  expect_error(dir, "a folder");
  expect_error("/dev/null", "character device");
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  expect_error(dir / "pipe", "FIFO");  // and it does not wait for a writer
  expect_error(dir / "missing", "No such file");
  if (::geteuid() != 0) {  // root reads anything
    const auto secret = file("secret", "x");
    fs::permissions(secret, fs::perms::none);
    expect_error(secret, "Permission denied");
  }
  EXPECT_EQ(read_file_bytes(file("ok", "abc")).size(), 3u);
}

}  // namespace
