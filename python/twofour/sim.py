"""The bit-accurate simulator of warp-level ``mma`` and ``mma.sp`` (sparse A) instructions.

Instructions are named by their table row (``instructions()``), e.g.
``"SM80_SP_16x8x32_F32F16F16F32_TN"`` = ``mma.sp.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32``,
or by the PTX mnemonic. Architectures: "sm80", "sm89", "sm90".

Operands (tile and GEMM level): A (compressed, M x K/2, for sparse rows; M x K for dense rows),
B (K x N), C (M x N, the D format; zeros when omitted) and E, the metadata as one nibble per
chunk of 4 (tf32: 2; 4-bit: 8) along K, M x chunks, uint8. An operand given in its format's own
dtype (float16 for fp16, ml_dtypes.bfloat16 for bf16, float32 for fp32/tf32, ml_dtypes float8
types for e4m3/e5m2, int8/uint8/int32 for s8/u8/s32) is taken bit for bit; other float dtypes are
rounded to the format (round to nearest even); unsigned integer arrays for float formats are raw
bit patterns. D comes back as float32 (fp32), float16 (fp16) or int32 (s32).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays, formats
from ._core import sim as _core

def instructions() -> list[dict]:
    """Every instruction row as a dict: name, ptx, m, n, k, operand formats a/b/c/d, sparse,
    sparsity, ordered_metadata, satfinite, min_arch, stored_k, chunks_per_row, selectors and the
    registers per lane of each operand."""
    return _core.instructions()


def _row(instr):
    return _core.instruction(instr)


def layout(instr: str, selector: int = 0) -> dict:
    """Which lane and register holds each element: a dict with, for "a", "b" and "c" (= D), int32
    arrays of the operand's tile shape: ``lane``, ``register`` and ``element`` (index inside the
    32-bit register); for sparse rows "e": ``lane`` and ``nibble`` of the metadata register
    carrying each (row, chunk) under `selector`."""
    return _core.layout(instr, int(selector))


def operand_bits(x: ArrayLike, fmt: str, name: str) -> np.ndarray:
    """An operand as uint32 bit patterns of `fmt` (see the module help for the rules)."""
    a = _arrays.as_numpy(x, name)
    info = formats.describe(fmt)
    mask = 0xFFFFFFFF if info["container_bits"] == 32 else (1 << info["container_bits"]) - 1
    native = _arrays.FORMAT_DTYPES.get(fmt)
    if native is not None and a.dtype == native:
        raw = a.view(np.dtype(f"u{a.dtype.itemsize}"))
        return np.ascontiguousarray(raw, dtype=np.uint32) & np.uint32(mask)
    if _arrays.is_float(a.dtype):
        if info["is_integer"]:
            raise TypeError(f"{name}: {fmt} operands take integers, got dtype {a.dtype}")
        return np.ascontiguousarray(formats.to_bits(a, fmt), dtype=np.uint32)
    if a.dtype.kind in "iu":
        if info["is_integer"]:
            lo, hi = (-(1 << (info["bits"] - 1)), (1 << (info["bits"] - 1)) - 1) if info["is_signed"] else (0, mask)
            if a.size and (a.min() < lo or a.max() > hi):
                raise ValueError(f"{name}: values outside the {fmt} range [{lo}, {hi}]")
            return np.ascontiguousarray(a.astype(np.int64) & mask, dtype=np.uint32)
        if a.dtype.kind == "i":
            raise TypeError(f"{name}: give {fmt} values as floats or raw bit patterns as unsigned integers, "
                            f"got dtype {a.dtype}")
        if a.size and a.max() > mask:
            raise ValueError(f"{name}: bit patterns wider than {fmt}'s {info['container_bits']} bits")
        return np.ascontiguousarray(a, dtype=np.uint32)
    raise TypeError(f"{name}: expected numbers, got dtype {a.dtype}")


def _nibbles(e):
    a = _arrays.as_numpy(e, "e")
    if a.dtype.kind not in "iu":
        raise TypeError(f"e: metadata nibbles must be integers, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() > 15):
        raise ValueError("e: metadata values are nibbles (0..15)")
    return np.ascontiguousarray(a, dtype=np.uint8)


def _to_d(row, d):
    return _from_bits(row["d"], d)


def _from_bits(fmt, bits):
    """uint32 bit patterns -> the format's own dtype (the inverse of operand_bits)."""
    dtype = np.dtype(_arrays.FORMAT_DTYPES.get(fmt, np.int8))
    if fmt in ("s4", "u4"):  # 4-bit values, sign-extended for s4
        v = bits.astype(np.int8)
        return np.where(v > 7, v - 16, v).astype(np.int8) if fmt == "s4" else v
    return bits.astype(np.dtype(f"u{dtype.itemsize}")).view(dtype)


def _matrix(x, fmt, name):
    return _arrays.check_rank(operand_bits(x, fmt, name), name, 2)


