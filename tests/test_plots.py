"""Each picture has the axes, labels and marks it promises (checked on the matplotlib objects)."""

import pytest
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from accelsim import hw_from_dict, load_hw, load_workload, plots, simulate
from accelsim.errors import ConfigError
from accelsim.timeline import stages
from tests.helpers import BLOCK, DEFAULT_HW, ROOT, hw_data


@pytest.fixture(scope="module")
def hw():
    return load_hw(DEFAULT_HW)


@pytest.fixture(scope="module")
def block(hw):
    return simulate(hw, load_workload(BLOCK), "pipelined", 4)


@pytest.fixture(scope="module")
def net(hw):
    return simulate(hw, load_workload(ROOT / "traces" / "resnet18.yaml"))


def bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 1 and p.get_width() >= 0]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_pipeline_diagram_of_the_n4_block(block):
    fig = plots.pipeline(block, serial_cycles=184_718)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["DMA in", "conv", "add", "DMA out"]
    assert ax.get_xlabel() == "time (cycles)"
    assert ax.child_axes[0].get_xlabel() == "time (µs at 1000 MHz)"        # the secondary axis
    assert ax.get_title() == ("resnet50_convadd: pipelined, N=4, 127,754 cycles (127.8 µs), "
                              "1.45x over serial (184,718)")
    assert len(bars(ax)) == len(block.ops)
    assert {"conv1", "conv2", "conv3", "conv4", "store1"} <= set(texts(ax))
    barriers = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert sorted(line.get_xdata()[0] for line in barriers) == [s.close + s.barrier for s in stages(block)]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["odd stages (shaded)", "barrier", "shared (weights)", "tiles 1..4 (one colour each)"]


@pytest.mark.parametrize("splits", [2, 64])
def test_labels_give_way_to_colour_when_bars_get_thin(hw, splits):
    wl = load_workload(BLOCK)
    r = simulate(hw, wl, "pipelined", min(splits, 56))
    fig = plots.pipeline(r)
    ax = fig.axes[0]
    assert len(bars(ax)) == len(r.ops)
    if splits == 2:
        assert {"conv1", "conv2", "load_x1", "load_x2", "store1", "store2"} <= set(texts(ax))
    else:
        assert len(texts(ax)) < len(r.ops) / 2            # most bars too thin for a label
        assert len({tuple(b.get_facecolor()) for b in bars(ax)}) >= 20       # but coloured by tile


def test_network_pipeline_has_layer_bands_and_zooms_to_a_layer(net):
    fig = plots.pipeline(net, layer="layer1.0.conv2+layer1.0.add")
    ax = fig.axes[0]
    layers = {d.name: d for d in net.layers()}
    lo, hi = ax.get_xlim()
    start, end = layers["layer1.0.conv2+layer1.0.add"].start, layers["layer1.0.conv2+layer1.0.add"].end
    assert lo <= start and end <= hi and hi - lo < 1.1 * (end - start)
    assert "layer1.0.conv2+layer1.0.add" in texts(ax)
    assert "showing layer1.0.conv2+layer1.0.add" in ax.get_title()
    with pytest.raises(ConfigError, match="no layer 'nope' in this run; layers: conv1, maxpool"):
        plots.pipeline(net, layer="nope")
    fig = plots.pipeline(net, zoom=(0, 50_000))
    assert fig.axes[0].get_xlim() == (0, 50_000)


def test_utilization_timelines(net):
    fig = plots.utilization(net, count=50)
    ax_u, ax_d, ax_s = fig.axes[:3]
    assert ax_u.get_ylabel() == "unit busy (%)" and ax_d.get_ylabel() == "DRAM (bytes/cycle)"
    assert ax_s.get_ylabel() == "SRAM per window (KiB)" and ax_s.get_xlabel() == "time (cycles)"
    assert [t.get_text() for t in ax_u.get_legend().get_texts()] == [
        f"{u} ({net.units[u].utilization:.1%} overall)" for u in ("conv", "add", "dma")]
    available = [line for line in ax_d.lines if isinstance(line, Line2D)]
    assert available[0].get_ydata()[0] == 16.0
    sizes = sorted(line.get_ydata()[0] for line in ax_s.lines)
    assert sizes == [256.0, 512.0, 512.0]                 # KiB: weight, ifmap, ofmap


def test_layers_chart_splits_each_layers_cycles(net):
    fig = plots.layers(net)
    ax = fig.axes[0]
    layers = net.layers()
    assert [t.get_text() for t in ax.get_yticklabels()] == [d.name for d in layers]
    assert len(bars(ax)) == 3 * len(layers)
    widths = [b.get_width() for b in bars(ax)]
    n = len(layers)
    for k, d in enumerate(layers):                         # compute + memory + barrier = the layer's split
        assert widths[k] + widths[n + k] + widths[2 * n + k] == sum(d.time_split.values())
    assert [t.get_text().split(" (")[0] for t in fig.legends[0].get_texts()] == [
        "compute", "memory stall", "barrier wait"]


