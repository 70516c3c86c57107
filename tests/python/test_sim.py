"""twofour.sim against `twofour mma` on the same operands (D bit for bit), the register level
against the tile level through the layouts, and the GEMM level against chained tiles."""
import ml_dtypes
import numpy as np
import pytest

from twofour import sim
from conftest import tool_error

ROWS = {row["name"]: row for row in sim.instructions()}
ASCENDING = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
NATIVE = {"fp16": np.float16, "bf16": ml_dtypes.bfloat16, "fp32": np.float32, "tf32": np.float32,
          "e4m3": ml_dtypes.float8_e4m3fn, "e5m2": ml_dtypes.float8_e5m2, "s8": np.int8, "u8": np.uint8,
          "s32": np.int32}
INT_RANGE = {"s8": (-128, 127), "u8": (0, 255), "s4": (-8, 7), "u4": (0, 15), "s32": (-1000, 1000)}


def values(rng, fmt, shape):
    """Operand values in the format's own dtype (4-bit formats: int8 values in range)."""
    if fmt in INT_RANGE:
        lo, hi = INT_RANGE[fmt]
        dtype = NATIVE.get(fmt, np.int8)
        return rng.integers(lo, hi + 1, shape).astype(dtype)
    return (rng.standard_normal(shape) * 2).astype(np.float32).astype(NATIVE[fmt])


def nibbles(rng, row, count):
    if row["sparsity"] == "1:2":
        return rng.choice(np.array([0x4, 0xE], np.uint8), (row["m"], count))
    pairs = np.array([(i1 << 2) | i0 for i0, i1 in ASCENDING], np.uint8)
    return rng.choice(pairs, (row["m"], count))


