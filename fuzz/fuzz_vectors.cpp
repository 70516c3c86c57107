// libFuzzer target: read_vectors (the v1 test-vector text format that `twofour validate --vectors`
// and the regression tests read) must either return cases whose instruction, selector and
// registers are usable, or throw VectorFormatError; never crash, hang or leak.
#include "twofour/sim/vectors.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofour::sim;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const VectorFile f = read_vectors(in, "fuzz");
    for (const auto& c : f.cases)
      if (c.instr == nullptr) std::abort();
  } catch (const VectorFormatError&) {
  }
  return 0;
}
