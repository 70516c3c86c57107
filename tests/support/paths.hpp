#pragma once
// Where the tests find their data and the built tool. The absolute paths are compiled into one
// small file (paths.cpp) rather than into every test, so that moving the checkout (a second
// worktree, a fresh clone) does not change the command line of every test file.
#include <string>

namespace twofour::testing {

std::string test_data_dir();  // tests/data in the source tree
std::string tool_path();      // the built `twofour` executable

}  // namespace twofour::testing
