"""twofour.prune against `twofour prune` on the same .npy input: masks bit for bit for every
registered criterion, transposable masks, convolution weights and SparseGPT's updated weights."""
import ml_dtypes
import numpy as np
import pytest

from twofour import prune
from conftest import tool_error


def tool_mask(tool, tmp_path, w, *args, pruned=False):
    np.save(tmp_path / "w.npy", w)
    extra = ["--pruned", tmp_path / "p.npy"] if pruned else []
    tool("prune", tmp_path / "w.npy", tmp_path / "m.npy", *args, *extra)
    m = np.load(tmp_path / "m.npy")
    return (m, np.load(tmp_path / "p.npy")) if pruned else m


def test_registry_is_the_tools(tool):
    # the tool lists the registry in --help ("score: magnitude, random, ..."): the same names, same order
    line = next(l for l in tool("prune", "--help").stdout.splitlines() if "--criterion" in l)
    listed = [name.strip() for name in line.split("score:")[1].split(",")]
    assert list(prune.criteria()) == listed
    info = prune.criteria()
    assert info["wanda"]["needs_calibration"] and info["taylor"]["needs_gradients"] and info["random"]["uses_seed"]
    assert info["sparsegpt"]["updates_weights"] and not info["magnitude"]["updates_weights"]


def test_every_registered_criterion_runs(rng):
    # Whatever the registry holds runs from Python with the inputs its entry says it needs.
    w = rng.standard_normal((16, 32)).astype(np.float32)
    x = rng.standard_normal((64, 32)).astype(np.float32)
    g = rng.standard_normal((16, 32)).astype(np.float32)
    for name, info in prune.criteria().items():
        kwargs = dict(calib=x if info["needs_calibration"] else None, grad=g if info["needs_gradients"] else None)
        pruned, m = prune.prune(w, criterion=name, seconds=0.5, **kwargs)
        # N of every M kept (in a permuted channel order for permutation criteria, so count them)
        assert m.sum() == w.size // 2 and m.dtype == np.bool_, name
        if not info["updates_weights"]:
            assert np.array_equal(pruned, np.where(m, w, 0)), name


@pytest.mark.parametrize("pattern", ["2:4", "1:4", "2:8", "4:8"])
def test_magnitude_equals_tool(tool, tmp_path, rng, pattern):
    w = rng.standard_normal((48, 64)).astype(np.float32)
    w[0, :4] = [1, 1, -1, 1]  # ties: the earlier element is kept
    m = prune.mask(w, pattern=pattern)
    assert m.dtype == np.bool_ and m.shape == w.shape
    assert np.array_equal(m, tool_mask(tool, tmp_path, w, "--pattern", pattern).astype(bool))


