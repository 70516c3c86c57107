"""twofour.formats against the tool (`twofour formats`) and against independent conversions:
NumPy's float16 and ml_dtypes' bfloat16 / float8 casts (round to nearest even), exhaustively."""
import re

import ml_dtypes
import numpy as np
import pytest

import twofour
from twofour import formats


def test_names_and_modes():
    assert formats.names() == ["fp32", "fp16", "bf16", "tf32", "e4m3", "e5m2", "s8", "u8", "s4", "u4", "s32"]
    assert formats.rounding_modes() == ["rn", "rz", "rm", "rp", "rna"]


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "tf32", "e4m3", "e5m2", "s8", "u4"])
def test_to_bits_equals_tool_every_mode(tool, fmt):
    values = ["0.1", "-2.5", "1e-7", "65520", "300.75", "-0.0", "3.999"]
    for mode in formats.rounding_modes():
        for satfinite in (False, True):
            args = ["formats", "--format", fmt, "--value", None, "--mode", mode] + (["--satfinite"] if satfinite else [])
            for v in values:
                args[4] = v
                out = tool(*args).stdout
                expected = int(re.search(r": (0x[0-9a-f]+)", out).group(1), 16)
                got = formats.to_bits(float(v), fmt, rounding=mode, satfinite=satfinite)
                assert int(got) == expected, (fmt, mode, satfinite, v)


def test_to_bits_matches_cpu_and_ml_dtypes_round_to_nearest(rng):
    x = np.concatenate([rng.standard_normal(20000) * 10.0 ** rng.integers(-9, 6, 20000),
                        [0.0, -0.0, np.inf, -np.inf, 65504.0, 65520.0, 1e-8]])
    x32 = x.astype(np.float32)  # double rounding avoided: compare the float32 inputs
    with np.errstate(over="ignore"):  # the CPU's overflow to inf is part of what is compared
        assert np.array_equal(formats.to_bits(x32, "fp16"), x32.astype(np.float16).view(np.uint16))
    assert np.array_equal(formats.to_bits(x32, "bf16"), x32.astype(ml_dtypes.bfloat16).view(np.uint16))
    finite = x32[np.abs(x32) < 240]
    assert np.array_equal(formats.to_bits(finite, "e4m3"), finite.astype(ml_dtypes.float8_e4m3fn).view(np.uint8))
    assert np.array_equal(formats.to_bits(x32, "e5m2"), x32.astype(ml_dtypes.float8_e5m2).view(np.uint8))


@pytest.mark.parametrize("fmt,dtype,bits", [("fp16", np.float16, 16), ("bf16", ml_dtypes.bfloat16, 16),
                                            ("e4m3", ml_dtypes.float8_e4m3fn, 8), ("e5m2", ml_dtypes.float8_e5m2, 8)])
def test_from_bits_exhaustive(fmt, dtype, bits):
    patterns = np.arange(1 << bits, dtype=np.uint16 if bits == 16 else np.uint8)
    got = formats.from_bits(patterns, fmt)
    with np.errstate(invalid="ignore"):
        expected = patterns.view(dtype).astype(np.float64)
    assert got.dtype == np.float64
    assert np.array_equal(got, expected, equal_nan=True)
    # and back: every non-NaN value converts to its own pattern
    ok = ~np.isnan(expected)
    assert np.array_equal(formats.to_bits(got[ok], fmt), patterns[ok])


def test_inputs_in_every_float_dtype_are_read_exactly():
    v = np.array([1.5, -0.375, 448.0], dtype=ml_dtypes.float8_e4m3fn)
    assert np.array_equal(formats.to_bits(v, "e4m3"), v.view(np.uint8))
    b = np.array([3.140625], dtype=ml_dtypes.bfloat16)
    assert int(formats.to_bits(b, "bf16")[0]) == int(b.view(np.uint16)[0])
    assert formats.to_bits(np.float16(1.0), "fp32") == 0x3F800000


def test_scalar_in_scalar_out_and_shapes():
    assert isinstance(formats.to_bits(1.0, "fp16"), np.uint16)
    assert formats.to_bits(np.zeros((2, 3)), "fp32").shape == (2, 3)
    assert formats.from_bits(0x7C00, "fp16") == np.inf


def test_errors():
    with pytest.raises(ValueError, match="unknown format 'fp64'"):
        formats.to_bits(1.0, "fp64")
    with pytest.raises(ValueError, match="unknown rounding mode 'rq'"):
        formats.to_bits(1.0, "fp16", rounding="rq")
    with pytest.raises(ValueError, match="not a fp16 bit pattern"):
        formats.from_bits(0x10000, "fp16")
    with pytest.raises(TypeError, match="integer bit patterns"):
        formats.from_bits(np.ones(3), "fp16")
    with pytest.raises(TypeError, match="expected an array"):
        formats.to_bits(object(), "fp16")
    assert twofour.formats.describe("e4m3")["has_infinity"] is False
