// twofour._core: the compiled half of the Python package (see bindings.hpp).
#include "bindings.hpp"

NB_MODULE(_core, m) {
  namespace py = twofour::python;
  m.doc() = "Compiled bindings of the twofour C++ library; use the twofour package, not this module.";
  auto formats = m.def_submodule("formats", "Number formats of the simulator (sim/spec).");
  py::bind_formats(formats);
  auto sparse = m.def_submodule("sparse", "Compressed 2:4 layouts (lib/sparse).");
  py::bind_sparse(sparse);
  auto prune = m.def_submodule("prune", "Masks and pruning criteria (lib/prune).");
  py::bind_prune(prune);
  auto sim = m.def_submodule("sim", "The mma / mma.sp simulator (sim).");
  py::bind_sim(sim);
  auto gemm = m.def_submodule("gemm", "The CPU 2:4 GEMM (lib/gemm).");
  py::bind_gemm(gemm);
}
