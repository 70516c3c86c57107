#pragma once
// Runs the built `twofour` tool (or any command) through the shell and captures its exit code,
// stdout and stderr, for CLI tests.
#include "support/paths.hpp"
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace twofour::testing {

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the tool path verbatim (quote paths yourself).
inline ToolResult run_tool(const std::string& args, const std::string& tool = tool_path()) {
  char out_tmpl[] = "/tmp/twofour-test-out-XXXXXX";
  char err_tmpl[] = "/tmp/twofour-test-err-XXXXXX";
  const int out_fd = ::mkstemp(out_tmpl);
  const int err_fd = ::mkstemp(err_tmpl);
  ::close(out_fd);
  ::close(err_fd);
  const std::string command = "'" + tool + "' " + args + " >" + out_tmpl + " 2>" + err_tmpl + " </dev/null";
  const int status = std::system(command.c_str());
  ToolResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = slurp(out_tmpl);
  result.err = slurp(err_tmpl);
  std::remove(out_tmpl);
  std::remove(err_tmpl);
  return result;
}

inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  if (!text.empty() && text.back() != '\n') ++lines;
  return lines;
}

}  // namespace twofour::testing

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace twofour::testing {

// A character device a test may give the tool as an output. As root, a buggy tool could replace
// the real /dev/null (root may rename over it), so root tests get their own null device node in
// `folder`; "" when it cannot be made (then skip the device case). Others get /dev/null, which
// they cannot replace.
inline std::string device_for_tests(const std::string& folder, const std::string& name, unsigned minor) {
  if (::geteuid() != 0) return "/dev/" + name;
  const std::string path = folder + "/" + name + "-device";
  if (::mknod(path.c_str(), S_IFCHR | 0666, ::makedev(1, minor)) != 0) return "";
  const int fd = ::open(path.c_str(), O_WRONLY);  // fails on a file system mounted nodev
  if (fd < 0) {
    ::unlink(path.c_str());
    return "";
  }
  ::close(fd);
  return path;
}
inline std::string null_device_for_tests(const std::string& folder) { return device_for_tests(folder, "null", 3); }
// Like /dev/full: every write fails with ENOSPC.
inline std::string full_device_for_tests(const std::string& folder) { return device_for_tests(folder, "full", 7); }

}  // namespace twofour::testing
