"""Reads an ONNX model for `twofour check`: every initializer as an array of an .npz, and a JSON
summary (opset, producer, metadata, and for each initializer its shape and the op and input slot
that consumes it).

Usage: read_onnx.py MODEL.onnx OUT.npz OUT.json. Needs the `onnx` and `numpy` packages."""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper

if len(sys.argv) != 4:
    sys.exit(f"usage: {sys.argv[0]} MODEL.onnx OUT.npz OUT.json")
try:
    model = onnx.load(sys.argv[1])
except Exception as e:  # noqa: BLE001  (any parse failure is the same answer: not an ONNX model)
    sys.exit(f"{sys.argv[1]}: not a readable ONNX model ({type(e).__name__}: {e})")
uses = {}
for node in model.graph.node:
    for slot, name in enumerate(node.input):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        uses.setdefault(name, {"op": node.op_type, "slot": slot, "node": node.name,
                               "transB": int(attrs.get("transB", 0)) if node.op_type == "Gemm" else None})
arrays, inits = {}, []
for i, t in enumerate(model.graph.initializer):
    a = numpy_helper.to_array(t)
    key = f"i{i}"
    arrays[key] = a.astype(np.float32) if a.dtype.kind == "f" else a
    inits.append({"name": t.name, "key": key, "shape": list(a.shape), "dtype": str(a.dtype), **({"use": uses[t.name]} if t.name in uses else {})})
np.savez(sys.argv[2], **arrays)
summary = {"ir_version": model.ir_version, "opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import},
           "producer": f"{model.producer_name} {model.producer_version}".strip(),
           "metadata": {p.key: p.value for p in model.metadata_props}, "initializers": inits}
with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump(summary, f)
