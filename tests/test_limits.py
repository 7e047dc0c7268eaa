"""Size limits: absurd workloads are refused before a schedule is built or an array allocated,
with what is too big and by how much; the estimates are lower (ops) or upper (memory) bounds
of what a run really builds or holds."""

import time
import tracemalloc

import pytest

from accelsim import load_hw, load_workload, make_schedule, workload_from_dict
from accelsim.cli import main
from accelsim.errors import LimitError
from accelsim.functional import check, numpy_dtype
from accelsim.limits import MAX_OPS, fewest_tiles, functional_bytes
from accelsim.scheduler.network import SCHEDULES
from tests.helpers import BLOCK, DEFAULT_HW, ROOT, hw


def conv_trace(h: int, w: int, cin: int, cout: int, pad: int = 1) -> str:
    ho, wo = h + 2 * pad - 2, w + 2 * pad - 2
    return (f"name: big\ntensors:\n  x: [1, {h}, {w}, {cin}]\n  y: [1, {ho}, {wo}, {cout}]\nops:\n"
            f"  - {{name: c, kind: conv, input: x, output: y, kh: 3, kw: 3, pad: {pad}, cin: {cin}, "
            f"cout: {cout}}}\n")


def run_cli(capsys, tmp_path, trace: str, *extra) -> tuple[int, str, float]:
    path = tmp_path / "big.yaml"
    path.write_text(trace)
    start = time.perf_counter()
    code = main(["run", str(DEFAULT_HW), str(path), *map(str, extra)])
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert out == ""
    return code, err, seconds


# ofmap buffer: 524,288 bytes; weight buffer: 262,144 bytes; int8
@pytest.mark.parametrize("trace, least, why", [
    # 1,000,000 x 1,000,000 x 64 output bytes / 524,288 = 122,070,312.5
    (conv_trace(10**6, 10**6, 64, 64), 122_070_313,
     "64,000,000,000,000 output bytes over the 524,288-byte ofmap buffer"),
    # 56 x 56 x 10^9 = 3,136,000,000,000 output bytes / 524,288 = 5,981,445.3 (the weights,
    # 10^9 x 3 x 3 x 64 bytes, take only 2,197,266 chunks)
    (conv_trace(56, 56, 64, 10**9), 5_981_446,
     "3,136,000,000,000 output bytes over the 524,288-byte ofmap buffer"),
    # pad 10^6 around 8 x 8: a 2,000,006 x 2,000,006 x 64 output, / 524,288 = 488,284,179.7
    (conv_trace(8, 8, 64, 64, pad=10**6), 488_284_180,
     "256,001,536,002,304 output bytes over the 524,288-byte ofmap buffer"),
])
def test_absurd_convs_are_refused_before_scheduling(capsys, tmp_path, trace, least, why):
    code, err, seconds = run_cli(capsys, tmp_path, trace)
    assert code == 2 and seconds < 10  # a hang guard (before: minutes), not a speed test
    assert err == (f"accelsim: error: workload 'big': the serial schedule would have at least {least:,} ops, "
                   f"{least / MAX_OPS:,.1f}x the limit of {MAX_OPS:,} (op 'c' alone takes {least:,} tiles: "
                   f"{why}); raise the limit with --max-ops\n")


def test_a_million_row_parts_are_refused_before_they_are_built(capsys, tmp_path):
    trace = ("name: big\ntensors:\n  x: [1, 1000000, 8, 8]\nops:\n"
             "  - {name: c, kind: conv, input: x, output: y, kh: 1, kw: 1, cin: 8, cout: 8}\n")
    code, err, seconds = run_cli(capsys, tmp_path, trace, "--splits", 10**6, "--schedule", "pipelined")
    assert code == 2 and seconds < 10  # a hang guard (before: minutes), not a speed test
    assert err == ("accelsim: error: workload 'big': the pipelined schedule would have at least "
                   "1,000,000 ops, 10.0x the limit of 100,000 (op 'c' alone takes 1,000,000 tiles: "
                   "1,000,000 row parts asked for); raise the limit with --max-ops\n")


