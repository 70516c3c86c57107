"""twofour.sim.gemm(order=...) and twofour.sim.check_gemm against `twofour gemm --order ... --out /
--check` on the same .npy operands, and against differences derived by hand and counted by NumPy."""
import re

import numpy as np
import pytest

from twofour import sim
from conftest import tool_error

F32 = "SM80_SP_16x8x32_F32F16F16F32_TN"   # fp16 A/B, fp32 accumulators
F16 = "SM80_SP_16x8x16_F16F16F16F16_TN"   # fp16 accumulators
S8 = "SM80_SP_16x8x64_S32S8S8S32_TN"      # int32 accumulators
ROWS = {row["name"]: row for row in sim.instructions()}
PAIRS = np.array([(i1 << 2) | i0 for i0 in range(4) for i1 in range(i0 + 1, 4)], np.uint8)  # ascending index pairs


def random_operands(rng, instr, m=32, n=16, k_steps=6):
    row = ROWS[instr]
    k = k_steps * row["k"]
    stored, chunks = k_steps * row["stored_k"], k_steps * row["chunks_per_row"]
    if row["a"] == "s8":
        a = rng.integers(-128, 128, (m, stored)).astype(np.int8)
        b = rng.integers(-128, 128, (k, n)).astype(np.int8)
        c = rng.integers(-1000, 1000, (m, n)).astype(np.int32)
    else:
        a = rng.standard_normal((m, stored)).astype(np.float16)
        b = rng.standard_normal((k, n)).astype(np.float16)
        c = rng.standard_normal((m, n)).astype(np.float32 if row["c"] == "fp32" else np.float16)
    e = rng.choice(PAIRS, (m, chunks))
    return a, b, c, e


def save(tmp_path, **arrays):
    paths = {}
    for name, x in arrays.items():
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], x)
    return paths


def tool_gemm(tool, tmp_path, instr, a, b, c, e, order, *extra):
    p = save(tmp_path, a=a, b=b, c=c, e=e)
    out = tmp_path / "d.npy"
    tool("gemm", "--instr", instr, "--layout", "nibbles", "--a", p["a"], "--meta", p["e"], "--b", p["b"], "--c", p["c"],
         "--order", order, "--out", out, *extra)
    d = np.load(out)
    out.unlink()
    return d


ORDERS = {
    F32: ["chained", "twofour", "cutlass", "cutlass,tile_k=32,split_k=2", "cutlass,tile_k=32,split_k=4,reduction=fp32",
          "c=first,tile_k=64,split_k=3,reduction=fp32", "cutlass,alpha=0.5,beta=-2,split_k=2,tile_k=32",
          "chained,instr_k=16"],
    F16: ["chained", "cutlass,tile_k=32,split_k=2", "cutlass,tile_k=16,split_k=3,reduction=fp32"],
    S8: ["chained", "cutlass", "cutlass,tile_k=64,split_k=4", "c=first,tile_k=128,split_k=2,reduction=fp32"],
}


@pytest.mark.parametrize("instr,order", [(i, o) for i, orders in ORDERS.items() for o in orders])
def test_gemm_order_equals_the_tool(tool, tmp_path, rng, instr, order):
    a, b, c, e = random_operands(rng, instr)
    expected = tool_gemm(tool, tmp_path, instr, a, b, c, e, order)
    d, described = sim.gemm(instr, a, b, c=c, e=e, order=order, return_order=True)
    assert d.dtype == expected.dtype and d.tobytes() == expected.tobytes()
    assert described == sim.describe_order(instr, order)
    assert described.startswith(order.split(",")[0] if "=" not in order.split(",")[0] else "explicit")


