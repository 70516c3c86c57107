#!/usr/bin/env python3
"""Writes a synthetic Llama-style bf16 checkpoint for benchmarks/checkpoint_bench.sh: 3 shards +
model.safetensors.index.json + config.json, MLP weights of (4096, 11008) / (11008, 4096) and
attention weights of (4096, 4096), random normal values (bf16 = the upper 16 bits of float32),
until the requested size is reached. Usage: make_checkpoint.py OUT_DIR SIZE_BYTES"""
import json
import os
import struct
import sys

import numpy as np


def tensors(total):
    hidden, inter = 4096, 11008
    out, size, layer = [], 0, 0
    while size < total:
        for name, shape in [("self_attn.q_proj", (hidden, hidden)), ("self_attn.k_proj", (hidden, hidden)),
                            ("self_attn.v_proj", (hidden, hidden)), ("self_attn.o_proj", (hidden, hidden)),
                            ("mlp.gate_proj", (inter, hidden)), ("mlp.up_proj", (inter, hidden)),
                            ("mlp.down_proj", (hidden, inter))]:
            out.append((f"model.layers.{layer}.{name}.weight", shape))
            size += 2 * shape[0] * shape[1]
            if size >= total:
                break
        out.append((f"model.layers.{layer}.input_layernorm.weight", (hidden,)))
        layer += 1
    return out


def main():
    out_dir, total = sys.argv[1], int(sys.argv[2])
    os.makedirs(out_dir, exist_ok=False)
    rng = np.random.default_rng(0)
    all_tensors = tensors(total)
    shards = [all_tensors[i::3] for i in range(3)]
    weight_map, total_size = {}, 0
    for s, items in enumerate(shards):
        name = f"model-{s + 1:05d}-of-00003.safetensors"
        header, at = {"__metadata__": {"format": "pt"}}, 0
        for t, shape in items:
            n = int(np.prod(shape)) * 2
            header[t] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [at, at + n]}
            at += n
            weight_map[t] = name
        text = json.dumps(header).encode()
        text += b" " * ((8 - len(text) % 8) % 8)
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for t, shape in items:
                rows = shape[0]
                cols = shape[1] if len(shape) > 1 else 1
                for r0 in range(0, rows, 512):  # a block at a time: memory stays small
                    block = rng.standard_normal((min(512, rows - r0), cols), dtype=np.float32)
                    f.write((block.view(np.uint32) >> 16).astype(np.uint16).tobytes())
        total_size += at
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total_size}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "hidden_size": 4096, "torch_dtype": "bfloat16"}, f, indent=2)


main()
