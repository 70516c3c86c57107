"""twofour: NVIDIA 2:4 structured sparsity without a GPU, from Python.

The same C++ library as the ``twofour`` command-line tool, with NumPy arrays in and out:

- ``twofour.formats``: number formats and PTX ``cvt`` rounding (``to_bits``, ``from_bits``);
- ``twofour.prune``: N:M masks from the library's criterion registry, SparseGPT, channel
  permutations, the N:M checker;
- ``twofour.sparse``: compression into the CUTLASS / PyTorch and row-major layouts;
- ``twofour.sim``: the bit-accurate ``mma`` / ``mma.sp`` simulator (tile, warp and GEMM level);
- ``twofour.gemm``: the fast CPU 2:4 GEMM.

"N:M" means N weights KEPT in every group of M consecutive input channels (as in PTX and Apex).
Errors in the input raise ``ValueError`` with the message the command-line tool prints.
"""
from . import formats, gemm, prune, sim, sparse

__version__ = "0.1.0"
__all__ = ["formats", "gemm", "prune", "sim", "sparse"]