@pytest.mark.parametrize("order", ["chained", "cutlass,tile_k=32,split_k=2", "cutlass,tile_k=32,split_k=2,reduction=fp32"])
def test_fp16_output_type_equals_the_tool(tool, tmp_path, rng, order):
    a, b, c, e = random_operands(rng, F32)
    expected = tool_gemm(tool, tmp_path, F32, a, b, c, e, order, "--out-type", "fp16")
    d = sim.gemm(F32, a, b, c=c, e=e, order=order, out_type="fp16")
    assert d.dtype == np.float16 and d.tobytes() == expected.tobytes()


def test_default_order_is_the_chained_gemm_on_every_path(rng):
    a, b, c, e = random_operands(rng, F32)
    d = sim.gemm(F32, a, b, c=c, e=e)
    for kwargs in ({"order": "chained"}, {"order": "chained", "path": "generic", "threads": 2}, {"path": "fast"}):
        assert sim.gemm(F32, a, b, c=c, e=e, **kwargs).tobytes() == d.tobytes(), kwargs


def split_k_operands():
    """fp32 row, K = 64, one product per k32 step: A = 3 * 2^-7 at K 0 and 32, B = 2^-6 there, C = 1.
    Each slice's partial is q = 3 * 2^-13 (exact, below half an fp16 ulp of 1). Into fp16 D, a serial
    split-K rounds fp16(1 + q) = 1 twice; an fp32 reduction rounds once: fp16(1 + 2q) = 1 + 2^-10."""
    a = np.zeros((16, 32), np.float16)
    a[:, 0] = a[:, 16] = 3.0 / 128
    b = np.zeros((64, 8), np.float16)
    b[0, :] = b[32, :] = 1.0 / 64
    c = np.ones((16, 8), np.float32)
    e = np.full((16, 16), 0x4, np.uint8)  # elements 0 and 1 of every chunk
    return a, b, c, e


SERIAL = "cutlass,tile_k=32,split_k=2,reduction=serial"
PARALLEL = "cutlass,tile_k=32,split_k=2,reduction=fp32"


def test_split_k_reductions_differ_as_derived(tmp_path, tool):
    a, b, c, e = split_k_operands()
    serial = sim.gemm(F32, a, b, c=c, e=e, order=SERIAL, out_type="fp16")
    parallel = sim.gemm(F32, a, b, c=c, e=e, order=PARALLEL, out_type="fp16")
    assert (serial.view(np.uint16) == 0x3C00).all()
    assert (parallel.view(np.uint16) == 0x3C01).all()

    report = sim.check_gemm(F32, a, b, parallel, c=c, e=e, order=SERIAL, out_type="fp16", explain=2, search=True)
    assert not report.equal
    assert report.elements == 128 and report.differing == 128 and report.max_ulps == 1 and report.nan_mismatches == 0
    first = report.mismatches[0]
    assert (first["row"], first["col"], first["simulated"], first["actual"], first["ulps"]) == (0, 0, 0x3C00, 0x3C01, 1)
    assert all(m["explanation"] for m in report.mismatches[:2]) and not any(m["explanation"] for m in report.mismatches[2:])
    assert sim.describe_order(F32, PARALLEL) in report.matching_orders
    assert sim.describe_order(F32, SERIAL) not in report.matching_orders
    assert report.orders_tried >= len(report.matching_orders) > 0

    # The tool's --check on the same files reports the same count.
    p = save(tmp_path, a=a, b=b, c=c, e=e, d=parallel)
    r = tool("gemm", "--instr", F32, "--layout", "nibbles", "--a", p["a"], "--meta", p["e"], "--b", p["b"], "--c", p["c"],
             "--order", SERIAL, "--out-type", "fp16", "--check", p["d"], expect=1)
    assert re.search(r"(\d+) of (\d+) elements differ", r.stdout).groups() == ("128", "128")


@pytest.mark.parametrize("stated,kernel", [("chained", "cutlass"), ("cutlass,tile_k=32,split_k=2", "cutlass"),
                                           (SERIAL, PARALLEL)])
