"""The notebooks are stored without outputs and run clean, top to bottom, in a fresh kernel."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import ROOT

NOTEBOOKS = ROOT / "notebooks"
EXPECT = {
    "quickstart": ["pipelined N=4: 127,754 cycles, 1.45x over serial", "stage 1 | conv1"],
    "config_exploration": [" 32x32 ", "127,754", "fastest: "],
    # as `accelsim sweep notebooks/resnet50_design_space.yaml` and `accelsim pareto` on its store print them
    "design_space": ["144 points (216 in the grid, 72 left out by where)",
                     "144 points, 7 on the front over total_cycles, energy_pj, area_mm2, 0 excluded",
                     "1,078,597", "5,126,836"],
    "schedule_walkthrough": ["21 ops, 7 stages, problems: []", "functional: matches the reference",
                             "op conv2: input x row 13 missing (halo)",
                             "y[0:1, 14:28, 0:56, 0:64] stored by op store2 (computed by op add2) differs",
                             "from the file: 127,754 cycles; from the scheduler: 127,754"],
}


def test_every_notebook_is_covered():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_notebook_is_stored_clean_and_runs(name):
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)        # stored without outputs
    # the kernel runs in notebooks/: this checkout first on its path, so it imports this accelsim
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": path}
    NotebookClient(book, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute(env=env)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for expected in EXPECT[name]:
        assert expected in text
    assert any("image/png" in o.get("data", {}) for o in outputs)       # its figure was drawn
