#include "common/plot.hpp"

#include "common/paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace twofour::experiments {
namespace {

// Runs argv[0] from PATH with stdout sent to stderr (the tool's stdout stays its own report);
// returns the exit status, or -1 when it could not be started or was killed.
int spawn_and_wait(const std::vector<std::string>& argv) {
  std::vector<char*> cargs;
  for (const auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, cargs[0], &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

bool plotting_available() {
  static const bool available = [] {
    // Silence the probe's own error output; a missing module is reported by run_plot in one line.
    return spawn_and_wait({"python3", "-c",
                           "import sys, os; sys.stderr = open(os.devnull, 'w'); import matplotlib, numpy"}) == 0;
  }();
  return available;
}

bool python_has_modules(const std::string& modules) {
  return spawn_and_wait({"python3", "-c", "import sys, os; sys.stderr = open(os.devnull, 'w'); import " + modules}) == 0;
}

int run_python_script(const std::string& script_in_source, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"python3", (source_dir() / script_in_source).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_and_wait(argv);
}

bool run_plot(const std::string& script, const std::vector<std::string>& args) {
  if (!plotting_available()) {
    std::cerr << "warning: no plots (" << script
              << "): python3 with numpy and matplotlib is needed (Debian: python3-matplotlib)\n";
    return false;
  }
  const auto path = source_dir() / "experiments" / "plots" / script;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::cerr << "warning: no plots: " << path.string() << " not found (set TWOFOUR_SOURCE_DIR to the source tree)\n";
    return false;
  }
  std::vector<std::string> argv = {"python3", path.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const int rc = spawn_and_wait(argv);
  if (rc != 0) {
    std::cerr << "warning: plot script " << script << " failed (exit " << rc << "); results are unaffected\n";
    return false;
  }
  return true;
}

}  // namespace twofour::experiments
