#!/usr/bin/env python3
"""Writes data/perf/models/resnext101.json: the GEMMs of ResNeXt-101 32x8d at 224x224 (the network
of the whitepaper's Figure 2) from its architecture rules, so the 100-odd layers are not typed by
hand. Run from the repository root; the output is committed."""
import json

GROUPS, STAGES = 32, [(3, 256, 56), (4, 512, 28), (23, 1024, 14), (3, 2048, 7)]  # blocks, width=out, size


def eligible(channels_in_per_group, channels_out_per_group):
    # Apex ASP's rule: input channels a multiple of 16 and outputs a multiple of 8.
    return channels_in_per_group % 16 == 0 and channels_out_per_group % 8 == 0


def conv(name, cin, cout, kernel, size_in, size_out, groups=1, count=1):
    cg, kg = cin // groups, cout // groups
    return {"name": name, "m": kg, "k": cg * kernel * kernel, "n_per_example": size_out * size_out,
            "input_per_example": cg * size_in * size_in, "count": groups * count, "sparse": eligible(cg, kg)}


gemms = [conv("stem conv 7x7/2", 3, 64, 7, 224, 112)]
cin, size = 64, 56  # after the 3x3/2 max pool
for s, (blocks, width, out_size) in enumerate(STAGES, start=1):
    # First block: conv1 at the incoming size, the 3x3 (and the shortcut) carry the stride.
    gemms.append(conv(f"stage{s}.0 conv1 1x1", cin, width, 1, size, size))
    gemms.append(conv(f"stage{s}.0 conv2 3x3 g32" + ("/2" if size != out_size else ""), width, width, 3, size, out_size, GROUPS))
    gemms.append(conv(f"stage{s}.0 conv3 1x1", width, width, 1, out_size, out_size))
    gemms.append(conv(f"stage{s}.0 downsample 1x1" + ("/2" if size != out_size else ""), cin, width, 1, size, out_size))
    rest = blocks - 1
    gemms.append(conv(f"stage{s}.1-{rest} conv1 1x1", width, width, 1, out_size, out_size, count=rest))
    gemms.append(conv(f"stage{s}.1-{rest} conv2 3x3 g32", width, width, 3, out_size, out_size, GROUPS, count=rest))
    gemms.append(conv(f"stage{s}.1-{rest} conv3 1x1", width, width, 1, out_size, out_size, count=rest))
    cin, size = width, out_size
gemms.append({"name": "fc", "m": 1000, "k": 2048, "n_per_example": 1, "count": 1, "sparse": eligible(2048, 1000)})

doc = {
    "name": "resnext101",
    "source": "ResNeXt-101 32x8d (Xie et al., 'Aggregated Residual Transformations for Deep Neural Networks', "
              "CVPR 2017; torchvision's resnext101_32x8d, stride on the 3x3 convolution) at 224x224, the network of "
              "the whitepaper's Figure 2; written by scripts/gen-perf-models.py. Convolutions as implicit GEMMs: "
              "m = output channels per group, k = input channels per group x kernel area, n_per_example = output "
              "positions, input_per_example = the input tensor per group; count = groups x identical blocks. "
              "sparse: Apex ASP's eligibility rule (input channels per group a multiple of 16, outputs of 8), so the "
              "7x7 stem (3 input channels) and the stage-1 grouped convolutions (8 channels per group) stay dense.",
    "gemms": gemms,
}
with open("data/perf/models/resnext101.json", "w") as f:
    f.write("{\n  \"name\": %s,\n  \"source\": %s,\n  \"gemms\": [\n" % (json.dumps(doc["name"]), json.dumps(doc["source"])))
    f.write(",\n".join("    " + json.dumps(g) for g in gemms))
    f.write("\n  ]\n}\n")
