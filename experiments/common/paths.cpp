#include "common/paths.hpp"

#include <cstdlib>

namespace twofour::experiments {

std::filesystem::path source_dir() {
  if (const char* env = std::getenv("TWOFOUR_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return TWOFOUR_SOURCE_DIR;
}

}  // namespace twofour::experiments
