"""Study 2 plot: one-shot vs retrained accuracy per criterion (grouped bars, error bars over seeds)."""
import os
import sys

import numpy as np

from study_common import load, mean_std, plt, save, subtitle

rows, meta, out = load(sys.argv)
models = list(dict.fromkeys(r["model"] for r in rows))
criteria = list(dict.fromkeys(r["criterion"] for r in rows))
fig, axes = plt.subplots(1, len(models), figsize=(7 * len(models), 4.8), squeeze=False)
x = np.arange(len(criteria))
for ax, model in zip(axes[0], models):
    mine = [r for r in rows if r["model"] == model]
    for k, (metric, label) in enumerate((("oneshot_accuracy", "one-shot"), ("retrained_accuracy", "retrained"))):
        stats = [mean_std([100 * r[metric] for r in mine if r["criterion"] == c]) for c in criteria]
        bars = ax.bar(x + (k - 0.5) * 0.38, [m for m, _ in stats], 0.38, yerr=[s for _, s in stats], capsize=3, label=label)
        for b, (m, _) in zip(bars, stats):
            ax.annotate(f"{m:.1f}", (b.get_x() + b.get_width() / 2, m), ha="center", va="bottom", fontsize=7)
    dense, _ = mean_std([100 * r["dense_accuracy"] for r in mine])
    ax.axhline(dense, color="k", linestyle="--", linewidth=1, label=f"dense {dense:.1f}%")
    lows = [100 * r["oneshot_accuracy"] for r in mine]
    ax.set_ylim(max(0, min(lows) - 5), min(100, dense + 4))
    ax.set_xticks(x)
    ax.set_xticklabels([c.replace("+", "+\n") for c in criteria], fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{model}: 2:4 by criterion", fontsize=10)
    ax.legend(fontsize=8)
fig.suptitle("Pruning criteria at 2:4, one-shot vs retrained\n" + subtitle(meta), fontsize=10)
save(fig, os.path.join(out, "criteria.png"))
