"""The public API: every exported name resolves, heavy ones on first use; RunOptions."""

import json
import subprocess
import sys

import pytest

import accelsim
from accelsim import RunOptions, compare_schedules, load_hw, load_workload, simulate
from accelsim.engine.machine import SYNC_MODES
from accelsim.scheduler import SCHEDULES
from tests.helpers import BLOCK, DEFAULT_HW, ROOT

HEAVY = ("matplotlib", "numpy", "vcd", "onnx", "accelsim.functional", "accelsim.plots", "accelsim.export")


def test_every_exported_name_resolves():
    for name in accelsim.__all__:
        assert getattr(accelsim, name) is not None, name
    assert set(accelsim.__all__) <= set(dir(accelsim))
    assert accelsim.validate_schedule is accelsim.validate.validate      # the module keeps its name
    assert accelsim.save_figure is accelsim.plots.save
    with pytest.raises(AttributeError):
        accelsim.no_such_name  # noqa: B018


def test_import_accelsim_leaves_the_heavy_names_until_used():
    code = ("import json, sys\nimport accelsim\nbefore = sorted(sys.modules)\n"
            "from accelsim import plots\naccelsim.functional_check\n"
            "print(json.dumps([before, sorted(sys.modules)]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    before, after = json.loads(proc.stdout)
    assert [m for m in before if m.startswith(HEAVY)] == []
    assert {"matplotlib", "numpy", "accelsim.plots", "accelsim.functional"} <= set(after)


def test_run_options_hold_the_defaults_and_choices():
    o = RunOptions()
    assert (o.schedule, o.splits, o.sync, dict(o.parts)) == ("pipelined", None, "barrier", {})
    assert (o.fuse_depth, o.halo) == (None, "cache")
    fields = {f.name: f for f in RunOptions.__dataclass_fields__.values()}
    assert fields["schedule"].metadata["choices"] == (*SCHEDULES, "depthfirst")
    assert fields["halo"].metadata["choices"] == ("cache", "recompute")
    assert fields["sync"].metadata["choices"] == SYNC_MODES
    assert all(f.metadata["help"] for f in fields.values())
    assert RunOptions(parts=[("a", 2)]) == RunOptions(parts={"a": 2})
    assert hash(RunOptions(parts={"a": 2})) == hash(RunOptions())
    with pytest.raises(TypeError):
        RunOptions(parts={"a": 2}).parts["a"] = 3


def test_simulate_takes_options_or_keywords_not_both():
    hw, block = load_hw(DEFAULT_HW), load_workload(BLOCK)
    keywords = simulate(hw, block, "fused", 2, sync="deps")
    options = simulate(hw, block, options=RunOptions("fused", 2, "deps"))
    assert options.to_json() == keywords.to_json()
    with pytest.raises(TypeError, match="not both"):
        simulate(hw, block, "serial", options=RunOptions())


def test_compare_schedules_runs_every_kind_serial_first():
    hw, block = load_hw(DEFAULT_HW), load_workload(BLOCK)
    results, failed = compare_schedules(hw, block, 4)
    assert failed == {}
    assert [r.schedule for r in results] == list(SCHEDULES)
    assert [r.total_cycles for r in results] == [simulate(hw, block, kind, 4).total_cycles
                                                 for kind in SCHEDULES]
    assert compare_schedules(hw, block, options=RunOptions(splits=4))[0][-1].total_cycles == 127_754
