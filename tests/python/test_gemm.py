"""twofour.gemm.spmm: exact against integer-valued products (every partial sum is exact in
float32, so any summation order gives the same bits), close to float64 NumPy otherwise."""
import ml_dtypes
import numpy as np
import pytest

from twofour import gemm, prune, sparse


def sparse_a(rng, m, k, dtype=np.float32, integers=False):
    w = rng.integers(-8, 9, (m, k)).astype(np.float32) if integers else rng.standard_normal((m, k)).astype(np.float32)
    return np.where(prune.mask(w), w, 0).astype(dtype)


@pytest.mark.parametrize("n", [1, 8, 16, 17, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, ml_dtypes.bfloat16])
def test_spmm_exact_on_integers(rng, n, dtype):
    a = sparse_a(rng, 32, 64, dtype, integers=True)
    values, meta = sparse.compress(a, layout="rowmajor")
    b = rng.integers(-8, 9, (64, n)).astype(np.float32)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert np.array_equal(gemm.spmm(values, meta, b), expected.astype(np.float32))
    if dtype != np.float32:  # both operands 16-bit
        assert np.array_equal(gemm.spmm(values, meta, b.astype(dtype)), expected.astype(np.float32))


def test_spmm_close_to_float64_and_threads_agree(rng):
    a = sparse_a(rng, 64, 128)
    values, meta = sparse.compress(a, layout="rowmajor")
    b = rng.standard_normal((128, 48)).astype(np.float32)
    c = gemm.spmm(values, meta, b, threads=1)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    bound = (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)) * 128 * np.finfo(np.float32).eps
    assert c.dtype == np.float32 and np.all(np.abs(c - ref) <= bound)
    assert gemm.spmm(values, meta, b, threads=2).tobytes() == c.tobytes()
    for isa in gemm._core.isas():  # every instruction set this CPU runs gives the same GEMM bits (N > 16)
        assert gemm.spmm(values, meta, b, isa=isa).tobytes() == c.tobytes()


def test_spmm_errors(rng):
    a = sparse_a(rng, 8, 16)
    values, meta = sparse.compress(a, layout="rowmajor")
    b = np.ones((16, 4), np.float32)
    with pytest.raises(ValueError, match="values must be M x K/2"):
        gemm.spmm(values, meta, np.ones((20, 4), np.float32))
    with pytest.raises(ValueError, match="meta must be"):
        gemm.spmm(values, meta[:, :0], b)
    with pytest.raises(TypeError, match="16-bit words"):
        gemm.spmm(values, meta.astype(np.int32), b)
    with pytest.raises(TypeError, match="float64"):
        gemm.spmm(values.astype(np.float64), meta, b)
    with pytest.raises(ValueError, match="threads"):
        gemm.spmm(values, meta, b, threads=-1)
    bad = meta.copy()
    bad[0, 0] = 0  # equal indices
    with pytest.raises(ValueError, match="row 0"):
        gemm.spmm(values, bad, b)
