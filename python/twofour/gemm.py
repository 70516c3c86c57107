"""The fast CPU 2:4 GEMM: C = A B, A sparse (2:4 along K) in the row-major compressed layout.

Products and sums are float32 fused multiply-adds; for N > 16 every output keeps the reference
order (bit-equal to a plain K-order loop), for N <= 16 each output is summed in a fixed 16-lane
order, the same on every instruction set (docs/cpu-gemm.md).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays
from ._core import gemm as _core


def spmm(values: ArrayLike, meta: ArrayLike, b: ArrayLike, threads: int = 0, format: Optional[str] = None,
         isa: str = "auto") -> np.ndarray:
    """C (M x N, float32) = A B with A given as ``(values, meta)`` from
    ``twofour.sparse.compress(w, layout="rowmajor")`` and B dense (K x N).

    values: float32, float16 or bfloat16 (or uint16 bit patterns with ``format="fp16"|"bf16"``).
    b: float32, or the same 16-bit type as values. threads: OpenMP threads (0 = default).
    isa: "auto", "scalar", "avx2" or "avx512". Other memory orders are copied to C order.
    """
    v = _arrays.check_rank(_arrays.as_numpy(values, "values"), "values", 2)
    m = _arrays.check_rank(_arrays.as_numpy(meta, "meta"), "meta", 2)
    bb = _arrays.check_rank(_arrays.as_numpy(b, "b"), "b", 2)
    if m.dtype not in (np.dtype(np.int16), np.dtype(np.uint16)):
        raise TypeError(f"meta: expected the rowmajor layout's 16-bit words, got dtype {m.dtype}")
    m = np.ascontiguousarray(m).view(np.uint16)
    half = {np.dtype(np.float16): "fp16", _arrays.BFLOAT16: "bf16"}.get(v.dtype)
    if v.dtype == np.dtype(np.uint16):
        if format not in ("fp16", "bf16"):
            raise TypeError("uint16 values: pass format='fp16' or 'bf16'")
        half = format
    if half is None:
        if v.dtype != np.dtype(np.float32):
            raise TypeError(f"values: expected float32, float16 or bfloat16, got dtype {v.dtype}")
        return _core.spmm_f32(np.ascontiguousarray(v), m, _arrays.float32_c(bb, "b"), int(threads), isa)
    vbits = np.ascontiguousarray(v).view(np.uint16)
    if bb.dtype == v.dtype:
        return _core.spmm_half(vbits, m, np.ascontiguousarray(bb).view(np.uint16), half, int(threads), isa)
    return _core.spmm_half_f32(vbits, m, _arrays.float32_c(bb, "b"), half, int(threads), isa)


def round_to_half(x: ArrayLike, format: str = "bf16", isa: str = "auto") -> np.ndarray:
    """float32 values rounded to ``format`` ("bf16" or "fp16"), to nearest with ties to even,
    subnormals kept, as the 2:4 GEMM's 16-bit weights are made (the library's conversion, the
    same bits on every instruction set). Returns an array of x's shape with dtype
    ``ml_dtypes.bfloat16`` or ``numpy.float16``. NaN: bf16 gives the quiet NaN 0x7fc0 with x's
    sign (as ml_dtypes), fp16 keeps the sign and top payload bits and sets the quiet bit (x86 F16C).
    """
    if format not in ("bf16", "fp16"):
        raise ValueError(f"format must be 'bf16' or 'fp16', not {format!r}")
    a = _arrays.as_numpy(x, "x")
    if a.dtype != np.dtype(np.float32):
        raise TypeError(f"x: expected float32 values (rounding from another type would round twice), got {a.dtype}")
    bits = _core.round_to_half(np.ascontiguousarray(a).reshape(-1), format, isa)
    dtype = _arrays.BFLOAT16 if format == "bf16" else np.dtype(np.float16)
    return bits.view(dtype).reshape(a.shape)
