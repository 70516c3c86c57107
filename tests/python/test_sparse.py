"""twofour.sparse.compress / decompress against `twofour compress` on the same .npy input, byte
for byte, for every element type and both layouts; errors carry the tool's message."""
import ml_dtypes
import numpy as np
import pytest

from twofour import prune, sparse
from conftest import tool_error


def dense_24(rng, rows, cols, dtype, keep=2, group=4):
    w = rng.standard_normal((rows, cols)).astype(np.float32)
    mask = prune.mask(w, pattern=f"{keep}:{group}")
    w = np.where(mask, w, 0)
    if dtype == np.int8:
        return np.clip(np.round(w * 40), -127, 127).astype(np.int8)
    return w.astype(dtype)


CASES = [(np.float32, None, "rowmajor", 2, 4), (np.float32, None, "cutlass", 1, 2), (np.float16, None, "rowmajor", 2, 4),
         (np.float16, None, "cutlass", 2, 4), (ml_dtypes.bfloat16, None, "cutlass", 2, 4),
         (np.int8, None, "cutlass", 2, 4), (np.int8, None, "rowmajor", 2, 4), (np.float32, "tf32", "cutlass", 1, 2)]


@pytest.mark.parametrize("dtype,fmt,layout,keep,group", CASES)
def test_compress_equals_tool(tool, tmp_path, rng, dtype, fmt, layout, keep, group):
    w = dense_24(rng, 64, 128, dtype, keep, group)
    values, meta = sparse.compress(w, layout=layout, format=fmt)
    on_disk = w.view(np.uint16) if dtype == ml_dtypes.bfloat16 else w  # the tool reads bf16 as uint16 + --dtype
    np.save(tmp_path / "w.npy", on_disk)
    extra = ["--dtype", "bf16"] if dtype == ml_dtypes.bfloat16 else (["--dtype", fmt] if fmt else [])
    tool("compress", "--layout", layout, *extra, tmp_path / "w.npy", tmp_path / "v.npy", tmp_path / "m.npy")
    tv, tm = np.load(tmp_path / "v.npy"), np.load(tmp_path / "m.npy")
    assert values.dtype == w.dtype and meta.dtype == tm.dtype
    assert values.tobytes() == tv.tobytes() and values.shape == tv.shape
    assert meta.tobytes() == tm.tobytes() and meta.shape == tm.shape
    back = sparse.decompress(values, meta, layout=layout, format=fmt)
    assert back.dtype == w.dtype and back.tobytes() == w.tobytes()


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32, np.int8])
def test_sparse_24_bitmask_equals_tool_and_numpy_packbits(tool, tmp_path, rng, dtype):
    w = dense_24(rng, 24, 40, dtype)
    w[0, :4] = 0  # a group of zeros and one with a single non-zero: positions of PyTorch's encodings
    w[1, 4:8] = np.array([0, 0, 3, 0]).astype(dtype)
    values, bitmask = sparse.compress(w, layout="sparse-24-bitmask")
    assert bitmask.dtype == np.uint8 and bitmask.shape == (24, 5) and values.shape == (24, 20)
    # independent oracle on rows whose groups all hold exactly two non-zeros: NumPy's packbits
    full = (np.count_nonzero(w.reshape(24, 10, 4), axis=2) == 2).all(axis=1)
    nz = w != 0
    assert np.array_equal(bitmask[full], np.packbits(nz[full], axis=-1, bitorder="little"))
    assert np.array_equal(values[full], w[full][nz[full]].reshape(-1, 20))
    assert np.array_equal(np.unpackbits(bitmask[0], bitorder="little")[:4], [0, 0, 1, 1])  # 0b1110
    assert np.array_equal(np.unpackbits(bitmask[1], bitorder="little")[4:8], [0, 0, 1, 1])  # 0b1110: idx 2, 3
    np.save(tmp_path / "w.npy", w.view(np.uint16) if dtype == ml_dtypes.bfloat16 else w)
    extra = ["--dtype", "bf16"] if dtype == ml_dtypes.bfloat16 else []
    tool("compress", "--layout", "sparse-24-bitmask", *extra, tmp_path / "w.npy", tmp_path / "v.npy", tmp_path / "m.npy")
    assert values.tobytes() == np.load(tmp_path / "v.npy").tobytes()
    assert bitmask.tobytes() == np.load(tmp_path / "m.npy").tobytes()
    back = sparse.decompress(values, bitmask, layout="sparse-24-bitmask")
    assert back.tobytes() == w.tobytes()
    bad = bitmask.copy()
    bad[2, 0] |= 0b1111
    with pytest.raises(ValueError, match="row 2, group 0 .columns 0..3. has 4 bits set, not 2"):
        sparse.decompress(values, bad, layout="sparse-24-bitmask")


