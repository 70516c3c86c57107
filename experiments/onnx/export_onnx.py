"""Writes an ONNX model from the graph twofour describes (`twofour export --onnx`): the layers in
order, their weights as plain float32 initializers (2:4-pruned ones keep their zeros, so TensorRT's
sparse-weights option can find them), and twofour's notes as model metadata.

Usage: export_onnx.py GRAPH.json WEIGHTS.npz OUT.onnx. Needs the `onnx` and `numpy` packages.
The ONNX checker runs on the result before it is written."""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

if len(sys.argv) != 4:
    sys.exit(f"usage: {sys.argv[0]} GRAPH.json WEIGHTS.npz OUT.onnx")
with open(sys.argv[1], encoding="utf-8") as f:
    g = json.load(f)
weights = np.load(sys.argv[2])

nodes, inits = [], []
current = "input"


def init(name):
    inits.append(numpy_helper.from_array(np.ascontiguousarray(weights[name], dtype=np.float32), name))
    return name


for i, layer in enumerate(g["layers"]):
    out = "logits" if i == len(g["layers"]) - 1 else f"{layer['name']}_out"
    op = layer["op"]
    if op == "Gemm":
        ins = [current, init(layer["weight"])] + ([init(layer["bias"])] if layer.get("bias") else [])
        nodes.append(helper.make_node("Gemm", ins, [out], name=layer["name"], transB=1))
    elif op == "Conv":
        ins = [current, init(layer["weight"])] + ([init(layer["bias"])] if layer.get("bias") else [])
        k, s, p = layer["kernel"], layer["stride"], layer["padding"]
        nodes.append(helper.make_node("Conv", ins, [out], name=layer["name"], kernel_shape=[k, k], strides=[s, s],
                                      pads=[p, p, p, p]))
    elif op == "BatchNormalization":
        ins = [current] + [init(layer[key]) for key in ("scale", "bias", "mean", "var")]
        nodes.append(helper.make_node("BatchNormalization", ins, [out], name=layer["name"], epsilon=layer["epsilon"]))
    elif op == "Relu":
        nodes.append(helper.make_node("Relu", [current], [out], name=layer["name"]))
    elif op == "MaxPool":
        k, s = layer["kernel"], layer["stride"]
        nodes.append(helper.make_node("MaxPool", [current], [out], name=layer["name"], kernel_shape=[k, k], strides=[s, s]))
    elif op == "Flatten":
        nodes.append(helper.make_node("Flatten", [current], [out], name=layer["name"], axis=1))
    else:
        sys.exit(f"export_onnx.py: unknown layer op '{op}'")
    current = out

graph = helper.make_graph(
    nodes, g["name"],
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch"] + g["input_shape"])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", g["classes"]])],
    initializer=inits)
model = helper.make_model(graph, producer_name="twofour", producer_version=g["producer_version"],
                          opset_imports=[helper.make_opsetid("", g["opset"])], doc_string=g["doc"])
model.ir_version = g["ir_version"]
helper.set_model_props(model, g["metadata"])
onnx.checker.check_model(model, full_check=True)
onnx.save(model, sys.argv[3])
