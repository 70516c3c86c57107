"""Plots of `twofour reproduce`: test accuracy per epoch (dense phase, then 2:4 retraining) per
model with a band of ±1 std over seeds, and the final accuracies by network and arithmetic.

usage: reproduce.py results.json OUT_DIR"""
import sys

import numpy as np

from study_common import load, mean_std, plt, save

ARITHMETICS = ["fp32", "fp16-sm80", "fp16-sm90", "int8"]
VARIANTS = [("dense", "dense"), ("oneshot", "2:4 one-shot"), ("retrained", "2:4 retrained")]


def curves(rows, meta, model, out_dir):
    runs = [h["history"] for h in meta["histories"] if h["model"] == model]
    if not runs:
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for phase, colour, label in [("dense", "tab:blue", "dense training"), ("retrain", "tab:orange", "2:4 retraining (mask fixed)")]:
        per_seed = [[100 * e["test_accuracy"] for e in h if e["phase"] == phase] for h in runs]
        length = min(len(a) for a in per_seed)
        if length == 0:
            continue
        data = np.array([a[:length] for a in per_seed])
        offset = 0 if phase == "dense" else max(sum(1 for e in h if e["phase"] == "dense") for h in runs)
        epochs = np.arange(1, length + 1) + offset
        mean = data.mean(axis=0)
        std = data.std(axis=0, ddof=1) if data.shape[0] > 1 else np.zeros(length)
        ax.plot(epochs, mean, marker="o", color=colour, label=label)
        ax.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.2)
    # The pruned, not yet retrained network, where the retraining starts from.
    oneshot, _ = mean_std([100 * r["accuracy"] for r in rows
                           if r["model"] == model and r["variant"] == "oneshot" and r["arithmetic"] == "fp32"])
    dense_epochs = max(sum(1 for e in h if e["phase"] == "dense") for h in runs)
    if np.isfinite(oneshot):
        ax.plot([dense_epochs + 0.5], [oneshot], marker="X", markersize=10, color="tab:red", linestyle="none",
                label="2:4 one-shot (pruned, before retraining)")
    ax.set_xlabel("epoch (dense phase, then retraining)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{model}: {meta['mode']} mode, {meta['seeds']} seed(s)")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, f"{out_dir}/curves_{model}.png")


def bars(rows, meta, out_dir):
    models = [p["model"] for p in meta["plans"]]
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4.0), squeeze=False)
    width = 0.8 / len(ARITHMETICS)
    for ax, model in zip(axes[0], models):
        for i, arithmetic in enumerate(ARITHMETICS):
            means, stds = [], []
            for variant, _ in VARIANTS:
                m, s = mean_std([100 * r["accuracy"] for r in rows
                                 if r["model"] == model and r["variant"] == variant and r["arithmetic"] == arithmetic])
                means.append(m)
                stds.append(s)
            x = np.arange(len(VARIANTS)) + (i - (len(ARITHMETICS) - 1) / 2) * width
            ax.bar(x, means, width, yerr=stds, capsize=3, label=arithmetic)
        finite = [100 * r["accuracy"] for r in rows if r["model"] == model]
        ax.set_ylim(max(0.0, min(finite) - 5), min(100.0, max(finite) + 2))
        ax.set_xticks(np.arange(len(VARIANTS)))
        ax.set_xticklabels([label for _, label in VARIANTS])
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(model)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower left")
    save(fig, f"{out_dir}/accuracy.png")


def main():
    rows, meta, out_dir = load(sys.argv)
    for plan in meta["plans"]:
        curves(rows, meta, plan["model"], out_dir)
    bars(rows, meta, out_dir)


if __name__ == "__main__":
    main()