def test_bf16_bit_patterns_with_format(rng):
    w = dense_24(rng, 32, 64, ml_dtypes.bfloat16)
    v1, m1 = sparse.compress(w)
    v2, m2 = sparse.compress(w.view(np.uint16), format="bf16")
    assert v2.dtype == np.uint16 and v1.tobytes() == v2.tobytes() and m1.tobytes() == m2.tobytes()


def test_prune_first_equals_tool(tool, tmp_path, rng):
    w = rng.standard_normal((32, 64)).astype(np.float16)
    values, meta = sparse.compress(w, layout="cutlass", prune=True)
    np.save(tmp_path / "w.npy", w)
    tool("compress", "--layout", "cutlass", "--prune", tmp_path / "w.npy", tmp_path / "v.npy", tmp_path / "m.npy")
    assert values.tobytes() == np.load(tmp_path / "v.npy").tobytes()
    assert meta.tobytes() == np.load(tmp_path / "m.npy").tobytes()


def test_not_24_error_is_the_tools_message(tool, tmp_path):
    w = np.ones((32, 64), np.float16)
    np.save(tmp_path / "w.npy", w)
    r = tool("compress", "--layout", "rowmajor", tmp_path / "w.npy", tmp_path / "v.npy", tmp_path / "m.npy", expect=1)
    with pytest.raises(ValueError) as e:
        sparse.compress(w, layout="rowmajor")
    assert tool_error(r) == f"{tmp_path / 'w.npy'}: {e.value}"
    assert "row 0, columns 0..3 has 4 non-zeros" in str(e.value)


class DLPackOnly:
    """An array-like that offers only the DLPack protocol (as GPU-less frameworks may)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def test_dlpack_and_array_protocol_inputs(rng):
    w = dense_24(rng, 32, 64, np.float16)
    expected = [a.tobytes() for a in sparse.compress(w)]
    assert [a.tobytes() for a in sparse.compress(DLPackOnly(w))] == expected
    assert [a.tobytes() for a in sparse.compress(memoryview(w))] == expected
    assert np.array_equal(prune.mask(DLPackOnly(w.astype(np.float32))), prune.mask(w))


def test_memory_order_is_converted(rng):
    w = dense_24(rng, 32, 64, np.float16)
    f = np.asfortranarray(w)
    assert [a.tobytes() for a in sparse.compress(f)] == [a.tobytes() for a in sparse.compress(w)]


def test_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        sparse.compress(np.zeros((4, 4, 4), np.float16))
    with pytest.raises(TypeError, match="float64"):
        sparse.compress(np.zeros((32, 64)))
    with pytest.raises(TypeError, match="format='bf16'"):
        sparse.compress(np.zeros((32, 64), np.uint16))
    with pytest.raises(ValueError, match="unknown layout 'csr'"):
        sparse.compress(np.zeros((32, 64), np.float16), layout="csr")
    with pytest.raises(ValueError):
        sparse.compress(np.zeros((30, 64), np.float16), layout="cutlass")  # M % 32
    v, m = sparse.compress(np.zeros((32, 64), np.float16))
    with pytest.raises(TypeError, match="16-bit metadata"):
        sparse.decompress(v, m.astype(np.int32))
    bad = m.copy()
    bad[:] = 0  # nibble 0000: equal indices
    with pytest.raises(ValueError, match="equal indices"):
        sparse.decompress(v, bad)