def test_every_score_criterion_equals_tool(tool, tmp_path, rng):
    w = rng.standard_normal((32, 64)).astype(np.float32)
    x = rng.standard_normal((40, 64)).astype(np.float32) * np.linspace(0.1, 3, 64, dtype=np.float32)
    g = rng.standard_normal((32, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "g.npy", g)
    cases = {"random": (dict(seed=7), ["--seed", "7"]),
             "wanda": (dict(calib=x), ["--calib", tmp_path / "x.npy"]),
             "taylor": (dict(grad=g), ["--grad", tmp_path / "g.npy"]),
             "magnitude": ({}, [])}
    for name, (kwargs, args) in cases.items():
        m = prune.mask(w, criterion=name, **kwargs)
        assert np.array_equal(m, tool_mask(tool, tmp_path, w, "--criterion", name, *args).astype(bool)), name


@pytest.mark.parametrize("method", ["best", "best90", "greedy"])
def test_transposable_equals_tool(tool, tmp_path, rng, method):
    w = rng.standard_normal((32, 32)).astype(np.float32)
    m = prune.mask(w, transposable=True, method=method)
    assert np.array_equal(m, tool_mask(tool, tmp_path, w, "--transposable", "--method", method).astype(bool))
    assert prune.check(m.T.astype(np.float32))["ok"]


def test_conv_and_half_precision_weights_equal_tool(tool, tmp_path, rng):
    conv = rng.standard_normal((8, 16, 3, 3)).astype(np.float32)
    assert np.array_equal(prune.mask(conv), tool_mask(tool, tmp_path, conv).astype(bool))
    half = rng.standard_normal((16, 32)).astype(np.float16)
    assert np.array_equal(prune.mask(half), tool_mask(tool, tmp_path, half).astype(bool))
    bf = rng.standard_normal((16, 32)).astype(ml_dtypes.bfloat16)
    assert np.array_equal(prune.mask(bf), tool_mask(tool, tmp_path, bf.view(np.uint16), "--dtype", "bf16").astype(bool))


def test_sparsegpt_equals_tool(tool, tmp_path, rng):
    w = rng.standard_normal((16, 64)).astype(np.float32)
    x = rng.standard_normal((128, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    updated, m = prune.sparsegpt(w, x)
    tm, tp = tool_mask(tool, tmp_path, w, "--criterion", "sparsegpt", "--calib", tmp_path / "x.npy",
                       pruned=True)
    assert np.array_equal(m, tm.astype(bool))
    assert updated.dtype == np.float32 and updated.tobytes() == tp.tobytes()
    assert np.all(updated[~m] == 0) and prune.check(updated)["ok"]


def test_check_reports_violations():
    w = np.ones((8, 8), np.float32)
    r = prune.check(w)
    assert not r["ok"] and r["groups"] == 16 and r["bad_groups"] == 16
    assert r["first"] == (0, 0, 4) and r["violations"].shape == (16, 3)
    assert r["violations"][:, 2].tolist() == [4] * 16
    conv = np.zeros((2, 8, 3), np.float32)
    conv[1, 4:7, 2] = 1  # output channel 1, input channels 4..6, kernel position 2: ASP row 2 * 2 + 1
    assert prune.check(conv)["violations"].tolist() == [[5, 4, 3]]
    assert r["message"] == "not 2:4: group at row 0, columns 0..3 has 4 non-zeros (at most 2 allowed)"
    assert prune.check(w * prune.mask(w))["ok"]


def test_permutation_keeps_more_magnitude(rng):
    w = rng.standard_normal((32, 64)).astype(np.float32)
    r = prune.permutation(w, seconds=5)
    perm = r["permutation"]
    assert sorted(perm) == list(range(64)) and perm.dtype == np.int64
    kept = lambda a: np.abs(a[prune.mask(a)]).sum()
    assert kept(w[:, perm]) >= kept(w) and r["kept_permuted"] >= r["kept_default"]
    assert r["method"] == "stripe-groups"
    s = prune.permutation(w, seconds=5, method="channel-swaps", threads=1)
    assert s["method"] == "channel-swaps" and sorted(s["permutation"]) == list(range(64))
    effs = [e for _, e in s["progress"]]
    assert effs[0] == 0 and effs[-1] == s["efficacy"] and all(a < b for a, b in zip(effs, effs[1:]))
    assert np.array_equal(prune.permutation(w, seconds=5, method="channel-swaps", threads=2)["permutation"],
                          s["permutation"])
    with pytest.raises(ValueError, match="unknown permutation method"):
        prune.permutation(w, method="tetris")


def test_errors_are_the_tools_messages(tool, tmp_path, rng):
    w = rng.standard_normal((4, 6)).astype(np.float32)
    np.save(tmp_path / "w.npy", w)
    r = tool("prune", tmp_path / "w.npy", tmp_path / "m.npy", expect=1)
    with pytest.raises(ValueError) as e:
        prune.mask(w)
    assert tool_error(r) == f"{tmp_path / 'w.npy'}: {e.value}"
    bad = rng.standard_normal((4, 8)).astype(np.float32)
    bad[1, 5] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    r = tool("prune", tmp_path / "nan.npy", tmp_path / "m.npy", expect=1)
    with pytest.raises(ValueError, match=r"weight \(1, 5\) is NaN") as e:
        prune.mask(bad)
    assert tool_error(r) == f"{tmp_path / 'nan.npy'}: {e.value}"
    with pytest.raises(ValueError, match="unknown criterion 'l3'"):
        prune.mask(w, criterion="l3")
    with pytest.raises(ValueError, match="pattern"):
        prune.mask(np.ones((4, 8), np.float32), pattern="4:2")
    x = np.ones((5, 8), np.float32)
    x[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN at sample 2, feature 3"):
        prune.mask(np.ones((4, 8), np.float32), criterion="wanda", calib=x)
    with pytest.raises(ValueError, match="needs"):
        prune.mask(np.ones((4, 8), np.float32), criterion="wanda")
    with pytest.raises(ValueError, match="dimensions"):
        prune.mask(np.ones(8, np.float32))
    with pytest.raises(TypeError, match="real numbers"):
        prune.mask(np.ones((4, 8), np.complex64))
    f = np.asfortranarray(rng.standard_normal((8, 16)).astype(np.float32))
    assert np.array_equal(prune.mask(f), prune.mask(np.ascontiguousarray(f)))
