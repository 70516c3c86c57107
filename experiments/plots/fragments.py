"""`twofour explain NAME --png`: an mma / mma.sp row's fragments as coloured grids, in the manner of
CuTe's layout pictures: one cell per matrix element, coloured by the lane (thread) that holds it and
labelled with the lane and the register[element] it sits in. A is drawn as stored (compressed for
mma.sp), E as the A rows x chunks that each metadata nibble describes.

Usage: fragments.py PANELS.json OUT.png (PANELS from twofour's fragment_panels)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

if len(sys.argv) != 3:
    sys.exit(f"usage: {sys.argv[0]} PANELS.json OUT.png")
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
panels = doc["panels"]
# 32 distinguishable colours, one per lane: lanes of one quad (same row group) get neighbouring hues.
palette = [plt.get_cmap("tab20")(i) for i in range(20)] + [plt.get_cmap("tab20b")(i) for i in range(12)]
lane_colour = ListedColormap(palette)
cell = 0.34
max_rows = max(p["rows"] for p in panels)
total_cols = sum(p["cols"] for p in panels)
fig, axes = plt.subplots(1, len(panels), figsize=(cell * total_cols + 1.2 * len(panels) + 1, cell * max_rows + 1.6),
                         gridspec_kw={"width_ratios": [p["cols"] for p in panels]}, squeeze=False)
for ax, p in zip(axes[0], panels):
    grid = [[float("nan")] * p["cols"] for _ in range(p["rows"])]
    for row, col, lane, label in p["cells"]:
        grid[row][col] = lane
        ax.text(col, row, f"T{lane}\n{label}", ha="center", va="center", fontsize=4.2)
    ax.imshow(grid, cmap=lane_colour, vmin=-0.5, vmax=31.5, aspect="equal")
    ax.set_title(p["title"], fontsize=8)
    ax.set_xticks(range(p["cols"]))
    ax.set_yticks(range(p["rows"]))
    ax.tick_params(labelsize=5)
fig.suptitle(f"{doc['name']}   {doc['ptx']}\ncell: T<lane> over <register>[<element within the 32-bit register>]",
             fontsize=9)
# Leave the suptitle its own band (tight_layout ignores it): about 0.8 inch at the top.
fig.tight_layout(rect=(0, 0, 1, 1 - 0.8 / fig.get_size_inches()[1]))
fig.savefig(sys.argv[2], dpi=90 if max_rows <= 32 else 60)
