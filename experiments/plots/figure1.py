"""`twofour show-24 --png`: the whitepaper's Figure 1 from real data: a matrix W, its 2:4 mask (the 2
largest |w| of each group of 4 along a row), the compressed values (M x K/2) and the 2-bit index of
each kept value inside its group (the metadata mma.sp reads).

Usage: figure1.py DATA.json OUT.png (DATA from twofour's figure1_data)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if len(sys.argv) != 3:
    sys.exit(f"usage: {sys.argv[0]} DATA.json OUT.png")
with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
rows, cols = d["rows"], d["cols"]
dense, mask = np.array(d["dense"], dtype=float), np.array(d["mask"], dtype=bool)
values, idx = np.array(d["values"], dtype=float), np.array(d["indices"], dtype=int)
cell = 0.42 if cols <= 16 else 0.3
fs = 7 if cols <= 16 else 5
fig, axes = plt.subplots(1, 4, figsize=(cell * (2 * cols + cols) + 3, cell * rows + 1.8),
                         gridspec_kw={"width_ratios": [cols, cols, cols / 2, cols / 2]})
lim = float(np.max(np.abs(dense))) or 1.0


def frame(ax, title, ncols, group):
    ax.set_title(title, fontsize=9)
    ax.set_xticks(range(ncols))
    ax.set_yticks(range(rows))
    ax.tick_params(labelsize=6)
    for x in range(group, ncols, group):
        ax.axvline(x - 0.5, color="k", linewidth=1.2)


ax = axes[0]
ax.imshow(np.where(mask, dense, np.nan), cmap="coolwarm", vmin=-lim, vmax=lim)
ax.imshow(np.where(mask, np.nan, 0.0), cmap="Greys", vmin=-1, vmax=1, alpha=0.6)
for r in range(rows):
    for c in range(cols):
        ax.text(c, r, f"{dense[r, c]:.2f}", ha="center", va="center", fontsize=fs,
                color="black" if mask[r, c] else "grey")
frame(ax, f"W {rows}x{cols} (grey: pruned)", cols, 4)
ax = axes[1]
ax.imshow(mask, cmap="Greens", vmin=0, vmax=1.6)
for r in range(rows):
    for c in range(cols):
        ax.text(c, r, "1" if mask[r, c] else "0", ha="center", va="center", fontsize=fs)
frame(ax, "2:4 mask (2 kept of every 4)", cols, 4)
ax = axes[2]
ax.imshow(values, cmap="coolwarm", vmin=-lim, vmax=lim)
for r in range(rows):
    for c in range(cols // 2):
        ax.text(c, r, f"{values[r, c]:.2f}", ha="center", va="center", fontsize=fs)
frame(ax, f"values {rows}x{cols // 2}", cols // 2, 2)
ax = axes[3]
ax.imshow(idx, cmap="Purples", vmin=-1, vmax=5)
for r in range(rows):
    for c in range(cols // 2):
        ax.text(c, r, f"{idx[r, c]}\n{idx[r, c]:02b}", ha="center", va="center", fontsize=fs)
frame(ax, "metadata: index in group (2 bits)", cols // 2, 2)
note = "input already 2:4" if d["already_24"] else "pruned to 2:4 by magnitude"
fig.suptitle(f"2:4 structured sparsity: W, mask, compressed values and metadata ({note})", fontsize=10)
# Leave the suptitle its own band (tight_layout ignores it): about 0.8 inch at the top.
fig.tight_layout(rect=(0, 0, 1, 1 - 0.8 / fig.get_size_inches()[1]))
fig.savefig(sys.argv[2], dpi=100)
