"""N:M masks: N weights KEPT in every group of M consecutive input channels ("2:4" keeps 2 of 4,
as in PTX and NVIDIA Apex ASP; SparseGPT's code counts the zeroed ones instead).

Weights are (out, in) for a Linear, (K, C, R) or (K, C, R, S) for a convolution; groups run along
the input channels (dimension 1), as in Apex ASP. Criteria come from the C++ library's registry
(``criteria()``), the same one the ``twofour prune`` tool uses, so a criterion registered in C++
is available here by name. Masks keep the highest scores; ties keep the earlier element.
NaN and infinite weights are rejected (ValueError naming the first one), the library's policy.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays
from ._core import prune as _core


def criteria() -> dict[str, dict]:
    """The registered criteria, in listing order, as ``{name: info}``; info holds ``summary``,
    ``needs_calibration`` (pass `calib`), ``needs_gradients`` (pass `grad`), ``uses_seed`` and
    ``updates_weights`` (the kept weights change: use `prune`, not `mask`)."""
    return {c["name"]: {k: v for k, v in c.items() if k != "name"} for c in _core.criteria()}


def prune(w: ArrayLike, pattern: str = "2:4", criterion: str = "magnitude", calib: Optional[ArrayLike] = None,
          grad: Optional[ArrayLike] = None, transposable: bool = False, seed: int = 0, method: str = "best",
          pad: bool = False, block_size: int = 128, damping: float = 0.01,
          seconds: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Prunes `w` with any registered criterion; returns ``(weights, mask)``: the pruned float32
    weights (``w * mask``, or the updated kept weights for criteria that update them, such as
    "sparsegpt") and the bool mask (True = kept). Arguments as for `mask`, plus the SparseGPT
    column `block_size` and Hessian `damping` (share of mean(diag H)), and `seconds`, the time
    bound of searching criteria (channel permutation)."""
    weights = _arrays.float32_c(w, "w", ndim=(2, 3, 4))
    x = None if calib is None else _arrays.float32_c(calib, "calib", ndim=2)
    g = None if grad is None else _arrays.float32_c(grad, "grad")
    pruned, m = _core.run(weights, criterion, pattern, bool(transposable), method, bool(pad), x, g, int(seed),
                          int(block_size), float(damping), float(seconds))
    return pruned, m.view(np.bool_)


def mask(w: ArrayLike, pattern: str = "2:4", criterion: str = "magnitude", calib: Optional[ArrayLike] = None,
         grad: Optional[ArrayLike] = None, transposable: bool = False, seed: int = 0, method: str = "best",
         pad: bool = False) -> np.ndarray:
    """The N:M mask of `w` under `criterion`, as a bool array of `w`'s shape (True = kept).

    Parameters:
      w: weights (rank 2, 3 or 4; float dtypes, bfloat16 included; converted to float32 as the
         tool does). Other memory orders are copied to C order.
      pattern: "N:M", N kept of every M (1 <= N < M <= 32).
      criterion: a name from ``criteria()``: "magnitude" (|w|), "random" (uses `seed`),
         "wanda" (|w| * ||X_j||, needs `calib`), "taylor" (|w * g|, needs `grad`), "sparsegpt"
         (needs `calib`; its updated weights come from `prune` or `sparsegpt`), ...
      calib: calibration activations, (samples, in), for data-aware criteria; all samples are used.
      grad: the accumulated gradient, `w`'s shape (taylor).
      transposable: 2:4 along rows and columns of every 4x4 block (pattern "2:4" only);
         `method` = "best" (exact), "best90" (Apex mn_2d_best) or "greedy" (Apex mn_2d_greedy).
      pad: zero-pad input channels that are not a multiple of M instead of raising.

    Raises ValueError (unknown criterion, bad pattern, shapes that do not divide, NaN in calib, a
    missing input...) with the library's message.

    >>> import numpy as np, twofour
    >>> twofour.prune.mask(np.array([[0.1, -3.0, 2.0, 0.5]], np.float32)).astype(int)
    array([[0, 1, 1, 0]])
    """
    return prune(w, pattern, criterion, calib, grad, transposable, seed, method, pad)[1]


def sparsegpt(w: ArrayLike, calib: ArrayLike, pattern: str = "2:4", block_size: int = 128,
              damping: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """SparseGPT (Frantar & Alistarh 2023) for a Linear weight (out, in), the registry's
    "sparsegpt" criterion: returns ``(weights, mask)``, the updated float32 weights (exactly 0
    where pruned) and the bool mask.

    calib: calibration activations (samples, in). block_size: columns per block (a multiple of M).
    damping: added to the Hessian's diagonal as a share of its mean.
    """
    return prune(w, pattern, "sparsegpt", calib=calib, block_size=block_size, damping=damping)


def permutation(w: ArrayLike, pattern: str = "2:4", seconds: float = 10.0, escapes: int = 100,
                stripes_per_group: int = 2, seed: int = 0, method: str = "auto", threads: int = 0) -> dict:
    """Searches an input-channel permutation that raises the N:M-kept magnitude (Pool & Yu 2021).

    Returns a dict: ``permutation`` (int64; ``w[:, perm]`` is the permuted weight), ``efficacy``
    (share of the gap to per-row unstructured pruning closed), kept magnitudes, ``seconds``,
    ``timed_out``, ``method`` (the search that ran), ``improvements`` and ``progress``, the
    efficacy against time as (seconds, efficacy) pairs. `seconds` bounds the search's wall-clock
    time. method: "auto", "stripe-groups" (narrow layers) or "channel-swaps" (wide layers; `threads`
    0 = all, the result is the same at every count). `escapes` and `stripes_per_group` apply to
    stripe groups.
    """
    weights = _arrays.float32_c(w, "w", ndim=(2, 3, 4))
    return _core.permutation(weights, pattern, float(seconds), int(escapes), int(stripes_per_group), int(seed),
                             str(method), int(threads))


def check(w: ArrayLike, pattern: str = "2:4", pad: bool = False) -> dict:
    """Checks that every group of M input channels holds at most N non-zeros (w != 0).

    Returns a dict: ``ok``; ``violations``, an int64 array with one row (row, first input
    channel, non-zeros) per violating group of the grouped (rows, input channels) view, in scan
    order; ``groups`` (examined); ``bad_groups`` (violating); ``message`` (names the first
    violating group, as the tool does) and ``first`` (its row of ``violations``), when not ok.
    Convolutions (K, C, R, S) are viewed as ASP does: row = kernel position * K + output channel.

    >>> import numpy as np, twofour
    >>> w = np.ones((2, 8), np.float32); w[0, 4] = 0
    >>> r = twofour.prune.check(w)
    >>> r["ok"], r["violations"].tolist()
    (False, [[0, 0, 4], [0, 4, 3], [1, 0, 4], [1, 4, 4]])
    """
    weights = _arrays.float32_c(w, "w", ndim=(2, 3, 4))
    r = _core.check(weights, pattern, bool(pad))
    r["violations"] = r.pop("groups_violating")
    return r
