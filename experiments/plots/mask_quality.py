"""Study 1 plot: kept-L1 fraction and output reconstruction error per layer and mask."""
import os
import sys

import numpy as np

from study_common import load, mean_std, plt, save, subtitle

rows, meta, out = load(sys.argv)
methods = list(dict.fromkeys(r["method"] for r in rows))
layers = list(dict.fromkeys(f"{r['model']} {r['layer']}" for r in rows))


def table(metric):
    m = np.full((len(layers), len(methods)), np.nan)
    s = np.zeros_like(m)
    for i, layer in enumerate(layers):
        for j, method in enumerate(methods):
            vals = [r[metric] for r in rows if f"{r['model']} {r['layer']}" == layer and r["method"] == method]
            m[i, j], s[i, j] = mean_std(vals)
    return m, s


fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.6 * len(layers)), 8))
width = 0.8 / len(methods)
x = np.arange(len(layers))
for ax, metric, label in ((axes[0], "kept_l1", "kept L1 fraction"),
                          (axes[1], "output_error", "output error ||f(X;W)-f(X;W')|| / ||f(X;W)||")):
    m, s = table(metric)
    for j, method in enumerate(methods):
        ax.bar(x + (j - len(methods) / 2 + 0.5) * width, m[:, j], width, yerr=s[:, j], label=method, capsize=2)
    ax.set_xticks(x)
    ax.set_xticklabels([layer.replace(" ", "\n", 1) for layer in layers], fontsize=8)
    ax.set_ylabel(label)
    if metric == "kept_l1":
        finite = m[np.isfinite(m)]
        if finite.size:
            ax.set_ylim(max(0.0, finite.min() - 0.05), min(1.0, finite.max() + 0.03))
axes[0].legend(fontsize=7, ncol=4)
axes[0].set_title("Mask quality at 50% sparsity (no training)\n" + subtitle(meta), fontsize=10)
save(fig, os.path.join(out, "mask_quality.png"))
