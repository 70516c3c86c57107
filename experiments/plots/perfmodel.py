"""`twofour perfmodel --png`: the roofline model's sparse speed-up of a whole network against batch
size, one line per GPU, between the bounds 1x and 2x, with what the whitepaper's deployment figure
states (ResNeXt-101 on A100) beside it.

Usage: perfmodel.py DOCUMENT.json OUT.png (the document `twofour perfmodel --json` writes)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

if len(sys.argv) != 3:
    sys.exit(f"usage: {sys.argv[0]} DOCUMENT.json OUT.png")
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
totals = [r for r in doc["records"] if r["gemm"] == "total"]
fig, ax = plt.subplots(figsize=(7.5, 4.8))
for gpu in dict.fromkeys(r["gpu"] for r in totals):
    pts = sorted((r["batch"], r["speedup"]) for r in totals if r["gpu"] == gpu)
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{gpu} roofline model")
fig2 = doc.get("figure2")
if fig2 and fig2.get("network") == doc["network"]:
    ax.axhline(fig2["max_throughput_ratio"], color="k", linestyle="--", linewidth=1,
               label=f"whitepaper: up to {fig2['max_throughput_ratio']:.2f}x measured ({fig2['gpu']}, TensorRT 8)")
    for b, s in fig2.get("per_batch_points", []):
        ax.plot([b], [s], "k^")
ax.axhline(1.0, color="grey", linewidth=0.8)
ax.axhline(2.0, color="grey", linewidth=0.8)
ax.set_xscale("log", base=2)
ax.set_ylim(0.9, 2.1)
ax.set_xlabel("batch size")
ax.set_ylabel("dense time / 2:4 time")
ax.set_title(f"2:4 speed-up of {doc['network']} ({doc['dtype']}), roofline from published peaks", fontsize=10)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
