#pragma once
// Where the tool finds files that ship with the sources (plot scripts), for a build tree.
#include <filesystem>

namespace twofour::experiments {

// The source tree this tool was built from (TWOFOUR_SOURCE_DIR), overridable with the environment
// variable TWOFOUR_SOURCE_DIR for relocated trees.
std::filesystem::path source_dir();

}  // namespace twofour::experiments
