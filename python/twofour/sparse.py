"""Compressed 2:4 matrices: a dense M x K matrix whose groups of 4 consecutive elements of a row
hold at most 2 non-zeros, stored as values (M x K/2) and metadata.

Layouts (lib/sparse/compress.hpp):

- ``"cutlass"``: CUTLASS SM80 reordered metadata, byte-identical to PyTorch's
  ``to_sparse_semi_structured`` (CUTLASS backend). float32/tf32 use 1:2 (one kept of every 2).
  Needs M % 32 == 0 (16 for int8) and K % 32 (fp16/bf16), 16 (fp32/tf32), 64 (int8).
- ``"rowmajor"``: one 4-bit nibble per group, (idx1 << 2) | idx0 as ``mma.sp`` reads it, four per
  uint16 word in K order; needs K % 4 == 0. This is the layout ``twofour.gemm.spmm`` takes.
- ``"sparse-24-bitmask"``: compressed-tensors' 2:4 format (llm-compressor, vLLM): the same values
  and, instead of metadata, a uint8 bitmask M x ceil(K/8) of the stored positions (NumPy
  ``packbits(..., axis=-1, bitorder="little")``), two bits per group; K % 4 == 0.

Element types by dtype: float32, float16, ml_dtypes.bfloat16, int8; raw bit patterns in uint16
with ``format="bf16"`` or ``"fp16"``, and float32 read as tf32 with ``format="tf32"``. Values come
back in the input's dtype; metadata as int16 (int32 for int8 in the cutlass layout; the uint8
bitmask for sparse-24-bitmask), as the ``twofour compress`` tool writes it.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays
from ._core import sparse as _core


def _element_type(dtype, fmt):
    if fmt is not None:
        wanted = {"fp32": (np.float32, "f32"), "tf32": (np.float32, "tf32"), "fp16": (np.float16, "f16"),
                  "bf16": (_arrays.BFLOAT16, "bf16"), "s8": (np.int8, "s8")}
        if fmt not in wanted:
            raise ValueError(f"format must be one of {', '.join(wanted)}, not '{fmt}'")
        native, name = wanted[fmt]
        if dtype == np.dtype(native) or (dtype.itemsize == np.dtype(native).itemsize and dtype.kind in "iu"):
            return name
        raise TypeError(f"format='{fmt}' needs {np.dtype(native)} values or same-size integer bit patterns, "
                        f"got dtype {dtype}")
    by_dtype = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16", _arrays.BFLOAT16: "bf16",
                np.dtype(np.int8): "s8"}
    if dtype in by_dtype:
        return by_dtype[dtype]
    if dtype == np.dtype(np.uint16):
        raise TypeError("uint16 input: pass format='bf16' (or 'fp16') to say what the bit patterns are")
    raise TypeError(f"compress takes float32, float16, bfloat16 or int8 (or bit patterns with format=), "
                    f"got dtype {dtype}")


BITMASK = "sparse-24-bitmask"


def _meta_dtype(element_type, layout):
    return np.int32 if _core.meta_element_bytes(element_type, layout) == 4 else np.int16


def compress(w: ArrayLike, layout: str = "cutlass", format: Optional[str] = None,
             prune: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Compresses a dense 2:4 matrix into ``(values, meta)``.

    `w`: M x K array (see the module help for dtypes; other memory orders are copied to C order).
    `layout`: ``"cutlass"``, ``"rowmajor"`` or ``"sparse-24-bitmask"``. `prune`: keep the 2 largest magnitudes of each group
    first instead of raising on a group with more than 2 non-zeros.
    Raises ValueError naming the first group that is not 2:4, or a shape the layout cannot hold.

    >>> import numpy as np, twofour
    >>> values, meta = twofour.sparse.compress(np.array([[0, 1, 0, 2]], np.float32), layout="rowmajor")
    >>> values, hex(meta[0, 0])
    (array([[1., 2.]], dtype=float32), '0xd')
    """
    a = _arrays.check_rank(_arrays.as_numpy(w, "w"), "w", 2)
    element_type = _element_type(a.dtype, format)
    rows, cols = a.shape
    if layout == BITMASK:
        values, bitmask = _core.compress_bitmask(_arrays.raw_bytes(a), element_type, rows, cols, bool(prune))
        return values.view(a.dtype).reshape(rows, cols // 2), bitmask.reshape(rows, -1)
    values, meta = _core.compress(_arrays.raw_bytes(a), element_type, rows, cols, layout, bool(prune))
    meta_dtype = _meta_dtype(element_type, layout)
    return (values.view(a.dtype).reshape(rows, cols // 2),
            meta.view(meta_dtype).reshape(rows, _core.meta_cols(element_type, layout, cols)))


def decompress(values: ArrayLike, meta: ArrayLike, layout: str = "cutlass", format: Optional[str] = None) -> np.ndarray:
    """The dense M x K matrix back from ``(values, meta)`` as `compress` returns them.

    Raises ValueError for sizes that do not match or metadata that is not a valid encoding.
    """
    v = _arrays.check_rank(_arrays.as_numpy(values, "values"), "values", 2)
    m = _arrays.check_rank(_arrays.as_numpy(meta, "meta"), "meta", 2)
    element_type = _element_type(v.dtype, format)
    if m.dtype.kind not in "iu":
        raise TypeError(f"meta: expected integer metadata, got dtype {m.dtype}")
    rows, cols = v.shape[0], 2 * v.shape[1]
    if layout == BITMASK:
        if m.dtype.itemsize != 1:
            raise TypeError(f"meta: the sparse-24-bitmask layout stores a uint8 bitmask, got dtype {m.dtype}")
        dense = _core.decompress_bitmask(_arrays.raw_bytes(v), _arrays.raw_bytes(m), element_type, rows, cols)
        return dense.view(v.dtype).reshape(rows, cols)
    width = _core.meta_element_bytes(element_type, layout)
    if m.dtype.itemsize != width:
        raise TypeError(f"meta: the {layout} layout of {element_type} stores {8 * width}-bit metadata, "
                        f"got dtype {m.dtype}")
    dense = _core.decompress(_arrays.raw_bytes(v), _arrays.raw_bytes(m), element_type, rows, cols, layout)
    return dense.view(v.dtype).reshape(rows, cols)


def layouts() -> list[str]:
    """The layout names: ``['rowmajor', 'cutlass', 'sparse-24-bitmask']``."""
    return _core.layouts() + [BITMASK]
