"""Write the network traces in traces/ from the published architectures (batch 1, 224x224).

    python tools/make_traces.py

- resnet50.yaml, resnet18.yaml: torchvision's ResNet (v1.5: in a downsampling
  bottleneck the stride is on the 3x3 conv), BatchNorm folded into the convs,
  ReLU fused into the conv or add before it.
- mobilenetv2.yaml: torchvision's MobileNetV2 (width 1.0), ReLU6 as a fused ReLU,
  dropout left out.
Only the input image is declared; every other shape follows from the ops.
"""

from __future__ import annotations

from pathlib import Path

TRACES = Path(__file__).resolve().parent.parent / "traces"


class Net:
    def __init__(self, name: str, note: str):
        self.name, self.note, self.ops = name, note, []

    def _op(self, **fields) -> str:
        self.ops.append(fields)
        return fields["name"]

    def conv(self, name, x, cin, cout, k, stride=1, groups=1, relu=True):
        return self._op(name=name, kind="conv", input=x, output=name, kh=k, kw=k, stride=stride,
                        pad=k // 2, cin=cin, cout=cout, groups=groups, relu=relu)

    def add(self, name, a, b, relu):
        return self._op(name=name, kind="add", inputs=f"[{a}, {b}]", output=name, relu=relu)

    def pool(self, name, kind, x, k, stride=1, pad=0):
        return self._op(name=name, kind=kind, input=x, output=name, kh=k, kw=k, stride=stride, pad=pad)

    def gemm(self, name, x, out):
        return self._op(name=name, kind="gemm", input=x, output=name, out_features=out)

    def write(self) -> None:
        lines = [f"# {line}" for line in self.note.strip().splitlines()]
        lines += ["# Written by tools/make_traces.py; shapes are [N, H, W, C] in elements.",
                  f"name: {self.name}", "tensors:", "  image: [1, 224, 224, 3]", "ops:"]
        for op in self.ops:
            body = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in op.items())
            lines.append(f"  - {{{body}}}")
        (TRACES / f"{self.name}.yaml").write_text("\n".join(lines) + "\n")


def resnet(name: str, blocks: list[int], bottleneck: bool) -> Net:
    net = Net(name, f"{name}: torchvision ResNet at batch 1, 224x224 input, BatchNorm folded, ReLU fused.")
    x = net.conv("conv1", "image", 3, 64, 7, stride=2)
    x = net.pool("maxpool", "maxpool", x, 3, stride=2, pad=1)
    cin = 64
    for li, (width, n) in enumerate(zip((64, 128, 256, 512), blocks, strict=True), start=1):
        cout = width * 4 if bottleneck else width
        for b in range(n):
            stride = 2 if b == 0 and li > 1 else 1
            p = f"layer{li}.{b}"
            if bottleneck:
                y = net.conv(f"{p}.conv1", x, cin, width, 1)
                y = net.conv(f"{p}.conv2", y, width, width, 3, stride=stride)
                y = net.conv(f"{p}.conv3", y, width, cout, 1, relu=False)
            else:
                y = net.conv(f"{p}.conv1", x, cin, width, 3, stride=stride)
                y = net.conv(f"{p}.conv2", y, width, width, 3, relu=False)
            identity = x
            if stride != 1 or cin != cout:
                identity = net.conv(f"{p}.downsample", x, cin, cout, 1, stride=stride, relu=False)
            x = net.add(f"{p}.add", y, identity, relu=True)
            cin = cout
    x = net.pool("avgpool", "avgpool", x, 7)
    net.gemm("fc", x, 1000)
    return net


def mobilenetv2() -> Net:
    net = Net("mobilenetv2", "mobilenetv2: torchvision MobileNetV2 (width 1.0) at batch 1, 224x224 input,\n"
                             "BatchNorm folded, ReLU6 fused as ReLU, dropout left out.")
    x = net.conv("features.0", "image", 3, 32, 3, stride=2)
    cin, index = 32, 1
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{index}"
            hidden = cin * t
            y = net.conv(f"{p}.expand", x, cin, hidden, 1) if t != 1 else x
            y = net.conv(f"{p}.depthwise", y, hidden, hidden, 3, stride=stride, groups=hidden)
            y = net.conv(f"{p}.project", y, hidden, c, 1, relu=False)
            x = net.add(f"{p}.add", y, x, relu=False) if stride == 1 and cin == c else y
            cin, index = c, index + 1
    x = net.conv(f"features.{index}", x, cin, 1280, 1)
    x = net.pool("avgpool", "avgpool", x, 7)
    net.gemm("classifier", x, 1000)
    return net


def main() -> None:
    resnet("resnet50", [3, 4, 6, 3], bottleneck=True).write()
    resnet("resnet18", [2, 2, 2, 2], bottleneck=False).write()
    mobilenetv2().write()


if __name__ == "__main__":
    main()