def mma(instr: str, a: ArrayLike, b: ArrayLike, c: Optional[ArrayLike] = None, e: Optional[ArrayLike] = None,
        arch: str = "sm80", selector: int = 0, grouping: str = "stored", return_notes: bool = False):
    """Runs one instruction at tile level and returns D (M x N), bit-exact.

    `e`: the metadata nibbles (sparse rows only, M x chunks). `selector`: the sparsity selector
    (checked against the row's range; at tile level it only names which lanes would hold E).
    `grouping`: how sparse products form datapath blocks, "stored" (default) or "logical".
    With ``return_notes=True`` returns ``(d, notes)``, the notes naming metadata whose behaviour
    is unconfirmed on hardware. Raises ValueError for undefined metadata (naming row and chunk),
    wrong shapes, or an instruction the architecture does not run.
    """
    row = _row(instr)
    r = _core.tile(row["name"], arch, _matrix(a, row["a"], "a"), _matrix(b, row["b"], "b"),
                   None if c is None else _matrix(c, row["c"], "c"),
                   None if e is None else _arrays.check_rank(_nibbles(e), "e", 2), int(selector), grouping)
    d = _to_d(row, r["d"])
    return (d, r["notes"]) if return_notes else d


def run_warp(instr: str, a: ArrayLike, b: ArrayLike, c: Optional[ArrayLike] = None, e: Optional[ArrayLike] = None,
             arch: str = "sm80", selector: int = 0, grouping: str = "stored") -> np.ndarray:
    """Runs one instruction at register level: `a`, `b`, `c` are (32, registers) uint32 arrays
    (lane-major, as ``twofour mma`` reads them from text), `e` 32 uint32 metadata words (one per
    lane). Returns D as a (32, registers) uint32 array."""
    row = _row(instr)

    def regs(x, name):
        arr = _arrays.check_rank(_arrays.as_numpy(x, name), name, 2)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name}: registers are 32-bit words, got dtype {arr.dtype}")
        return np.ascontiguousarray(arr, dtype=np.uint32)

    ev = None
    if e is not None:
        ev = _arrays.check_rank(_arrays.as_numpy(e, "e"), "e", 1)
        ev = np.ascontiguousarray(ev, dtype=np.uint32)
    r = _core.run_warp(row["name"], arch, regs(a, "a"), regs(b, "b"), None if c is None else regs(c, "c"), ev,
                       int(selector), grouping)
    return r["d"]


