#!/usr/bin/env python3
"""Training speed of twofour next to PyTorch on the same CPU, work and data.

Both sides train the models of docs/training.md (mlp 784-300-100-10, the BatchNorm cnn) for one
epoch of --images images in batches of 128: SGD with momentum 0.9, lr 0.05, weight decay 5e-4 on
weights only, the cosine schedule advanced every step (twofour's TrainConfig defaults). Phases:
  dense   - plain training;
  retrain - ASP-style masked retraining after 2:4 magnitude pruning (groups of 4 along the input
            channels) of the layers twofour prunes: gradients of pruned weights are zeroed before
            each step and the weights re-masked after it (in PyTorch dense arithmetic on zeros).
twofour's figures come from `twofour_train_bench --benchmark_filter=BM_Epoch` (nn::train, an asp
run of one epoch per phase), run here with the same images, data and thread counts. images/s =
images of the epoch / its wall time; medians over --repetitions runs.

PyTorch comes from PyPI into a cached virtual environment:
  benchmarks/train_peer.py --install-peer     # once: creates ~/.cache/twofour/peer-venv
  benchmarks/train_peer.py                    # measures (re-runs itself under that venv)
"""
import argparse
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = Path.home() / ".cache" / "twofour" / "peer-venv"
DEFAULT_DATA = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_BENCH = REPO / "build" / "release" / "benchmarks" / "twofour_train_bench"
BATCH = 128
LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 5e-4
MEAN, STD = 0.2860, 0.3530  # twofour's Fashion-MNIST normalisation (nn/data.hpp)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--install-peer", action="store_true", help="create the venv and pip-install torch from PyPI")
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"the peer venv (default {DEFAULT_VENV})")
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    p.add_argument("--models", default="mlp,cnn", help="models, comma-separated (default mlp,cnn)")
    p.add_argument("--phases", default="dense,retrain", help="dense, retrain or both (default)")
    p.add_argument("--images", type=int, default=60000, help="images per epoch (default 60000, the full set)")
    p.add_argument("--repetitions", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--data", type=Path, default=None,
                   help=f"Fashion-MNIST folder (default {DEFAULT_DATA} if present, else synthetic data)")
    p.add_argument("--synthetic", action="store_true", help="synthetic normal pixels even if the data is present")
    p.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help=f"twofour_train_bench (default {DEFAULT_BENCH})")
    p.add_argument("--no-twofour", action="store_true", help="PyTorch only")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    a = p.parse_args()
    try:
        a.thread_list = [int(t) for t in a.threads.split(",") if t]
    except ValueError:
        p.error(f"--threads: not a list of integers: {a.threads}")
    a.model_list = [m for m in a.models.split(",") if m]
    a.phase_list = [ph for ph in a.phases.split(",") if ph]
    if not a.thread_list or min(a.thread_list) < 1:
        p.error("--threads: give positive counts")
    if not a.model_list or any(m not in ("mlp", "cnn") for m in a.model_list):
        p.error("--models: mlp and/or cnn")
    if not a.phase_list or any(ph not in ("dense", "retrain") for ph in a.phase_list):
        p.error("--phases: dense and/or retrain")
    if a.images < 2 or a.repetitions < 1:
        p.error("--images must be >= 2 and --repetitions >= 1")
    if a.data is None and not a.synthetic and (DEFAULT_DATA / "train-images-idx3-ubyte.gz").exists():
        a.data = DEFAULT_DATA
    if a.synthetic:
        a.data = None
    return a


def venv_python(venv):
    return venv / "bin" / "python"


