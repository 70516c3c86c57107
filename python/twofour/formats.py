"""Number formats of the simulator and PTX ``cvt`` rounding.

Formats: fp32, fp16, bf16, tf32, e4m3, e5m2 (OCP FP8), s8, u8, s4, u4, s32. Rounding modes: rn
(nearest even), rz (toward zero), rm (toward -inf), rp (toward +inf), rna (nearest, ties away),
as PTX ``cvt``; ``satfinite`` clamps overflow to the largest finite value (NaN stays NaN).
Every conversion goes through the simulator's one rounding function (sim/spec/rounding.hpp).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays
from ._core import formats as _core

_CONTAINER_DTYPES = {32: np.uint32, 16: np.uint16, 8: np.uint8, 4: np.uint8}


def names() -> list[str]:
    """The format names, e.g. ``['fp32', 'fp16', 'bf16', ...]``."""
    return _core.names()


def rounding_modes() -> list[str]:
    """The rounding modes: ``['rn', 'rz', 'rm', 'rp', 'rna']``."""
    return _core.rounding_modes()


def describe(fmt: str) -> dict:
    """The parameters of format `fmt` as a dict (bits, exponent and mantissa bits, bias...)."""
    return _core.describe(fmt)


def to_bits(x: ArrayLike, fmt: str, rounding: str = "rn", satfinite: bool = False) -> np.ndarray:
    """Converts values to bit patterns of `fmt`, as ``cvt.<rounding>[.satfinite].<fmt>``.

    `x`: a number or an array of any real dtype (float64, float32, float16, ml_dtypes bfloat16 and
    float8, integers); every value is read exactly. Returns an array of the same shape holding the
    patterns in the format's container: uint32 (fp32, tf32, s32), uint16 (fp16, bf16) or uint8
    (e4m3, e5m2, s8, u8, and s4/u4 one nibble per byte). NaN gives the format's canonical NaN.

    >>> import twofour
    >>> hex(twofour.formats.to_bits(0.1, "fp16", rounding="rz"))
    '0x2e66'
    """
    a = _arrays.as_numpy(x, "x")
    if not (_arrays.is_float(a.dtype) or a.dtype.kind in "iub"):
        raise TypeError(f"x: expected real numbers, got dtype {a.dtype}")
    values = np.asarray(a, dtype=np.float64, order="C")
    bits = _core.encode(values, fmt, rounding, bool(satfinite))
    out = bits.astype(_CONTAINER_DTYPES[_core.describe(fmt)["container_bits"]])
    return out[()] if out.ndim == 0 else out


def from_bits(bits: ArrayLike, fmt: str) -> np.ndarray:
    """Decodes bit patterns of `fmt` to their exact values (float64; every format fits).

    `bits`: a non-negative integer or an integer array (uint8/uint16/uint32, or signed holding
    non-negative patterns). Infinities and NaNs decode to float64 infinities and NaN.

    >>> import twofour
    >>> float(twofour.formats.from_bits(0x3c00, "fp16"))
    1.0
    """
    a = _arrays.as_numpy(bits, "bits")
    if a.dtype.kind not in "iu":
        raise TypeError(f"bits: expected integer bit patterns, got dtype {a.dtype} "
                        "(use .view() on a float array to get its bits)")
    if a.size and a.dtype.kind == "i" and a.min() < 0:
        raise ValueError("bits: bit patterns must be non-negative")
    if a.size and a.max() > 0xFFFFFFFF:
        raise ValueError("bits: bit patterns must fit 32 bits")
    out = _core.decode(np.asarray(a, dtype=np.uint32, order="C"), fmt)
    return out[()] if out.ndim == 0 else out
