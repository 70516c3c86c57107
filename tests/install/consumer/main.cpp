// A downstream project that uses the installed twofour package.
#include <twofour/sim/spec/format.hpp>

#include <cstdio>

int main() {
  const double one = twofour::sim::spec::decode_to_double(twofour::sim::spec::fp16, 0x3c00);
  std::printf("fp16 0x3c00 = %g\n", one);
  return one == 1.0 ? 0 : 1;
}