def test_max_ops_is_checked_on_the_estimate_then_on_the_schedule_built(capsys):
    # the block in 56 row parts: 56 convs and 56 adds at least; pipelined, with loads and stores, 281 ops
    assert len(make_schedule(load_hw(DEFAULT_HW), load_workload(BLOCK), "pipelined", 56).ops) == 281
    args = ["run", str(DEFAULT_HW), str(BLOCK), "--schedule", "pipelined", "--splits", "56", "--max-ops"]
    assert main([*args, "111"]) == 2
    assert capsys.readouterr().err == (
        "accelsim: error: workload 'resnet50_convadd': the pipelined schedule would have at least 112 ops, "
        "1.0x the limit of 111 (op 'conv' alone takes 56 tiles: 56 row parts asked for); raise the limit "
        "with --max-ops\n")
    assert main([*args, "280"]) == 2
    assert capsys.readouterr().err == (
        "accelsim: error: workload 'resnet50_convadd': the pipelined schedule has 281 ops, 1.0x the limit "
        "of 280; raise the limit with --max-ops\n")
    assert main([*args, "281"]) == 0
    assert capsys.readouterr().out.splitlines()[3].split()[:4] == ["pipelined", "56", "56", "136,586"]


@pytest.mark.parametrize("kind", SCHEDULES)
def test_fewest_tiles_never_exceed_the_compute_ops_built(kind):
    wl, h = load_workload(ROOT / "traces" / "resnet50.yaml"), hw(sram__ofmap__size_bytes=65536)
    least = sum(fewest_tiles(op, wl, h).tiles for op in wl.ops)
    built = sum(op.kind in ("conv", "add", "pool") for op in make_schedule(h, wl, kind).ops)
    assert least >= len(wl.ops) and least <= built
    # 56 x 56 x 256 output bytes over a 65,536-byte ofmap buffer: 12.25
    conv3 = next(op for op in wl.ops if op.name == "layer1.0.conv3")
    assert fewest_tiles(conv3, wl, h).tiles == 13


def test_functional_memory_is_refused_before_scheduling(capsys, tmp_path):
    # x and y 2048 x 2048 x 64 = 268,435,456 elements each, weights 36,864: held three times at 4 bytes,
    # 12 x 536,907,776 = 6,442,893,312; the conv's working arrays 8 x (x + 4 y) = 10,737,418,240
    code, err, seconds = run_cli(capsys, tmp_path, conv_trace(2048, 2048, 64, 64), "--functional")
    assert code == 2 and seconds < 10  # a hang guard (before: minutes), not a speed test
    assert err == ("accelsim: error: workload 'big': the functional check (int8) would need about "
                   "17,180,311,552 bytes of memory, 4.0x the limit of 4,294,967,296; raise the limit with "
                   "--max-functional-bytes\n")


@pytest.mark.parametrize("dtype", ["int8", "int16", "fp16", "bf16", "fp32"])
def test_functional_estimate_covers_what_the_check_holds(dtype):
    wl = workload_from_dict({"name": "m", "tensors": {"x": [1, 48, 48, 32]}, "ops": [
        {"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": 3, "kw": 3, "pad": 1, "cin": 32,
         "cout": 32}]})
    h = load_hw(DEFAULT_HW)
    schedule = make_schedule(h, wl, "pipelined")
    numpy_dtype(dtype)                  # bf16: import ml_dtypes first (its module is not the check's data)
    tracemalloc.start()
    try:
        assert check(schedule, wl, dtype, 0, h.sram_capacity()).ok
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = functional_bytes(wl, dtype)
    assert peak <= estimate <= 2 * peak
    with pytest.raises(LimitError, match=r"raise the limit with --max-functional-bytes$"):
        check(schedule, wl, dtype, 0, h.sram_capacity(), max_bytes=estimate - 1)
