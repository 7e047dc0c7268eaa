"""Print the lbl / lbl_relu / fused comparison table from the out_*/dram_traffic.json files of run_stream.py.

Usage: python summarize.py [_accelsim]
  no argument: the 2 MiB SRAM runs (hardware/tpu_like_single_core.yaml);
  _accelsim:   the 1.25 MiB / 16 B/cycle variant (HW=tpu_like_single_core_accelsim.yaml).
Reads resnet18_int8.onnx and the out_* directories next to this script.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent

m = onnx.load(str(HERE / "resnet18_int8.onnx"), load_external_data=False)
full = {t.name: int(np.prod(t.dims)) for t in m.graph.initializer}

S = sys.argv[1] if len(sys.argv) > 1 else ""  # "_accelsim" for the 1.25 MiB / 16 B/cycle variant
H = "_tpu_like_single_core_accelsim" if S else ""
runs = [
    ("lbl", f"out_mapping_lbl{S}_resnet18_int8{H}"),
    ("lbl_relu", f"out_mapping_lbl_relu{S}_resnet18_int8{H}"),
    ("fused", f"out_mapping_fused{S}_resnet18_int8{H}"),
]
base = None
for tag, d in runs:
    with open(HERE / d / "dram_traffic.json") as f:
        j = json.load(f)
    s = j["summary"]
    node = sum(
        g["energy"]["node_pj_per_iteration"] * g["energy"]["total_pj"] / g["energy"]["per_iteration_pj"]
        for g in j["groups"]
    )
    w = {}
    for g in j["groups"]:
        for r in g["reads"]:
            if r["weight"]:
                w[r["tensor"]] = w.get(r["tensor"], 0) + r["tile_bits"] * r["fires"] // 8
    reread = {k: (v, full[k]) for k, v in w.items() if v != full[k]}
    base = base or s["dram_total_B"]
    print(
        f"{tag:9s} groups={s['n_groups']:2d} DRAM total={s['dram_total_B']:>11,.0f} B "
        f"(W {s['dram_read_weight_B']:,.0f}, act R {s['dram_read_act_B']:,.0f}, "
        f"act W {s['dram_write_B']:,.0f}) ratio/lbl={s['dram_total_B'] / base:.3f} "
        f"cycles={s['cycles']:,.0f} energy={s['energy_total_pJ'] / 1e6:.1f} uJ (compute {node / 1e6:.1f} uJ)"
    )
    print("    weight tensors read != once:", reread)