def install_peer(venv):
    if not venv_python(venv).exists():
        print(f"creating {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # PyPI's torch wheel for Linux (it pulls NVIDIA libraries too: several GB; the CPU path is the
    # same oneDNN/MKL code).
    subprocess.run([str(venv_python(venv)), "-m", "pip", "install", "--upgrade", "torch"], check=True)


def ensure_torch(args):
    """Returns with torch importable, re-executing under the venv's python when needed."""
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    py = venv_python(args.venv)
    # Compared by prefix: a venv's python is usually a symlink to the system one.
    if py.exists() and Path(sys.prefix).resolve() != args.venv.resolve():
        os.execv(str(py), [str(py), str(Path(__file__).resolve())] + sys.argv[1:])
    hint = f"{Path(__file__).resolve()} --install-peer" + (f" --venv {args.venv}" if args.venv != DEFAULT_VENV else "")
    sys.exit(f"train_peer.py: PyTorch is not installed (no torch in {args.venv}); run:\n  {hint}")


# ----------------------------------------------------------------------------- data
def read_idx(path):
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return dims, raw[4 + 4 * rank:]


def load_data(args):
    import torch
    n = args.images
    if args.data is None:
        g = torch.Generator().manual_seed(7)
        return torch.randn(n, 1, 28, 28, generator=g), torch.arange(n) % 10
    dims, pixels = read_idx(args.data / "train-images-idx3-ubyte.gz")
    _, labels = read_idx(args.data / "train-labels-idx1-ubyte.gz")
    if n > dims[0]:
        sys.exit(f"train_peer.py: --images {n} but {args.data} holds {dims[0]} training images")
    x = torch.frombuffer(bytearray(pixels[: n * 784]), dtype=torch.uint8).float().div_(255.0)
    x = ((x - MEAN) / STD).reshape(n, 1, 28, 28)
    y = torch.frombuffer(bytearray(labels[:n]), dtype=torch.uint8).long()
    return x, y


# ----------------------------------------------------------------------------- models
def make_model(kind):
    import torch.nn as nn
    if kind == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                            nn.Linear(100, 10))
        targets = [net[1], net[3]]
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.Flatten(),
            nn.Linear(3136, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
        targets = [net[4], net[8], net[12]]
    for m in net.modules():  # He-normal weights and zero biases, as twofour initialises
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net, [t.weight for t in targets]


def optimizer(net):
    import torch
    decay = [p for p in net.parameters() if p.dim() > 1]
    plain = [p for p in net.parameters() if p.dim() <= 1]
    return torch.optim.SGD([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": plain, "weight_decay": 0.0}],
                           lr=LR, momentum=MOMENTUM)


def mask_24(w):
    """Keep the 2 largest |w| of every 4 consecutive input channels (dim 1)."""
    import torch
    v = w.detach().movedim(1, -1)  # (out, [R, S,] in)
    groups = v.abs().reshape(-1, 4)
    keep = torch.zeros_like(groups, dtype=torch.bool)
    keep.scatter_(1, groups.topk(2, dim=1).indices, True)
    return keep.reshape(v.shape).movedim(-1, 1).to(w.dtype)


def epoch(net, opt, x, y, masks, seed):
    """One epoch; returns its wall and process CPU time. masks: None (dense) or [(param, mask)]."""
    import torch
    import torch.nn.functional as F
    net.train()
    n = x.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    batches = (n + BATCH - 1) // BATCH
    t0, c0 = time.perf_counter(), time.process_time()
    for b in range(batches):
        idx = order[b * BATCH:(b + 1) * BATCH]
        if idx.numel() < 2:
            continue  # BatchNorm needs two examples
        lr = LR * 0.5 * (1.0 + math.cos(math.pi * b / batches))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x[idx]), y[idx])
        loss.backward()
        if masks:
            for p, m in masks:
                p.grad.mul_(m)
        opt.step()
        if masks:
            with torch.no_grad():
                for p, m in masks:
                    p.mul_(m)
    return time.perf_counter() - t0, time.process_time() - c0