def compress(instr: str, dense: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """A dense M x K matrix (2:4 along K; values in any dtype `mma` accepts for the row's A format)
    -> ``(a, e)``, the compressed A (M x K/2, storage order, the lower column first, in the A
    format's own dtype: float16, ml_dtypes.bfloat16, int8, float8...) and the M x K/4
    metadata nibbles (uint8), as a kernel's host code prepares them for 2:4 rows (fp16, bf16,
    8-bit, fp8). Raises ValueError naming the row and chunk of a group with more than 2 non-zeros.
    """
    row = _row(instr)
    bits, e = _core.compress(row["name"], _matrix(dense, row["a"], "dense"))
    return _from_bits(row["a"], bits), e


def gemm(instr: str, a: ArrayLike, b: ArrayLike, c: Optional[ArrayLike] = None, e: Optional[ArrayLike] = None,
         arch: str = "sm80", threads: int = 0, path: str = "auto", grouping: str = "stored",
         order: str = "chained", out_type: Optional[str] = None, return_order: bool = False, isa: str = "auto"):
    """An M x N x K GEMM built on `instr` tiles, D = alpha*A*B + beta*C, computed in the stated
    accumulation `order`, as a kernel built on that instruction computes it. `a` is compressed
    (M x K/2) for sparse rows with `e` the M x K/4 metadata nibbles; `c` is in the row's D format.

    `order` is the string ``twofour gemm --order`` takes (docs/kernel-check.md): a preset
    ("chained", "twofour", "cutlass") with ``key=value`` overrides, e.g.
    ``"cutlass,tile_k=32,split_k=2,reduction=fp32"``, or the overrides alone. The default, "chained"
    (k-steps in ascending order, C the first step's C, D of one step the C of the next), is the
    GEMM level itself. `out_type`: D's element type in memory, "fp32", "fp16" or "int32" (default
    the row's D type). `threads`: OpenMP threads (0 = default); `path`: "auto", "generic" or
    "fast" (bit-identical); `isa`: the fast path's instruction set, "auto", "scalar", "avx2" or
    "avx512" (`isas()` lists this CPU's; bit-identical too). Returns D (M x N) in the output type's dtype, or with
    ``return_order=True`` ``(d, described_order)``, the order in its explicit form. Raises
    ValueError for a bad order (naming the token), bad shapes or metadata."""
    row = _row(instr)
    r = _core.gemm(row["name"], arch, _matrix(a, row["a"], "a"), _matrix(b, row["b"], "b"),
                   None if c is None else _matrix(c, row["c"], "c"),
                   None if e is None else _arrays.check_rank(_nibbles(e), "e", 2), grouping, path, int(threads),
                   order, out_type, isa)
    d = _from_bits(r["output"], r["d"])
    return (d, r["order"]) if return_order else d


def isas() -> list[str]:
    """The instruction sets `gemm`'s fast path runs on this CPU ("scalar", "avx2", "avx512"),
    scalar first; the environment variable TWOFOUR_SIM_ISA sets what "auto" means."""
    return list(_core.sim_isas())


def describe_order(instr: str, order: str) -> str:
    """The explicit form of an accumulation order for `instr`, e.g. ``describe_order(instr,
    "cutlass,split_k=2")`` -> ``"cutlass: tile_k=64,split_k=2,reduction=serial,c=epilogue,alpha=1,beta=1"``.
    Raises ValueError naming the token at fault or the field the row cannot run."""
    return _core.describe_order(_row(instr)["name"], order)


@dataclass(frozen=True)
class GemmCheck:
    """The result of `check_gemm`.

    `elements`: D's element count; `differing`: elements whose bits differ; `max_ulps`: the largest
    distance in ulps over differing pairs without NaN; `nan_mismatches`: differing pairs with a NaN
    on either side; `equal`: no element differs. `mismatches`: the first differing elements in
    row-major order, each a dict with ``row``, ``col``, ``simulated`` and ``actual`` (bit patterns
    of the output type, as ints), ``ulps`` (None when either is NaN) and ``explanation`` (the
    simulator's account of the element, one line per fact; empty past the first `explain`).
    `order`: the checked order in its explicit form; `output`: D's format. With ``search=True``,
    `orders_tried` and `matching_orders` (explicit forms of the orders reproducing the kernel's D
    bit for bit); otherwise None."""
    elements: int
    differing: int
    max_ulps: int
    nan_mismatches: int
    mismatches: list
    equal: bool
    order: str
    output: str
    unconfirmed: bool
    orders_tried: Optional[int] = None
    matching_orders: Optional[list] = None


def check_gemm(instr: str, a: ArrayLike, b: ArrayLike, d_actual: ArrayLike, c: Optional[ArrayLike] = None,
               e: Optional[ArrayLike] = None, arch: str = "sm80", order: str = "chained",
               out_type: Optional[str] = None, explain: int = 5, keep: int = 100, steps: int = 4,
               search: bool = False, threads: int = 0, path: str = "auto", grouping: str = "stored",
               isa: str = "auto") -> GemmCheck:
    """Checks a kernel's D against the simulator, as ``twofour gemm --check``: the GEMM of `gemm`
    (same operands and `order`) compared bit for bit with `d_actual`, the kernel's M x N output in
    the output type's own dtype (float32 for fp32, float16 for fp16, int32 for int32; no
    rounding is applied to a kernel's bits). Lists up to ``max(keep, explain)`` differing
    elements and explains the first `explain` (at most `steps` inexact k-steps per slice). With
    ``search=True`` also tries the preset orders and the CUTLASS-style family (split-K, K tiles,
    C entry, the sibling instruction K; docs/kernel-check.md) and names those that reproduce
    `d_actual` exactly, under the given `grouping`. Returns a `GemmCheck`."""
    row = _row(instr)
    a_bits, b_bits = _matrix(a, row["a"], "a"), _matrix(b, row["b"], "b")
    c_bits = None if c is None else _matrix(c, row["c"], "c")
    e_bits = None if e is None else _arrays.check_rank(_nibbles(e), "e", 2)
    out_fmt = {None: row["d"], "fp32": "fp32", "fp16": "fp16", "int32": "s32"}.get(out_type)
    if out_fmt is None:
        raise ValueError(f"out_type must be fp32, fp16 or int32, not '{out_type}'")
    d = _arrays.check_rank(_arrays.as_numpy(d_actual, "d_actual"), "d_actual", 2)
    want = _arrays.FORMAT_DTYPES[out_fmt]
    if d.dtype != want:
        raise TypeError(f"d_actual: the output type {out_fmt} needs dtype {want}, got {d.dtype} (see out_type)")
    d_bits = np.ascontiguousarray(d.view(np.dtype(f"u{want.itemsize}")), dtype=np.uint32)
    r = _core.check_gemm(row["name"], arch, a_bits, b_bits, c_bits, e_bits, d_bits, grouping, path, int(threads), order,
                         out_type, int(keep), int(explain), int(steps), bool(search), isa)
    return GemmCheck(elements=r["elements"], differing=r["differing"], max_ulps=r["max_ulps"],
                     nan_mismatches=r["nan_mismatches"], mismatches=list(r["mismatches"]), equal=r["differing"] == 0,
                     order=r["order"], output=r["output"], unconfirmed=r["unconfirmed"],
                     orders_tried=r.get("orders_tried"), matching_orders=r.get("matching_orders"))
