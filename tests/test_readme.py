"""The README stays true: CI runs its test command verbatim, and its figures are what runs give."""

from fractions import Fraction

from tests.helpers import ROOT


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if "pip install -e '.[test]'" in line)
    assert (ROOT / ".ci" / "run").read_text().splitlines()[-1] == command


def _levers_table():
    """tools/levers_table.py, imported from its file (tools/ is no package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("levers_table", ROOT / "tools" / "levers_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_levers_table_is_what_the_tool_prints_now():
    """Every row of the README's sparsity / pruning / Winograd table is what a run gives today
    (3 s): a changed model changes the README with it."""
    readme = (ROOT / "README.md").read_text()
    tool = _levers_table()
    for name in ("resnet50", "mobilenetv2"):
        for row in tool.rows("default", name):
            assert "| " + " | ".join(row) + " |" in readme, row


PIXELS, PARTS, FOLDS = 56 * 56, 7, 28     # layer1.0.conv2: 7 parts of 448 pixels, 14 x 2 folds a part
"""ResNet-50's layer1.0.conv2 on `default`: 3x3, 56x56x64 -> 64, output-stationary 32x32 array."""


def _layer(options: dict, weight: str = "layer1.0.conv2.weight", pruned: bool = False):
    """layer1.0.conv2 in a pipelined ResNet-50 run: (its busy cycles per unit, the bytes loaded
    of tensor `weight`, the MACs its energy prices, in pJ, its LayerStats)."""
    from accelsim import load_hw, load_workload, simulate
    from accelsim.options import RunOptions
    from accelsim.prune import prune, random_norms

    wl = load_workload("resnet50")
    if pruned:
        wl = prune(wl, "0.3", random_norms(wl, 0, "int8")).pruned
    result = simulate(load_hw("default"), wl, options=RunOptions(schedule="pipelined", **options))
    (layer,) = [s for s in result.layers() if s.name == "layer1.0.conv2"]
    schedule = result.schedule_run
    assert schedule is not None and layer.energy_breakdown_pj is not None
    loaded = sum(rec.bytes for op, rec in zip(schedule.ops, result.ops, strict=True)
                 if op.kind == "load" and op.reads[0].tensor == weight)
    busy = {unit: stats.busy_cycles for unit, stats in layer.units.items()}
    return busy, loaded, layer.energy_breakdown_pj["mac"], layer


# mapping: (options, pruned?, kept K a filter, filters, weight bytes by hand)
BY_HAND = {
    "dense": ({}, False, 576, 64, 64 * 576),
    "2:4": ({"weight_sparsity": "2:4"}, False, 288, 64, 64 * (144 * 2 + 144 * 2 * 2 // 8)),
    "density 0.5": ({"activation_density": "0.5"}, False, 288, 64, 64 * 576),
    "pruned 30%": ({}, True, 9 * 45, 45, 45 * 9 * 45),
}


def test_the_readme_layer_table_by_hand():
    """The README's one-layer table: the array runs a part in `28 K + 62` cycles (28 folds of
    T = K, overlapped: K + 62 + 27 K), 7 parts; weights from DRAM as stored (2:4: per filter
    144 groups of 2 int8 values and 2 two-bit indices); MACs the array performs, 0.3 pJ each."""
    readme = (ROOT / "README.md").read_text()
    for label, (options, pruned, k, filters, weight_bytes) in BY_HAND.items():
        busy, weights, mac_pj, layer = _layer(options, pruned=pruned)
        macs = PIXELS * k * filters
        assert busy["conv"] == PARTS * (FOLDS * k + 62), label
        assert weights == weight_bytes, label
        assert mac_pj == macs * Fraction(3, 10), label
        row = (f"| {label} | {k} | {busy['conv']:,} | {weights:,} | {macs:,} | {macs * 3 / 10 / 1e6:.2f} | "
               f"{layer.cycles:,} | {float(layer.energy_pj) / 1e6:.1f} |")
        assert row in readme, row


TILES, WG_PARTS = 28 * 28, 14            # 2x2-output tiles, 14 parts of 56 tiles
WINOGRAD = {                             # label: (options, weights loaded, bytes by hand, wgw cycles)
    "Winograd, weights on chip": ({"winograd": True}, "layer1.0.conv2.weight", 64 * 9 * 64,
                                  64 * 64 * 42 // 32 + 4),
    "Winograd, weights offline": ({"winograd": True, "winograd_weights": "dram"}, "layer1.0.conv2.wg_weight",
                                  64 * 16 * 64 * 2, 0),
}


def test_the_readme_winograd_rows_by_hand():
    """A part's 16 GEMMs (56 x 64) @ (64 x 64): 2 x 2 folds each of T = 64, overlapped
    64 + 62 + 63 x 64; its input transform 56 x 64 x 32 lane operations, its output transform
    56 x 64 x 24 plus a requantization per output (224 x 64), on 32 lanes after 4 cycles of
    latency; the weight transform 64 x 64 x 42; U' at int16, MACs priced at int16 (0.9 pJ)."""
    readme = (ROOT / "README.md").read_text()
    gemm, wgin, wgout = 64 + 62 + 63 * 64, 56 * 64 * 32 // 32 + 4, (56 * 64 * 24 + 224 * 64) // 32 + 4
    macs = 16 * TILES * 64 * 64
    for label, (options, tensor, weight_bytes, wgw) in WINOGRAD.items():
        busy, weights, mac_pj, layer = _layer(options, tensor)
        assert busy["conv"] == WG_PARTS * gemm, label
        assert busy["add"] == WG_PARTS * (wgin + wgout) + wgw, label
        assert weights == weight_bytes, label
        assert mac_pj == macs * Fraction(9, 10), label
        row = (f"| {label} | {busy['conv']:,} | {busy['add']:,} | {weights:,} | {macs:,} | "
               f"{macs * 9 / 10 / 1e6:.2f} | {layer.cycles:,} | "
               f"{layer.dram_read_bytes + layer.dram_write_bytes:,} | {float(layer.energy_pj) / 1e6:.1f} |")
        assert row in readme, row
