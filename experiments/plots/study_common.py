"""Shared helpers of the study plot scripts: reading results.json and aggregating over seeds.

Only numpy and matplotlib (Agg backend, no display needed)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402


def load(argv):
    """(rows, meta, out_dir) from the command line: results.json OUT_DIR."""
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} results.json OUT_DIR")
    with open(argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    return doc["rows"], doc["meta"], argv[2]


def mean_std(values):
    """Mean and sample std of the finite values (std 0 for one value); (nan, 0) for none."""
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), 0.0
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def subtitle(meta):
    return (f"{meta['mode']} mode, {meta['seeds']} seed(s), {meta['train_images']} train / "
            f"{meta['test_images']} test images, git {meta['git_revision'][:10]}")


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