def torch_runs(args, x, y, threads, kind, rep, out):
    """One repetition of PyTorch's phases; appends images/s to out[(kind, phase, threads)]."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(rep)
    net, targets = make_model(kind)
    seconds = epoch(net, optimizer(net), x, y, None, rep)
    out.setdefault((kind, "dense", threads), []).append([x.shape[0] / s for s in seconds])
    if "retrain" in args.phase_list:
        masks = [(w, mask_24(w)) for w in targets]
        with torch.no_grad():
            for w, m in masks:
                w.mul_(m)
        seconds = epoch(net, optimizer(net), x, y, masks, 1000 + rep)
        out.setdefault((kind, "retrain", threads), []).append([x.shape[0] / s for s in seconds])


def torch_warm_up(args, x, y):
    """oneDNN builds its kernels on first use: 10 masked batches per model and thread count."""
    import torch
    for threads in args.thread_list:
        torch.set_num_threads(threads)
        for kind in args.model_list:
            net, targets = make_model(kind)
            epoch(net, optimizer(net), x[: 10 * BATCH], y[: 10 * BATCH], [(w, mask_24(w)) for w in targets], 99)


def twofour_runs(args, threads, out):
    """One repetition of twofour_train_bench's BM_Epoch for every model; appends to out."""
    cmd = [str(args.bench), "--benchmark_filter=BM_Epoch_(" + "|".join(args.model_list) + ")/",
           "--benchmark_format=json", "--epoch-images", str(args.images)]
    if args.data is not None:
        cmd += ["--data", str(args.data)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"train_peer.py: {' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
    for b in json.loads(res.stdout)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        kind = b["run_name"].split("BM_Epoch_")[1].split("/")[0]
        for phase in args.phase_list:
            out.setdefault((kind, phase, threads), []).append([b[f"{phase}_img/s"], b[f"{phase}_img/cpu_s"]])


def measure(args, x, y):
    """Medians of both sides. Repetitions alternate twofour and PyTorch, so that both see the
    same background load on a shared machine."""
    if not args.no_twofour and not args.bench.exists():
        sys.exit(f"train_peer.py: {args.bench} not found; build it first: "
                 "cmake --preset release && cmake --build build/release --target twofour_train_bench")
    torch_warm_up(args, x, y)
    tf, pt = {}, {}
    for rep in range(args.repetitions):
        for threads in args.thread_list:
            if not args.no_twofour:
                twofour_runs(args, threads, tf)
            for kind in args.model_list:
                torch_runs(args, x, y, threads, kind, rep, pt)
        print(f"  repetition {rep + 1}/{args.repetitions} done", file=sys.stderr)
    def med(runs):  # per key: (median images/s, median images per CPU second)
        return {key: tuple(statistics.median(v[i] for v in values) for i in range(2)) for key, values in runs.items()}
    return med(tf), med(pt)


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    args = parse_args()
    if args.install_peer:
        install_peer(args.venv)
    ensure_torch(args)
    import torch
    x, y = load_data(args)
    data = str(args.data) if args.data else "synthetic"
    print(f"{cpu_name()}, {os.cpu_count()} CPUs; torch {torch.__version__}; {args.images} images per epoch "
          f"({data}); batch {BATCH}; median of {args.repetitions}", file=sys.stderr)
    tf, pt = measure(args, x, y)
    print(f"\n{cpu_name()}; {args.images} images/epoch ({data}); batch {BATCH}; median of {args.repetitions} runs; "
          f"torch {torch.__version__}")
    print("images/s = images / wall time of the epoch; in parentheses images per CPU second of the process "
          "(all threads), steadier on a shared machine")
    print("| model | phase | threads | twofour images/s | PyTorch images/s | twofour / PyTorch |")
    print("|---|---|---|---|---|---|")
    rows = []
    for kind in args.model_list:
        for phase in args.phase_list:
            for threads in args.thread_list:
                key = (kind, phase, threads)
                t, p = tf.get(key), pt[key]
                tcell = f"{t[0]:,.0f} ({t[1]:,.0f})" if t else "-"
                ratio = f"{t[0] / p[0]:.2f} ({t[1] / p[1]:.2f})" if t else "-"
                print(f"| {kind} | {phase} | {threads} | {tcell} | {p[0]:,.0f} ({p[1]:,.0f}) | {ratio} |")
                rows.append({"model": kind, "phase": phase, "threads": threads,
                             "twofour_images_per_s": t[0] if t else None, "twofour_images_per_cpu_s": t[1] if t else None,
                             "pytorch_images_per_s": p[0], "pytorch_images_per_cpu_s": p[1]})
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "torch": torch.__version__, "images": args.images,
                                         "data": data, "repetitions": args.repetitions, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
