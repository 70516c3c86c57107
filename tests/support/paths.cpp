#include "support/paths.hpp"

namespace twofour::testing {

std::string test_data_dir() { return TWOFOUR_TEST_DATA_DIR; }
std::string tool_path() { return TWOFOUR_TOOL_PATH; }

}  // namespace twofour::testing
