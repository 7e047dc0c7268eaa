"""accelsim: a discrete-event simulator of a deep-learning ASIC with fused ConvAdd.

`import accelsim` imports what simulating needs; the rest of the public names (schedule
files and their checks, and `plots`, `figure`, `save_figure` and `functional_check`,
which need matplotlib or numpy) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from accelsim.engine.machine import run_schedule
from accelsim.errors import AccelsimError, ConfigError, ScheduleError, SimulationError
from accelsim.hw import Hardware, hw_from_dict, load_hw
from accelsim.options import RunOptions
from accelsim.report import pipeline_text, results_table
from accelsim.result import Result
from accelsim.simulation import compare_schedules, make_schedule, simulate
from accelsim.workload import Workload, load_workload, workload_from_dict

if TYPE_CHECKING:
    from accelsim import plots
    from accelsim.functional import check as functional_check
    from accelsim.plots import figure
    from accelsim.plots import save as save_figure
    from accelsim.schedule_file import dump_schedule, read_schedule, schedule_from_text
    from accelsim.validate import checked_schedule
    from accelsim.validate import validate as validate_schedule

__version__ = "0.1.0"

__all__ = [
    "AccelsimError",
    "ConfigError",
    "Hardware",
    "Result",
    "RunOptions",
    "ScheduleError",
    "SimulationError",
    "Workload",
    "checked_schedule",
    "compare_schedules",
    "dump_schedule",
    "figure",
    "functional_check",
    "hw_from_dict",
    "load_hw",
    "load_workload",
    "make_schedule",
    "pipeline_text",
    "plots",
    "read_schedule",
    "results_table",
    "run_schedule",
    "save_figure",
    "schedule_from_text",
    "simulate",
    "validate_schedule",
    "workload_from_dict",
]

_LAZY = {
    "plots": ("accelsim.plots", None),
    "figure": ("accelsim.plots", "figure"),
    "save_figure": ("accelsim.plots", "save"),
    "functional_check": ("accelsim.functional", "check"),
    "dump_schedule": ("accelsim.schedule_file", "dump_schedule"),
    "read_schedule": ("accelsim.schedule_file", "read_schedule"),
    "schedule_from_text": ("accelsim.schedule_file", "schedule_from_text"),
    "checked_schedule": ("accelsim.validate", "checked_schedule"),
    "validate_schedule": ("accelsim.validate", "validate"),
}
"""Public name -> (module, attribute in it, or None for the module itself), imported on first use."""


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    if attribute:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
