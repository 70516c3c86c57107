"""Study 3 plot: accuracy versus sparsity, one line per pattern family, error bars over seeds;
one-shot (left) and retrained (right), one row per model."""
import os
import sys

import numpy as np

from study_common import load, mean_std, plt, save, subtitle

rows, meta, out = load(sys.argv)
models = list(dict.fromkeys(r["model"] for r in rows))


def family(r):
    """Lines: unstructured, N:M by group size M (fixed M, N falls as sparsity grows), transposable,
    blocks, filters."""
    if r["family"] == "n:m":
        return f"N:M, M={r['pattern'].split(':')[1]}"
    return r["pattern"]


styles = {"unstructured": ("k", "o", "-")}
fig, axes = plt.subplots(len(models), 2, figsize=(12, 4.5 * len(models)), squeeze=False)
for i, model in enumerate(models):
    mine = [r for r in rows if r["model"] == model]
    fams = list(dict.fromkeys(family(r) for r in mine))
    for j, metric in enumerate(("oneshot_accuracy", "retrained_accuracy")):
        ax = axes[i][j]
        for f in fams:
            pts = sorted({r["sparsity"] for r in mine if family(r) == f})
            xs, ms, ss = [], [], []
            for s in pts:
                m, sd = mean_std([100 * r[metric] for r in mine if family(r) == f and r["sparsity"] == s])
                xs.append(100 * s)
                ms.append(m)
                ss.append(sd)
            color, marker, line = styles.get(f, (None, "s", "--"))
            ax.errorbar(xs, ms, yerr=ss, label=f, marker=marker, linestyle=line if len(xs) > 1 else "none",
                        color=color, capsize=3, linewidth=1.5 if f == "unstructured" else 1)
        # N:M points at equal sparsity also get their own labels, so 2:4 / 4:8 / 8:16 can be told apart.
        for r_pattern in sorted({r["pattern"] for r in mine if r["family"] == "n:m"}):
            sel = [r for r in mine if r["pattern"] == r_pattern]
            m, _ = mean_std([100 * r[metric] for r in sel])
            ax.annotate(r_pattern, (100 * sel[0]["sparsity"], m), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("sparsity of the pruned layers (%)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{model}: {'one-shot (no retraining)' if j == 0 else 'retrained (ASP, mask fixed)'}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
fig.suptitle("Accuracy versus sparsity\n" + subtitle(meta), fontsize=10)
save(fig, os.path.join(out, "sparsity.png"))