def test_check_counts_what_numpy_counts_and_search_names_the_order(rng, stated, kernel):
    a, b, c, e = random_operands(rng, F32, k_steps=4)
    out_type = "fp16" if "reduction" in stated else None
    expected = sim.gemm(F32, a, b, c=c, e=e, order=stated, out_type=out_type)
    actual = sim.gemm(F32, a, b, c=c, e=e, order=kernel, out_type=out_type)
    bits = np.uint16 if out_type else np.uint32
    differing = int((expected.view(bits) != actual.view(bits)).sum())
    assert differing > 0, "the orders must differ on these operands"
    report = sim.check_gemm(F32, a, b, actual, c=c, e=e, order=stated, out_type=out_type, keep=1000, search=True)
    assert report.differing == differing and len(report.mismatches) == differing
    rows, cols = np.nonzero(expected.view(bits) != actual.view(bits))
    assert [(m["row"], m["col"]) for m in report.mismatches] == list(zip(rows.tolist(), cols.tolist()))
    assert all(m["simulated"] == int(expected.view(bits)[m["row"], m["col"]]) for m in report.mismatches)
    assert all(m["actual"] == int(actual.view(bits)[m["row"], m["col"]]) for m in report.mismatches)
    assert sim.describe_order(F32, kernel) in report.matching_orders
    assert sim.describe_order(F32, stated) not in report.matching_orders
    assert sim.check_gemm(F32, a, b, expected, c=c, e=e, order=stated, out_type=out_type).equal


def test_equal_check_lists_nothing_and_skips_the_search(rng):
    a, b, c, e = random_operands(rng, S8)
    d = sim.gemm(S8, a, b, c=c, e=e, order="cutlass,tile_k=64,split_k=3")
    report = sim.check_gemm(S8, a, b, d, c=c, e=e, order="chained")  # integer sums are exact in any order
    assert report.equal and report.differing == 0 and report.mismatches == [] and report.elements == d.size
    assert report.orders_tried is None and report.matching_orders is None


@pytest.mark.parametrize("order,token", [("cutlass,split_k=two", "split_k=two"), ("cutlas", "cutlas"),
                                         ("cutlass,tile=32", "'tile'"), ("cutlass,tile_k=48", "tile_k")])
def test_bad_order_is_the_tools_error(tool, tmp_path, rng, order, token):
    a, b, c, e = random_operands(rng, F32, m=16, n=8, k_steps=2)
    p = save(tmp_path, a=a, b=b, c=c, e=e)
    r = tool("gemm", "--instr", F32, "--layout", "nibbles", "--a", p["a"], "--meta", p["e"], "--b", p["b"], "--c", p["c"],
             "--order", order, expect=2)
    message = tool_error(r)
    assert message.startswith("--order: ")
    for call in (lambda: sim.gemm(F32, a, b, c=c, e=e, order=order),
                 lambda: sim.check_gemm(F32, a, b, np.zeros((16, 8), np.float32), c=c, e=e, order=order),
                 lambda: sim.describe_order(F32, order)):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value) == "order: " + message[len("--order: "):]
        assert token in str(err.value)


def test_check_rejects_a_kernel_d_of_another_type_or_shape(rng):
    a, b, c, e = random_operands(rng, F32, m=16, n=8, k_steps=2)
    with pytest.raises(TypeError, match="fp16 needs dtype float16"):
        sim.check_gemm(F32, a, b, np.zeros((16, 8), np.float32), c=c, e=e, out_type="fp16")
    with pytest.raises(ValueError, match="d_actual must be 16x8, got 8x16"):
        sim.check_gemm(F32, a, b, np.zeros((8, 16), np.float32), c=c, e=e)
    with pytest.raises(ValueError, match="out_type must be fp32, fp16 or int32"):
        sim.check_gemm(F32, a, b, np.zeros((16, 8), np.float32), c=c, e=e, out_type="bf16")
    with pytest.raises(ValueError, match="out_type must be fp32, fp16 or int32"):
        sim.gemm(F32, a, b, c=c, e=e, out_type="bf16")
