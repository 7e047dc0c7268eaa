"""Write Stream's own generated mappings (GenericMappingGenerator, stream-dse 2.1.1) for ResNet-18.

Targets the single-core TPU-like hardware and writes whole-network fixed-mapping YAMLs that share the
same layers (core allocation, asserted) and differ only in fused_groups:
  mapping_lbl.yaml      -- fusion_cut_points="per-layer": every layer its own group
  mapping_lbl_relu.yaml -- per layer, but each ReLU in the group of the layer that feeds it
  mapping_fused.yaml    -- the generator's default cut points (one group per residual block)
OVERRIDES (optional overrides.yaml, keys "<tag>:<group index>") replaces the generator's intra_core_tiling
of a fused group whose generated tiling the allocation MILP reports as (structurally) infeasible.

Usage: [HW=<hardware yaml>] [MAPSUFFIX=_accelsim] python gen_mappings.py [workload.onnx]
  HW: file under hardware/ (default tpu_like_single_core.yaml); MAPSUFFIX is appended to the file names.
  workload: resolved against this script's directory (default resnet18_int8.onnx).
Writes mapping_{lbl,fused,lbl_relu}<MAPSUFFIX>.yaml next to this script.
"""

import os
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

import yaml
from stream.frontends import load_workload
from stream.mapping.generic_generator import GenericMappingGenerator
from stream.stages.parsing.accelerator_parser import parse_accelerator
from stream.workload.node import HasIterationSpace

HERE = Path(__file__).resolve().parent

acc = parse_accelerator(str(HERE / "hardware" / os.environ.get("HW", "tpu_like_single_core.yaml")))
SUF = os.environ.get("MAPSUFFIX", "")
wl = load_workload(str(HERE / (sys.argv[1] if len(sys.argv) > 1 else "resnet18_int8.onnx")))
OVERRIDES = {}
if (HERE / "overrides.yaml").exists():
    with open(HERE / "overrides.yaml") as f:
        OVERRIDES = yaml.safe_load(f)


def merged(cut_points, tag):
    gen = GenericMappingGenerator(
        accelerator=acc, workload=wl, output_dir=tempfile.mkdtemp(), intra_core_tiling=None
    )
    paths, _subs = gen.generate_all_groups(cut_points=cut_points)
    layers, groups = {}, []
    for i, p in enumerate(paths):
        with open(p) as f:
            d = yaml.safe_load(f)
        for layer in d["layers"]:
            layers[layer["name"]] = layer
        for g in d["fused_groups"]:
            g = dict(g, name=f"{tag}_group_{i}")
            key = f"{tag}:{i}"
            if key in OVERRIDES:
                g["intra_core_tiling"] = OVERRIDES[key]
            groups.append(g)
    return {"layers": list(layers.values()), "fused_groups": groups}


def by_name(m):
    return {layer["name"]: layer for layer in m["layers"]}


names = [n.name for n in wl.dataflow_sort() if isinstance(n, HasIterationSpace)]
lbl = merged(names[:-1], "lbl")
fused = merged(None, "fused")
# Variant: layer-by-layer with each ReLU folded into the layer that feeds it (Conv+ReLU, Add+ReLU one group),
# closer to an accelerator that applies the activation on the way out of the array.
nodes = [n for n in wl.dataflow_sort() if isinstance(n, HasIterationSpace)]
if hasattr(wl, "predecessors_cn"):
    keep = [
        a.name
        for a, b in pairwise(nodes)
        if not (b.name.endswith("Relu") and a in set(wl.predecessors_cn(b)))
    ]
else:
    keep = [a.name for a, b in pairwise(nodes) if not b.name.endswith("Relu")]
lbl_relu = merged(keep, "lblrelu")
assert by_name(lbl) == by_name(fused), "layers differ"
assert by_name(lbl_relu) == by_name(fused), "layers differ"
for tag, m in (("lbl", lbl), ("fused", fused), ("lbl_relu", lbl_relu)):
    with open(HERE / f"mapping_{tag}{SUF}.yaml", "w") as f:
        yaml.safe_dump(m, f, sort_keys=False)
    print(tag, len(m["fused_groups"]), "groups")
