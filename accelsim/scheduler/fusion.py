"""The fuse pass: which convs and adds become one ConvAdd, in what order the layers run.

A conv fuses with the add after it when the add is the conv's only consumer
(so the residual, the add's other input, cannot depend on the conv and can be
ready before the ConvAdd starts). The pass returns the layers in an
order that runs every layer after its inputs' producers (the residual's
producer moved ahead of the conv when needed), and says for each add why it
did not fuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.graph import topological_order
from accelsim.workload import Add, Conv, Op, Workload


@dataclass(frozen=True)
class Layer:
    """One scheduling unit: a lone op, or a conv and its add fused (`add` set)."""

    op: Op
    add: Add | None = None

    @property
    def name(self) -> str:
        return f"{self.op.name}+{self.add.name}" if self.add else self.op.name

    @property
    def output(self) -> str:
        return (self.add or self.op).output

    @property
    def residual(self) -> str | None:
        if self.add is None:
            return None
        a, b = self.add.inputs
        return b if a == self.op.output else a


@dataclass(frozen=True)
class FusionPlan:
    layers: tuple[Layer, ...]
    not_fused: dict[str, str]           # add name -> why it runs on its own

    @property
    def fused(self) -> list[str]:
        return [layer.add.name for layer in self.layers if layer.add]


def plan_fusion(workload: Workload) -> FusionPlan:
    """Fuse every conv -> add pair that can fuse; order the layers."""
    producer = {op.output: op for op in workload.ops}
    fused_with: dict[str, Add] = {}
    not_fused = {}
    for op in workload.ops:
        if not isinstance(op, Add):
            continue
        reasons = []
        if op.inputs[0] == op.inputs[1]:
            not_fused[op.name] = "it adds a tensor to itself"
            continue
        for t in op.inputs:
            conv = producer.get(t)
            if not isinstance(conv, Conv):
                continue
            if conv.name in fused_with:
                reasons.append(f"{conv.name} already fuses with {fused_with[conv.name].name}")
            elif len(workload.consumers(conv.output)) != 1:
                reasons.append(f"{conv.name}'s output is also read by another op")
            else:
                fused_with[conv.name] = op
                break
        else:
            not_fused[op.name] = "; ".join(reasons) or "neither input comes from a conv"

    fused_adds = {add.name for add in fused_with.values()}
    layers = [Layer(op, fused_with.get(op.name)) for op in workload.ops if op.name not in fused_adds]
    made_by = {layer.output: k for k, layer in enumerate(layers)}
    made_by.update({layer.op.output: k for k, layer in enumerate(layers) if layer.add})
    needs = []
    for k, layer in enumerate(layers):
        inputs = set(layer.op.inputs) | ({layer.residual} if layer.residual else set())
        needs.append({made_by[t] for t in inputs if t in made_by and made_by[t] != k})
    order, _ = topological_order(needs)
    return FusionPlan(tuple(layers[k] for k in order), not_fused)
