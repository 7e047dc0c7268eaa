"""Run Stream (stream-dse 2.1.1) on ResNet-18 on one TPU-like core and total the off-chip (DRAM) traffic
over ALL fused groups.

It wraps MemoryAccessesEstimationStage.calculate_memory_accesses (run once per fused group) to log what
Stream charges to the off-chip core: reads of each group's InEdges and writes of its OutEdges.

Usage: [HW=<hardware yaml>] /tmp/streamvenv/bin/python run_stream.py MODE [time_limit_s] [workload.onnx]
  MODE: a mapping YAML (e.g. mapping_lbl.yaml, mapping_fused.yaml from gen_mappings.py): fixed mapping;
        lbl   -> GenericMappingGenerator with fusion_cut_points="per-layer" (one group per layer);
        fused -> GenericMappingGenerator with its default cut points (Stream's own fusion grouping).
  time_limit_s: MILP time limit per group (default 20). workload: default resnet18.onnx.
  HW: file under hardware/ (default tpu_like_single_core.yaml).
MODE and workload are resolved against this script's directory. Results go to
out_<mode stem>_<workload stem>[_<HW stem>]/dram_traffic.json next to this script; the summary is printed.
"""

import json
import os
import sys
import time
from math import prod
from pathlib import Path

from stream.api import SolveOptions, evaluate_mapping
from stream.stages.estimation import memory_accesses_estimation as mae
from stream.stages.generation.generic_mapping_generation import PER_LAYER
from stream.workload.node import InEdge, OutEdge

HERE = Path(__file__).resolve().parent
mode = sys.argv[1]  # lbl | fused | a mapping YAML path (fixed mapping)
tl = float(sys.argv[2]) if len(sys.argv) > 2 else 20
onnx = str(HERE / (sys.argv[3] if len(sys.argv) > 3 else "resnet18.onnx"))
hw = str(HERE / "hardware" / os.environ.get("HW", "tpu_like_single_core.yaml"))
mapping = str(HERE / mode) if mode.endswith(".yaml") else None
hw_tag = "_" + Path(hw).stem if "HW" in os.environ else ""
out = str(HERE / ("out_" + Path(mode).stem + "_" + Path(onnx).stem + hw_tag))

GROUPS = []  # one dict per fused group, filled by the patched MemoryAccessesEstimationStage


def _patched_calc(self):
    """Stream's own calculate_memory_accesses, plus an exact per-tensor DRAM bit log for this group."""
    off = self.accelerator.offchip_core_id
    rec = {"group": len(GROUPS), "reads": [], "writes": []}
    for tn in self.workload.get_transfer_nodes():
        ssis = self.ssis.get(tn)
        nb_fires = prod(ssis.get_applicable_temporal_sizes()) // ssis.reuse_factor()
        for i, tensor in enumerate(tn.inputs):
            src = list(self.workload.predecessors(tn))[i]
            if isinstance(src, InEdge):  # Stream charges these reads to the off-chip core
                t = self.workload.get_tensor_of_transfer_from_single_core(tensor, tn, self.mapping)
                rec["reads"].append(
                    {
                        "tensor": tensor.name,
                        "weight": bool(src.parameter),
                        "tile_bits": int(t.size_bits()),
                        "fires": int(nb_fires),
                        "full_bits": int(tensor.size_bits()),
                    }
                )
        for i, tensor in enumerate(tn.outputs):
            dst = list(self.workload.successors(tn))[i]
            if isinstance(dst, OutEdge):  # Stream charges these writes to the off-chip core
                t = self.workload.get_tensor_of_transfer_to_single_core(
                    tensor, tn, self.mapping, ssis=self.ssis.get(tensor)
                )
                rec["writes"].append(
                    {
                        "tensor": tensor.name,
                        "tile_bits": int(t.size_bits()),
                        "fires": int(nb_fires),
                        "full_bits": int(tensor.size_bits()),
                    }
                )
    _orig_calc(self)
    ir = self.core_memory_accesses.to_ir(off)
    rec["stream_ir_offchip"] = [c for c in ir["cores"] if c["is_offchip"]] if isinstance(ir, dict) else None
    rec["layers"] = [n.name for n in self.workload.get_computation_nodes()]
    sol = self.ctx.get("allocation").solution
    perf = getattr(sol, "performance", None)
    perf = perf.model_dump() if hasattr(perf, "model_dump") else perf
    rec["energy"] = perf.get("energy") if isinstance(perf, dict) else None
    rec["latency_total"] = sol.latency.total
    GROUPS.append(rec)


_orig_calc = mae.MemoryAccessesEstimationStage.calculate_memory_accesses
mae.MemoryAccessesEstimationStage.calculate_memory_accesses = _patched_calc

stage_options = {"fusion_cut_points": PER_LAYER} if mode == "lbl" else {}
t0 = time.time()
# The default families already include "energy" (reports pJ, adds no constraint).
est = evaluate_mapping(
    hw,
    onnx,
    output_path=out,
    mapping=mapping,
    options=SolveOptions(time_limit_s=tl, artifacts=False, stage_options=stage_options),
)
wall = time.time() - t0


def byts(rows):
    return sum(r["tile_bits"] * r["fires"] for r in rows) / 8


summary = {
    "mode": mode,
    "n_groups": len(est.group_cycles),
    "cycles": est.cycles,
    "group_cycles": list(est.group_cycles),
    "dispatch_cycles": est.dispatch_cycles,
    "wall_s": wall,
}
tot_r = sum(byts(g["reads"]) for g in GROUPS)
tot_rw = sum(byts([r for r in g["reads"] if r["weight"]]) for g in GROUPS)
tot_w = sum(byts(g["writes"]) for g in GROUPS)
summary.update(
    dram_read_B=tot_r,
    dram_read_weight_B=tot_rw,
    dram_read_act_B=tot_r - tot_rw,
    dram_write_B=tot_w,
    dram_total_B=tot_r + tot_w,
)
# Cross-check from Stream's own counters: accesses x port bandwidth (bits), ceil-rounded per fire
chk = 0
for g in GROUPS:
    for c in g["stream_ir_offchip"] or []:
        chk += c["read"] * c["read_bandwidth"] + c["write"] * c["write_bandwidth"]
summary["dram_total_B_from_stream_counters"] = chk / 8
en = [g["energy"] for g in GROUPS]
summary["energy_total_pJ"] = sum(e["total_pj"] for e in en) if all(en) else None
(Path(out)).mkdir(exist_ok=True, parents=True)
with open(f"{out}/dram_traffic.json", "w") as f:
    json.dump({"summary": summary, "groups": GROUPS}, f, indent=1)
print(json.dumps(summary, indent=1))