def operands(rng, row, k=None, m=None, n=None):
    m, n, k = m or row["m"], n or row["n"], k or row["k"]
    a_cols = k // row["k"] * row["stored_k"]
    a = values(rng, row["a"], (m, a_cols))
    b = values(rng, row["b"], (k, n))
    c = values(rng, row["c"], (m, n))
    e = nibbles(rng, row, k // row["k"] * row["chunks_per_row"]) if row["sparse"] else None
    if e is not None and m != row["m"]:
        e = np.concatenate([nibbles(rng, row, e.shape[1]) for _ in range(m // row["m"])])
    return a, b, c, e


def on_disk(x):
    """What the tool reads: bf16 and fp8 as raw unsigned bit patterns."""
    if x.dtype in (np.dtype(ml_dtypes.bfloat16), np.dtype(ml_dtypes.float8_e4m3fn), np.dtype(ml_dtypes.float8_e5m2)):
        return x.view(np.uint16 if x.itemsize == 2 else np.uint8)
    return x


CASES = [("SM80_SP_16x8x32_F32F16F16F32_TN", "sm80"), ("SM80_SP_16x8x32_F32F16F16F32_TN", "sm90"),
         ("SM80_SP_16x8x16_F16F16F16F16_TN", "sm80"), ("SM80_SP_16x8x32_F32BF16BF16F32_TN", "sm90"),
         ("SM80_SP_16x8x16_F32TF32TF32F32_TN", "sm80"), ("SM80_SP_16x8x32_S32S8S8S32_SATFINITE_TN", "sm80"),
         ("SM80_SP_16x8x128_S32S4U4S32_TN", "sm80"), ("SM89_SP_16x8x64_F32E4M3E5M2F32_TN", "sm89"),
         ("SM89_SP_16x8x64_F32E4M3E4M3F32_TN", "sm90"), ("SM80_16x8x16_F32BF16BF16F32_TN", "sm80"),
         ("SM89_16x8x32_F16E4M3E4M3F16_TN", "sm90")]


@pytest.mark.parametrize("name,arch", CASES)
def test_mma_equals_tool(tool, tmp_path, rng, name, arch):
    row = ROWS[name]
    a, b, c, e = operands(rng, row)
    d = sim.mma(name, a, b, c=c, e=e, arch=arch)
    args = ["mma", "--instr", name, "--arch", arch, "--out", tmp_path / "d.npy"]
    for label, x in (("a", a), ("b", b), ("c", c), ("e", e)):
        if x is not None:
            np.save(tmp_path / f"{label}.npy", on_disk(x))
            args += [f"--{label}", tmp_path / f"{label}.npy"]
    tool(*args)
    expected = np.load(tmp_path / "d.npy")
    assert d.dtype == expected.dtype and d.shape == (row["m"], row["n"])
    assert d.tobytes() == expected.tobytes()


def pack(layout, bits, registers, width):
    """Tile bit patterns -> (32, registers) words through a layout from sim.layout()."""
    words = np.zeros((32, max(registers, 1)), np.uint64)
    np.add.at(words, (layout["lane"], layout["register"]), bits.astype(np.uint64) << (width * layout["element"]).astype(np.uint64))
    return words.astype(np.uint32)


@pytest.mark.parametrize("name,arch", CASES)
def test_run_warp_through_layout_equals_tile_level(rng, name, arch):
    row = ROWS[name]
    a, b, c, e = operands(rng, row)
    selector = row["selectors"] - 1 if row["sparse"] else 0
    lay = sim.layout(name, selector=selector)
    width = lambda f: {"fp32": 32, "tf32": 32, "s32": 32, "fp16": 16, "bf16": 16, "s4": 4, "u4": 4}.get(f, 8)
    regs = {op: pack(lay[op], sim.operand_bits(x, row[op], op), row[f"{op}_registers"], width(row[op]))
            for op, x in (("a", a), ("b", b), ("c", c))}
    ewords = None
    if row["sparse"]:
        ewords = np.zeros(32, np.uint64)
        np.add.at(ewords, lay["e"]["lane"], e.astype(np.uint64) << (4 * lay["e"]["nibble"]).astype(np.uint64))
        ewords = ewords.astype(np.uint32)
    dregs = sim.run_warp(name, regs["a"], regs["b"], c=regs["c"], e=ewords, arch=arch, selector=selector)
    d_tile = sim.mma(name, a, b, c=c, e=e, arch=arch)
    dbits = sim.operand_bits(d_tile, row["d"], "d")
    w = width(row["d"])
    from_regs = (dregs[lay["c"]["lane"], lay["c"]["register"]] >> (w * lay["c"]["element"]).astype(np.uint32)) & \
        np.uint32((1 << w) - 1 if w < 32 else 0xFFFFFFFF)
    assert np.array_equal(from_regs, dbits)


def test_run_warp_equals_tool_register_text(tool, tmp_path, rng):
    name = "SM80_SP_16x8x32_F32F16F16F32_TN"
    row = ROWS[name]
    regs = {op: rng.integers(0, 1 << 14, (32, row[f"{op}_registers"]), dtype=np.uint32) * 0x10001 for op in "abc"}
    regs["c"] = np.zeros_like(regs["c"])
    e = np.full(32, 0xE4E4E4E4, np.uint32)  # nibbles 0100 / 1110 ... ascending pairs only
    d = sim.run_warp(name, regs["a"], regs["b"], c=regs["c"], e=e, arch="sm80")
    for op in "abc":
        (tmp_path / f"{op}.txt").write_text("\n".join(" ".join(f"{w:08x}" for w in lane) for lane in regs[op]))
    (tmp_path / "e.txt").write_text("\n".join(f"{w:08x}" for w in e))
    tool("mma", "--instr", name, "--a", tmp_path / "a.txt", "--b", tmp_path / "b.txt", "--c", tmp_path / "c.txt",
         "--e", tmp_path / "e.txt", "--out", tmp_path / "d.txt")
    expected = [[int(w, 16) for w in line.split()] for line in (tmp_path / "d.txt").read_text().split("\n") if line]
    assert d.dtype == np.uint32 and d.tolist() == expected


@pytest.mark.parametrize("name,arch", [("SM80_SP_16x8x32_F32F16F16F32_TN", "sm80"),
                                       ("SM80_SP_16x8x32_F32BF16BF16F32_TN", "sm90"),
                                       ("SM80_16x8x16_F32BF16BF16F32_TN", "sm80")])
def test_gemm_equals_chained_tiles(rng, name, arch):
    row = ROWS[name]
    steps = 3
    a, b, c, e = operands(rng, row, k=steps * row["k"], m=2 * row["m"], n=2 * row["n"])
    d = sim.gemm(name, a, b, c=c, e=e, arch=arch, threads=1)
    sa, sc = row["stored_k"], row["chunks_per_row"]
    expected = np.empty_like(d)
    for i in range(2):
        for j in range(2):
            rs, cs = slice(i * row["m"], (i + 1) * row["m"]), slice(j * row["n"], (j + 1) * row["n"])
            acc = c[rs, cs]
            for s in range(steps):
                acc = sim.mma(name, a[rs, s * sa:(s + 1) * sa], b[s * row["k"]:(s + 1) * row["k"], cs], c=acc,
                              e=None if e is None else e[rs, s * sc:(s + 1) * sc], arch=arch)
            expected[rs, cs] = acc
    assert d.tobytes() == expected.tobytes()
    assert sim.gemm(name, a, b, c=c, e=e, arch=arch, threads=2, path="generic").tobytes() == d.tobytes()
    for isa in sim.isas():  # every instruction set of the fast path gives the same bits
        assert sim.gemm(name, a, b, c=c, e=e, arch=arch, path="fast", isa=isa).tobytes() == d.tobytes()


def test_gemm_isa_names_are_checked(rng):
    name = "SM80_SP_16x8x32_F32F16F16F32_TN"
    a, b, c, e = operands(rng, ROWS[name], k=32, m=16, n=8)
    assert sim.isas()[0] == "scalar"
    with pytest.raises(ValueError, match="unknown instruction set 'sse9'"):
        sim.gemm(name, a, b, c=c, e=e, isa="sse9")


def test_undefined_metadata_is_the_tools_error(tool, tmp_path, rng):
    name = "SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN"
    a, b, c, e = operands(rng, ROWS[name])
    e[3, 5] = (1 << 2) | 2  # idx1 = 1 < idx0 = 2: UB under ::ordered_metadata
    for label, x in (("a", a), ("b", b), ("e", e)):
        np.save(tmp_path / f"{label}.npy", x)
    r = tool("mma", "--instr", name, "--a", tmp_path / "a.npy", "--b", tmp_path / "b.npy", "--e", tmp_path / "e.npy",
             expect=1)
    with pytest.raises(ValueError) as err:
        sim.mma(name, a, b, e=e)
    assert str(err.value) == tool_error(r)
    assert "row 3" in str(err.value)


def test_instructions_and_errors(rng):
    rows = sim.instructions()
    assert len(rows) == len(ROWS) and sum(r["sparse"] for r in rows) > 0
    row = ROWS["SM80_SP_16x8x32_F32F16F16F32_TN"]
    assert (row["m"], row["n"], row["k"], row["a"], row["d"]) == (16, 8, 32, "fp16", "fp32")
    a, b, c, e = operands(rng, row)
    with pytest.raises(ValueError, match="unknown instruction"):
        sim.mma("SM80_NOPE", a, b, e=e)
    with pytest.raises(ValueError, match="a must be 16x16"):
        sim.mma(row["name"], a[:, :8], b, e=e)
    with pytest.raises(ValueError, match="is sparse: give the metadata"):
        sim.mma(row["name"], a, b)
    with pytest.raises(ValueError, match="2-D"):
        sim.mma(row["name"], a.reshape(-1), b, e=e)
    with pytest.raises(ValueError, match="nibbles"):
        sim.mma(row["name"], a, b, e=e + 16)
    with pytest.raises(ValueError, match="selector"):
        sim.mma(row["name"], a, b, e=e, selector=2)
    with pytest.raises(ValueError):
        sim.mma("SM89_SP_16x8x64_F32E4M3E4M3F32_TN", np.zeros((16, 32), np.float32), np.zeros((64, 8), np.float32),
                e=np.full((16, 16), 4, np.uint8), arch="sm80")
    with pytest.raises(TypeError, match="raw bit patterns as unsigned"):
        sim.mma(row["name"], a.astype(np.int16), b, e=e)
    # float32 given for an fp16 operand is rounded to fp16 (nearest even), as the tool does
    assert sim.mma(row["name"], a.astype(np.float32), b, e=e).tobytes() == sim.mma(row["name"], a, b, e=e).tobytes()
