"""twofour.gemm.round_to_half (fp32 -> bf16 / fp16, round to nearest even) against the field's
references: ml_dtypes for bf16 (NaN included) and NumPy's float16 cast for fp16 (NaN aside, where
the two document different payloads), on every instruction set this CPU runs, over every
sign/exponent/top-mantissa pattern with low halves at each rounding case."""
import ml_dtypes
import numpy as np
import pytest

from twofour import gemm

LOW = np.array([0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x3001, 0x7FFF, 0x8000,
                0x8001, 0xBFFF, 0xE000, 0xF000, 0xFFFF], dtype=np.uint32)


def inputs():
    hi = np.arange(0x10000, dtype=np.uint32) << 16
    return (hi[:, None] | LOW[None, :]).reshape(-1).view(np.float32)


@pytest.mark.parametrize("isa", gemm._core.isas())
def test_bf16_equals_ml_dtypes(isa):
    x = inputs()
    got = gemm.round_to_half(x, "bf16", isa=isa)
    assert got.dtype == np.dtype(ml_dtypes.bfloat16)
    want = x.astype(ml_dtypes.bfloat16)
    mismatch = np.flatnonzero(got.view(np.uint16) != want.view(np.uint16))
    assert mismatch.size == 0, f"first mismatch: {x.view(np.uint32)[mismatch[0]]:#010x}"


@pytest.mark.parametrize("isa", gemm._core.isas())
def test_fp16_equals_numpy(isa):
    x = inputs()
    got = gemm.round_to_half(x, "fp16", isa=isa).view(np.uint16)
    with np.errstate(over="ignore", invalid="ignore"):
        want = x.astype(np.float16).view(np.uint16)
    nan = np.isnan(x)
    mismatch = np.flatnonzero((got != want) & ~nan)
    assert mismatch.size == 0, f"first mismatch: {x.view(np.uint32)[mismatch[0]]:#010x}"
    # NaN: quiet, sign kept, top 10 payload bits kept (x86 F16C's rule).
    bits = x.view(np.uint32)[nan]
    expected = ((bits >> 16) & 0x8000) | 0x7E00 | ((bits >> 13) & 0x3FF)
    assert np.array_equal(got[nan], expected.astype(np.uint16))


def test_shape_and_errors():
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 3
    assert gemm.round_to_half(x).shape == (3, 4)
    with pytest.raises(TypeError):
        gemm.round_to_half(x.astype(np.float64))
    with pytest.raises(ValueError):
        gemm.round_to_half(x, "fp8")