def test_roofline_places_every_layer_with_macs(net):
    fig = plots.roofline(net)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "operational intensity (MACs per DRAM byte)"
    assert ax.get_ylabel() == "performance (MACs per cycle)"
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == sum(1 for d in net.layers() if d.macs)
    assert "ridge at 64 MACs/byte" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_skipping_run_is_placed_by_the_macs_the_array_performs(hw):
    """The block at 1:4 weights and density 0.25: the array performs K' = 576 / 4 x 0.25 = 36 of
    each output's 576 products, 3,136 x 36 x 64 = 7,225,344 MACs, not the 115,605,504 dense ones
    (which over the run's cycles would sit above the 1,024-PE peak)."""
    from accelsim.options import RunOptions

    run = simulate(hw, load_workload(BLOCK), "pipelined",
                   options=RunOptions(weight_sparsity="1:4", activation_density="0.25"))
    layer = run.overall()
    assert (layer.macs, layer.array_macs) == (115_605_504, 7_225_344)
    assert layer.macs / layer.cycles > 1024
    (x, y), = [tuple(p) for c in plots.roofline(run).axes[0].collections for p in c.get_offsets()]
    assert (x, y) == (7_225_344 / layer.dram_bytes, 7_225_344 / layer.cycles) and y <= 1024


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_saved_pictures_are_byte_identical_run_to_run(block, tmp_path, suffix):
    a, b = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    plots.save(plots.pipeline(block), a)
    plots.save(plots.pipeline(block), b)
    assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 10_000
    with pytest.raises(ConfigError, match=r"write a \.png or \.svg picture"):
        plots.save(plots.pipeline(block), tmp_path / "c.pdf")


def test_zoom_after_the_run_ends_is_an_error(block):
    with pytest.raises(ConfigError, match=r"^zoom range 10{30}:10{31} starts after the run ends "
                                          r"\(at cycle 127,754\)$".replace("10{30}", f"{10**30:,}")
                                          .replace("10{31}", f"{10**31:,}")):
        plots.pipeline(block, zoom=(10**30, 10**31))
    ax = plots.pipeline(block, zoom=(127_000, 10**30)).axes[0]      # the end is cut at the run's end
    assert ax.get_xlim() == (127_000, 127_754)


def test_windows_are_bounded_by_the_pixels_and_the_cycles(block):
    # 127,754 cycles in at most 12 in x 150 dpi = 1,800 windows: ceil(127,754 / 1,800) = 71 cycles each
    title = plots.utilization(block, count=10**9).axes[0].get_title()
    assert title.endswith("; windows of 71 cycles")
    assert plots.utilization(block, count=1000).axes[0].get_title().endswith("; windows of 128 cycles")


def test_every_picture_draws_at_the_hardware_bounds(tmp_path):
    from tests.helpers import hw as changed_hw

    slowest = changed_hw(clock_mhz=0.001, barrier_cycles=10**9, dram__latency_cycles=10**9,
                         dram__channel_bytes_per_cycle=0.001, add_unit__latency_cycles=10**9,
                         sram__ifmap__bytes_per_cycle=0.001)
    r = simulate(slowest, load_workload(BLOCK), "pipelined", 4)
    for kind in plots.KINDS:
        fig = plots.figure(r, kind)
        plots.save(fig, tmp_path / f"{kind}.png")
        assert (tmp_path / f"{kind}.png").stat().st_size > 0
    assert plots.pipeline(r).axes[0].child_axes[0].get_xlabel() == "time (µs at 0.001 MHz)"
    assert plots.pipeline(r).axes[0].get_xlim() == (0, r.total_cycles)


def test_plot_cli_refuses_a_zoom_after_the_run_and_bounds_the_windows(capsys, tmp_path):
    from accelsim.cli import main

    out = tmp_path / "p.png"
    assert main(["plot", str(DEFAULT_HW), str(BLOCK), "--zoom", f"{10**30}:{10**31}", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (f"accelsim: error: zoom range {10**30:,}:{10**31:,} starts after the "
                                       "run ends (at cycle 127,754)\n")
    assert main(["plot", str(DEFAULT_HW), str(BLOCK), "--kind", "utilization", "--windows", str(10**9),
                 "-o", str(out)]) == 0
    assert out.stat().st_size > 0


def test_energy_chart_stacks_each_layers_energy_by_action(net):
    fig = plots.figure(net, "energy")
    ax = fig.axes[0]
    layers = net.layers()
    assert [t.get_text() for t in ax.get_yticklabels()] == [d.name for d in layers]
    assert len(bars(ax)) == 5 * len(layers)
    widths = [b.get_width() for b in bars(ax)]
    n = len(layers)
    for k, d in enumerate(layers):                          # mac + sram + dram + add + static, uJ
        assert sum(widths[a * n + k] for a in range(5)) == pytest.approx(float(d.energy_pj) / 1e6, rel=1e-12)
    assert [t.get_text().split(" (")[0] for t in fig.legends[0].get_texts()] == [
        "mac", "sram", "dram", "add", "static"]
    assert ax.get_xlabel() == "energy (µJ)" and f"{float(net.energy_pj) / 1e6:,.1f} µJ" in ax.get_title()


def test_energy_chart_without_an_energy_table_is_an_error_naming_the_key():
    data = hw_data()
    del data["energy"]
    result = simulate(hw_from_dict(data), load_workload(BLOCK), "pipelined")
    with pytest.raises(ConfigError, match=r"no energy table.*`energy`"):
        plots.figure(result, "energy")


def test_every_picture_draws_a_winograd_run(hw):
    from accelsim.options import RunOptions
    wl = load_workload(ROOT / "traces" / "resnet18.yaml")
    run = simulate(hw, wl, options=RunOptions(winograd=True))
    for kind in ("pipeline", "utilization", "layers", "energy", "roofline"):
        assert plots.figure(run, kind).axes
    legend = [t.get_text() for t in plots.roofline(run).axes[0].get_legend().get_texts()]
    assert "winograd layers (13)" in legend          # ResNet-18's 3x3 stride-1 convs
    rows = {(r.kind, r.unit) for r in run.ops if r.kind in ("wgin", "wgout", "wgw")}
    assert rows == {("wgin", "add"), ("wgout", "add"), ("wgw", "add")}     # the weights transformed on chip
