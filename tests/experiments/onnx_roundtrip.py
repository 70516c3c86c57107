"""The ONNX round trip's independent side: runs an exported model with onnxruntime (CPU) on the
images twofour evaluated and compares with twofour's fp32 logits.

Usage: onnx_roundtrip.py MODEL.onnx IMAGES.npy TWOFOUR_LOGITS.npy. Prints one line of numbers.
Exit 0: every prediction (argmax) equal and every logit within the tolerance; 1: not so;
77: onnxruntime is not installed (the calling test skips)."""
import sys

import numpy as np

try:
    import onnxruntime as ort
except ImportError:
    print("onnxruntime is not installed (pip install onnxruntime; ./scripts/install-deps does)")
    sys.exit(77)

model, images, expected = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
options = ort.SessionOptions()
# No graph rewrites (BatchNorm folding, fused kernels): the ONNX graph as written is what is checked.
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
got = session.run(["logits"], {"input": images.astype(np.float32)})[0]
if got.shape != expected.shape:
    print(f"shape {got.shape} != {expected.shape}")
    sys.exit(1)
same = int((got.argmax(1) == expected.argmax(1)).sum())
diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
# fp32 rounding: both sides compute the same sums in different orders; allow 2^-16 (about 2^7
# units in the last place) of the logit's magnitude, floored at 2^-16 for logits near zero.
scale = np.maximum(np.abs(expected.astype(np.float64)), 1.0)
worst = float((diff / scale).max())
print(f"predictions equal {same}/{len(expected)}, max |logit diff| {diff.max():.3g}, max relative {worst:.3g}")
sys.exit(0 if same == len(expected) and worst <= 2.0 ** -16 else 1)
