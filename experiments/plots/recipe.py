"""Study 4 plot: final accuracy per recipe (bars) and SR-STE's mask change per epoch (lines)."""
import os
import sys

import numpy as np

from study_common import load, mean_std, plt, save, subtitle

rows, meta, out = load(sys.argv)
models = list(dict.fromkeys(r["model"] for r in rows))
fig, axes = plt.subplots(2, len(models), figsize=(7 * len(models), 9), squeeze=False)
for i, model in enumerate(models):
    mine = [r for r in rows if r["model"] == model]
    def key(r):
        return r["recipe"] if r["pattern"] == "dense" else f"{r['recipe']} {r['pattern']}"

    keys = list(dict.fromkeys(key(r) for r in mine))
    stats = [mean_std([100 * r["final_accuracy"] for r in mine if key(r) == k]) for k in keys]
    ax = axes[0][i]
    bars = ax.bar(np.arange(len(keys)), [m for m, _ in stats], yerr=[s for _, s in stats], capsize=3,
                  color=["#888" if k.startswith("dense") else "#3a7" if k.startswith("asp") else "#37a" for k in keys])
    for b, (m, _) in zip(bars, stats):
        ax.annotate(f"{m:.2f}", (b.get_x() + b.get_width() / 2, m), ha="center", va="bottom", fontsize=8)
    finite = [m for m, _ in stats if np.isfinite(m)]
    if finite:
        ax.set_ylim(max(0, min(finite) - 3), min(100, max(finite) + 2))
    ax.set_xticks(np.arange(len(keys)))
    ax.set_xticklabels([k.replace(" ", "\n", 1) for k in keys], fontsize=8)
    ax.set_ylabel("final test accuracy (%)")
    ax.set_title(f"{model}: training recipes", fontsize=10)
    ax = axes[1][i]
    for k in keys:
        if not k.startswith("srste"):
            continue
        runs = [[e["mask_change"] for e in r["history"] if e["mask_change"] is not None]
                for r in mine if key(r) == k]
        n = min(len(h) for h in runs) if runs else 0
        if n == 0:
            continue
        per = [mean_std([100 * h[e] for h in runs]) for e in range(n)]
        ax.errorbar(np.arange(1, n + 1), [m for m, _ in per], yerr=[s for _, s in per], marker="o", capsize=3, label=k)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mask entries changed during the epoch (%)")
    ax.set_yscale("log")
    ax.set_title(f"{model}: SR-STE mask change per epoch (ASP: 0 by construction)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle("Training recipes at 2:4 and 1:4\n" + subtitle(meta), fontsize=10)
save(fig, os.path.join(out, "recipe.png"))
