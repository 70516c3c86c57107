"""Argument conversion shared by the modules: anything array-like to the C-contiguous NumPy array
of the dtype a binding takes. Conversions are NumPy's or ml_dtypes' own; no arithmetic here."""
import ml_dtypes
import numpy as np

BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
FLOAT8_E4M3 = np.dtype(ml_dtypes.float8_e4m3fn)
FLOAT8_E5M2 = np.dtype(ml_dtypes.float8_e5m2)
_ML_FLOATS = (BFLOAT16, FLOAT8_E4M3, FLOAT8_E5M2)

# The NumPy dtype that holds each simulator format's values (tf32 lives in a float32 container).
FORMAT_DTYPES = {
    "fp32": np.dtype(np.float32), "tf32": np.dtype(np.float32), "fp16": np.dtype(np.float16),
    "bf16": BFLOAT16, "e4m3": FLOAT8_E4M3, "e5m2": FLOAT8_E5M2,
    "s8": np.dtype(np.int8), "u8": np.dtype(np.uint8), "s32": np.dtype(np.int32),
}


def as_numpy(x, name):
    """A NumPy view of `x` (no copy when `x` already is one): NumPy arrays, objects with
    ``__array__`` (e.g. a CPU ``torch.Tensor``), objects with ``__dlpack__``, memoryviews, scalars
    and lists."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "__array__"):
        return np.asarray(x)
    if hasattr(x, "__dlpack__"):
        return np.from_dlpack(x)
    if isinstance(x, (int, float, bool, list, tuple, np.generic, memoryview, bytearray)):
        return np.asarray(x)
    raise TypeError(f"{name}: expected an array (NumPy, or an object with __array__ or __dlpack__), "
                    f"got {type(x).__name__}")


def is_float(dtype):
    return dtype.kind == "f" or dtype in _ML_FLOATS


def float32_c(x, name, ndim=None):
    """`x` as C-contiguous float32 values: float32 C-order input is used as is (no copy); other
    float dtypes (float16, bfloat16, float8, float64) and integers are converted by NumPy, and
    other memory orders are copied to C order."""
    a = as_numpy(x, name)
    if not (is_float(a.dtype) or a.dtype.kind in "iu"):
        raise TypeError(f"{name}: expected real numbers, got dtype {a.dtype}")
    if ndim is not None and a.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def check_rank(a, name, ndim):
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    return a


def raw_bytes(a):
    """The bytes of a C-contiguous array as a flat uint8 view (no copy)."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)
